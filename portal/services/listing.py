"""What a customer may see, and the customer's list of requests.

``customer_scope`` is THE condition for every customer-side query on service requests (list,
detail, files, prints…): a request outside it does not exist for that viewer (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal.domain.vocabulary import Status
from portal.models import Account, Organisation, ServiceRequest


class Scope(StrEnum):
    MINE = "mine"  # requests where the viewer is the contact
    ORG = "org"  # everything of the organisation the viewer may see (org admins, colleagues)


def _colleagues_may_view(organisation_id: int) -> ColumnElement[bool]:
    """SQL condition: this organisation lets its contacts see their colleagues' requests."""
    return exists().where(
        Organisation.id == organisation_id, Organisation.colleagues_may_view.is_(True)
    )


def customer_scope(viewer, scope: Scope | str = Scope.ORG) -> ColumnElement[bool]:
    """SQL condition on ``ServiceRequest``: the requests this customer account may see.

    ``Scope.ORG`` is "all I may see": the whole organisation for an organisation admin, and for
    a plain contact whose organisation has ``colleagues_may_view``; own requests for any other
    contact. ``Scope.MINE`` narrows to requests where the viewer is the contact (an agent's
    registration on the contact's behalf has the same contact_id).
    Anything that is not an active customer of an organisation sees nothing.
    """
    if getattr(viewer, "kind", None) != "customer" or viewer.organisation_id is None:
        return false()
    same_org = ServiceRequest.organisation_id == viewer.organisation_id
    own = ServiceRequest.contact_id == viewer.id
    if Scope(scope) is Scope.ORG:
        if viewer.is_org_admin:
            return same_org
        return and_(same_org, or_(own, _colleagues_may_view(viewer.organisation_id)))
    return and_(same_org, own)


def sees_organisation(session: Session, viewer) -> bool:
    """Whether the viewer may list the whole organisation's requests (the "My organisation"
    choice): organisation admins, and contacts of an organisation with colleagues_may_view."""
    if getattr(viewer, "kind", None) != "customer" or viewer.organisation_id is None:
        return False
    if viewer.is_org_admin:
        return True
    return bool(
        session.scalar(
            select(Organisation.colleagues_may_view).where(
                Organisation.id == viewer.organisation_id
            )
        )
    )


def effective_scope(viewer, requested: str | None, org_view: bool | None = None) -> Scope:
    """Org scope only for those who may see the organisation (``org_view``; by default the
    organisation admins) and ask for it; everyone else sees their own."""
    if org_view is None:
        org_view = bool(getattr(viewer, "is_org_admin", False))
    if requested == Scope.ORG and org_view:
        return Scope.ORG
    return Scope.MINE


# The tabs of "My requests", in the lifecycle's order.
TAB_STATUSES: tuple[Status, ...] = (
    Status.SUBMITTED,
    Status.PENDING_ASSIGNMENT,
    Status.IN_PROGRESS,
    Status.AWAITING_CUSTOMER,
    Status.PENDING_ACCEPTANCE,
    Status.COMPLETED,
    Status.CLOSED,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the last row shown, by (updated_at desc, id desc)."""

    updated_at: datetime
    id: int

    def encode(self) -> str:
        micros = (self.updated_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """None for a missing or malformed token (the first page)."""
        if not token:
            return None
        try:
            micros, ident = token.split("_", 1)
            return cls(_EPOCH + timedelta(microseconds=int(micros)), int(ident))
        except (ValueError, OverflowError):
            return None


@dataclass(frozen=True)
class RequestRow:
    """One row of the customer's list (only the columns the list shows)."""

    id: int
    number: str
    title: str
    type: str
    status: str
    priority: str | None
    proposed_urgency: str
    organisation_id: int
    contact_id: int
    contact_name: str
    contact_phone: str | None
    contact_email: str | None
    handler_id: int | None
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_at: datetime | None
    paused_since: datetime | None
    updated_at: datetime


@dataclass
class RequestPage:
    rows: list[RequestRow]
    next_cursor: Cursor | None
    counts: dict[str, int]
    handler_names: dict[int, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


_ROW_COLUMNS = [getattr(ServiceRequest, name) for name in RequestRow.__dataclass_fields__]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(q: str) -> ColumnElement[bool] | None:
    """By number (whole or part, any case) or by words of the title."""
    q = (q or "").strip()
    if not q:
        return None
    pattern = f"%{_escape_like(q)}%"
    return or_(
        ServiceRequest.number.ilike(pattern, escape="\\"),
        ServiceRequest.title.ilike(pattern, escape="\\"),
    )


def customer_requests(
    session: Session,
    viewer,
    *,
    scope: Scope,
    status: str | None = None,
    q: str = "",
    after: Cursor | None = None,
    page_size: int = 50,
) -> RequestPage:
    """One page of the viewer's requests and the counts per status: three queries at most
    (counts, page, names of the page's handlers), whatever the number of rows."""
    where = [customer_scope(viewer, scope)]
    found = search_clause(q)
    if found is not None:
        where.append(found)

    counts = {
        st: n
        for st, n in session.execute(
            select(ServiceRequest.status, func.count())
            .where(*where)
            .group_by(ServiceRequest.status)
        )
    }

    page_where = list(where)
    if status:
        page_where.append(ServiceRequest.status == status)
    if after is not None:
        page_where.append(
            or_(
                ServiceRequest.updated_at < after.updated_at,
                and_(ServiceRequest.updated_at == after.updated_at, ServiceRequest.id < after.id),
            )
        )
    result = session.execute(
        select(*_ROW_COLUMNS)
        .where(*page_where)
        .order_by(ServiceRequest.updated_at.desc(), ServiceRequest.id.desc())
        .limit(page_size + 1)
    )
    rows = [RequestRow(*r) for r in result]
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        next_cursor = Cursor(rows[-1].updated_at, rows[-1].id)

    return RequestPage(rows, next_cursor, counts, names_of(session, {r.handler_id for r in rows}))


def names_of(session: Session, account_ids: set[int | None]) -> dict[int, str]:
    """Names of these accounts only, in one query (none when there is nobody to name)."""
    ids = {i for i in account_ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Account.id, Account.name).where(Account.id.in_(ids))).all())


def customer_request(session: Session, viewer, number: str):
    """The request with this number if the viewer may see it, with its handler's name; else
    None. One query."""
    handler = aliased(Account)
    row = session.execute(
        select(ServiceRequest, handler.name)
        .outerjoin(handler, handler.id == ServiceRequest.handler_id)
        .where(ServiceRequest.number == number, customer_scope(viewer))
    ).first()
    return (row[0], row[1]) if row else None
