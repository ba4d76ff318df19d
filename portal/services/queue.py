"""The staff queue: saved views, filters, keyset pages and capped counts.

Every page is a fixed number of queries whatever its length: one for the page of rows, then
organisation names, handler names and the viewer's collaborator flags for those rows only.
Counts are separate from the page fetch and capped (a LIMITed subquery), never an exact count
over everything that matches.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, true, tuple_
from sqlalchemy.orm import Session, load_only

from portal.domain.vocabulary import OPEN_STATUSES, Status
from portal.models import Account, Collaborator, Organisation, ServiceRequest
from portal.services.organisations import search_clause

log = logging.getLogger(__name__)

SR = ServiceRequest

# ---------------------------------------------------------------------------------------------
# Saved views

VIEWS = (
    "mine",
    "unassigned",
    "awaiting_classification",
    "awaiting_customer",
    "pending_acceptance",
    "open",
    "closed",
    "all",
)
DEFAULT_VIEW = "open"
CLOSED_STATUSES = (Status.CLOSED, Status.CANCELLED)


def view_clause(view: str | None, viewer_id: int) -> ColumnElement[bool]:
    """The SQL condition of a saved view (None or an unknown name: no condition)."""
    if view == "mine":
        return SR.handler_id == viewer_id
    if view == "unassigned":
        return and_(SR.handler_id.is_(None), SR.status == Status.PENDING_ASSIGNMENT.value)
    if view == "awaiting_classification":
        return SR.status == Status.SUBMITTED.value
    if view == "awaiting_customer":
        return SR.status == Status.AWAITING_CUSTOMER.value
    if view == "pending_acceptance":
        return SR.status == Status.PENDING_ACCEPTANCE.value
    if view == "open":
        return SR.status.in_([s.value for s in OPEN_STATUSES])
    if view == "closed":
        return SR.status.in_([s.value for s in CLOSED_STATUSES])
    return true()  # "all"


GLOBAL_VIEWS = tuple(v for v in VIEWS if v != "mine")  # the same for every viewer


def _capped_counts(session: Session, views, viewer_id: int, cap: int) -> dict[str, int]:
    """One statement: a capped scalar subquery per view, so the cost is bounded by the cap and
    not by the size of the table."""
    columns = []
    for name in views:
        capped = select(SR.id).where(view_clause(name, viewer_id)).limit(cap + 1).subquery()
        columns.append(select(func.count()).select_from(capped).scalar_subquery().label(name))
    row = session.execute(select(*columns)).one()
    return {name: int(row._mapping[name]) for name in views}


def view_counts(
    session: Session, viewer_id: int, cap: int, cache=None, ttl: int = 30
) -> dict[str, int]:
    """How many requests each view holds, each counted to at most ``cap + 1`` rows.

    The views that are the same for everyone are kept in ``cache`` (a Redis client) for ``ttl``
    seconds under a key that changes whenever a request is added or updated (the newest id and
    update time, two index look-ups), so every staff page does not recount them; "mine" is
    counted for the viewer each time.
    """
    if cache is None:
        return _capped_counts(session, VIEWS, viewer_id, cap)
    newest_id, newest_update = session.execute(
        select(func.max(SR.id), func.max(SR.updated_at))
    ).one()
    stamp = newest_update.isoformat() if newest_update else "-"
    key = f"portal:queue-counts:{cap}:{newest_id}:{stamp}"
    counts: dict[str, int] | None = None
    try:
        raw = cache.get(key)
        if raw:
            counts = json.loads(raw)
    except Exception:  # a cache that is down costs speed, never the page
        counts = None
    if counts is None or set(counts) != set(GLOBAL_VIEWS):
        counts = _capped_counts(session, GLOBAL_VIEWS, viewer_id, cap)
        try:
            cache.set(key, json.dumps(counts), ex=ttl)
        except Exception:  # noqa: BLE001 - the cache is a saving, not a need
            log.debug("queue counts not cached", exc_info=True)
    counts.update(_capped_counts(session, ("mine",), viewer_id, cap))
    return {name: counts[name] for name in VIEWS}


# ---------------------------------------------------------------------------------------------
# Filters

NUMBER_PATTERN = re.compile(r"^SR-\d{8}-\d{3,}$", re.IGNORECASE)
NO_PRIORITY = "none"  # the priority filter's value for "not yet classified"


@dataclass(frozen=True)
class QueueFilters:
    view: str | None = DEFAULT_VIEW
    status: str | None = None
    priority: str | None = None  # P1/P2/P3 (confirmed) or NO_PRIORITY
    type: str | None = None
    organisation_id: int | None = None
    organisation: str | None = None  # words of an organisation's code or name
    handler_id: int | None = None
    channel: str | None = None
    mine: bool = False
    unassigned: bool = False
    text: str | None = None
    # further conditions from another page: the requests behind a report's number
    # (portal.services.reports.drill)
    where: tuple[ColumnElement[bool], ...] = ()


def filter_clauses(filters: QueueFilters, viewer_id: int) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = list(filters.where)
    if filters.view in VIEWS:
        clauses.append(view_clause(filters.view, viewer_id))
    if filters.status:
        clauses.append(SR.status == filters.status)
    if filters.priority == NO_PRIORITY:
        clauses.append(SR.priority.is_(None))
    elif filters.priority:
        clauses.append(SR.priority == filters.priority)
    if filters.type:
        clauses.append(SR.type == filters.type)
    if filters.organisation_id:
        clauses.append(SR.organisation_id == filters.organisation_id)
    org_clause = search_clause(filters.organisation)
    if org_clause is not None:
        # a subquery of the same statement: the page costs no query more
        clauses.append(SR.organisation_id.in_(select(Organisation.id).where(org_clause)))
    if filters.handler_id:
        clauses.append(SR.handler_id == filters.handler_id)
    if filters.channel:
        clauses.append(SR.channel == filters.channel)
    if filters.mine:
        clauses.append(SR.handler_id == viewer_id)
    if filters.unassigned:
        clauses.append(SR.handler_id.is_(None))
    text = (filters.text or "").strip()
    if text:
        from portal.services.privacy import contact_search_clause

        # a phone number or an e-mail matches only requests whose contact the viewer may see
        contact = None if NUMBER_PATTERN.match(text) else contact_search_clause(text, viewer_id)
        if NUMBER_PATTERN.match(text):
            clauses.append(SR.number == text.upper())
        elif contact is not None:
            clauses.append(contact)
        else:
            clauses.append(SR.title.icontains(text, autoescape=True))
    return clauses


# ---------------------------------------------------------------------------------------------
# Sorting and keyset cursors


@dataclass(frozen=True)
class SortKey:
    attr: str
    descending: bool
    nullable: bool = False


# Each sort ends with the id, so the order is total and a cursor names exactly one position.
# "number" sorts by id: numbers are taken in id order (the counter row is locked in the same
# transaction as the insert), and comparing the strings would put SR-…-1000 before SR-…-999.
SORTS: dict[str, tuple[SortKey, ...]] = {
    "updated": (SortKey("updated_at", True), SortKey("id", True)),
    "priority": (
        SortKey("priority", False, nullable=True),
        SortKey("updated_at", True),
        SortKey("id", True),
    ),
    "submitted": (SortKey("submitted_at", True), SortKey("id", True)),
    "number": (SortKey("id", True),),
    "due": (SortKey("resolution_due_at", False, nullable=True), SortKey("id", False)),
}
DEFAULT_SORT = "updated"
DATETIME_KEYS = {"updated_at", "submitted_at", "resolution_due_at"}


def sort_keys(sort: str, reverse: bool) -> tuple[SortKey, ...]:
    """The keys of a sort; ``reverse`` flips every direction (the user's "ascending/descending").

    NULLs stay last in both directions: a request without a priority or a due time is never the
    first thing on the page.
    """
    keys = SORTS.get(sort, SORTS[DEFAULT_SORT])
    if reverse:
        keys = tuple(SortKey(k.attr, not k.descending, k.nullable) for k in keys)
    return keys


def _order_by(keys: tuple[SortKey, ...], backwards: bool) -> list:
    """ORDER BY for the keys; ``backwards`` walks the same order from the other end."""
    out = []
    for k in keys:
        col = getattr(SR, k.attr)
        desc = k.descending != backwards
        expr = col.desc() if desc else col.asc()
        if k.nullable:
            expr = expr.nulls_first() if backwards else expr.nulls_last()
        out.append(expr)
    return out


def _beyond(keys: tuple[SortKey, ...], values: list, backwards: bool) -> ColumnElement[bool]:
    """Rows strictly after (or, ``backwards``, strictly before) the position ``values``.

    Written as OR of (equal on the first i keys AND beyond on key i), with NULLs last, so it works
    on every database (no row-value comparison) and each branch is an index range.
    """
    directions = {k.descending for k in keys}
    if len(directions) == 1 and not any(k.nullable for k in keys):
        # one direction, no NULLs: a row-value comparison, which PostgreSQL (and SQLite) use as
        # the start of an index range, so a deep page costs what the first one does
        cols = tuple_(*(getattr(SR, k.attr) for k in keys))
        bound = tuple_(
            *(literal(v, type_=getattr(SR, k.attr).type) for k, v in zip(keys, values, strict=True))
        )
        return cols < bound if keys[0].descending != backwards else cols > bound
    branches = []
    for i, key in enumerate(keys):
        col = getattr(SR, key.attr)
        value = values[i]
        equal_before = [
            (getattr(SR, k.attr).is_(None) if v is None else getattr(SR, k.attr) == v)
            for k, v in zip(keys[:i], values[:i], strict=True)
        ]
        forward_desc = key.descending != backwards
        if value is None:
            # NULLs are last: nothing is after a NULL on this key; every non-NULL is before it
            step = col.is_not(None) if backwards else false()
        else:
            step = col < value if forward_desc else col > value
            if key.nullable and not backwards:
                step = or_(step, col.is_(None))
        branches.append(and_(*equal_before, step))
    return or_(*branches)


def encode_cursor(sort: str, reverse: bool, values: list) -> str:
    payload = [sort, int(reverse)] + [
        v.isoformat() if isinstance(v, datetime) else v for v in values
    ]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, sort: str, reverse: bool) -> list | None:
    """The key values in a cursor, or None when it is missing, damaged or for another sort."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, list) or payload[:2] != [sort, int(reverse)]:
            return None
        keys = sort_keys(sort, reverse)
        values = payload[2:]
        if len(values) != len(keys):
            return None
        out: list[Any] = []
        for key, value in zip(keys, values, strict=True):
            if value is None:
                if not key.nullable:
                    return None
                out.append(None)
            elif key.attr in DATETIME_KEYS:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    return None
                out.append(parsed)
            elif key.attr == "id":
                if not isinstance(value, int) or isinstance(value, bool):
                    return None
                out.append(value)
            else:
                if not isinstance(value, str):
                    return None
                out.append(value)
        return out
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


# ---------------------------------------------------------------------------------------------
# The page


@dataclass(frozen=True)
class QueueRow:
    request: ServiceRequest  # only the columns below are loaded; others raise
    organisation_name: str
    handler_name: str | None
    staff_on_request: bool


@dataclass
class QueuePage:
    rows: list[QueueRow]
    sort: str
    reverse: bool
    next_cursor: str | None = None
    prev_cursor: str | None = None
    is_first: bool = True
    extra: dict = field(default_factory=dict)


ROW_COLUMNS = (
    SR.id,
    SR.number,
    SR.title,
    SR.organisation_id,
    SR.contact_id,
    SR.contact_name,
    SR.contact_phone,
    SR.contact_email,
    SR.type,
    SR.category,
    SR.priority,
    SR.proposed_urgency,
    SR.status,
    SR.channel,
    SR.handler_id,
    SR.submitted_at,
    SR.updated_at,
    SR.response_due_at,
    SR.resolution_due_at,
    SR.resolution_warn_at,
    SR.paused_since,
)


def _key_values(sr: ServiceRequest, keys: tuple[SortKey, ...]) -> list:
    return [getattr(sr, k.attr) for k in keys]


def fetch_page(
    session: Session,
    viewer_id: int,
    filters: QueueFilters,
    *,
    sort: str = DEFAULT_SORT,
    reverse: bool = False,
    after: str | None = None,
    before: str | None = None,
    page_size: int = 50,
) -> QueuePage:
    """One page of the queue by keyset: ``after`` continues forward, ``before`` goes back."""
    sort = sort if sort in SORTS else DEFAULT_SORT
    keys = sort_keys(sort, reverse)
    clauses = filter_clauses(filters, viewer_id)
    after_values = decode_cursor(after, sort, reverse)
    before_values = None if after_values else decode_cursor(before, sort, reverse)
    backwards = before_values is not None
    position = after_values or before_values
    if position is not None:
        clauses.append(_beyond(keys, position, backwards))

    stmt = (
        select(SR)
        .options(load_only(*ROW_COLUMNS, raiseload=True))
        .where(*clauses)
        .order_by(*_order_by(keys, backwards))
        .limit(page_size + 1)
    )
    found = list(session.scalars(stmt))
    more = len(found) > page_size
    found = found[:page_size]
    if backwards:
        found.reverse()

    page = QueuePage(rows=[], sort=sort, reverse=reverse)
    if found:
        if backwards:
            page.is_first = not more
            page.next_cursor = encode_cursor(sort, reverse, _key_values(found[-1], keys))
        else:
            page.is_first = position is None
            if more:
                page.next_cursor = encode_cursor(sort, reverse, _key_values(found[-1], keys))
        if not page.is_first:
            page.prev_cursor = encode_cursor(sort, reverse, _key_values(found[0], keys))
    elif position is not None:
        page.is_first = False
    page.rows = decorate_rows(session, viewer_id, found)
    return page


def decorate_rows(session: Session, viewer_id: int, found: list[ServiceRequest]) -> list[QueueRow]:
    """Names and the viewer's collaborator flags for these rows only: three queries at most."""
    if not found:
        return []
    org_ids = {sr.organisation_id for sr in found}
    handler_ids = {sr.handler_id for sr in found if sr.handler_id is not None}
    ids = [sr.id for sr in found]
    orgs = {
        i: name
        for i, name in session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        )
    }
    handlers: dict[int, str] = {}
    if handler_ids:
        handlers = {
            i: name
            for i, name in session.execute(
                select(Account.id, Account.name).where(Account.id.in_(handler_ids))
            )
        }
    collaborating = set(
        session.scalars(
            select(Collaborator.request_id).where(
                Collaborator.request_id.in_(ids),
                Collaborator.account_id == viewer_id,
                Collaborator.removed_at.is_(None),
            )
        )
    )
    return [
        QueueRow(
            request=sr,
            organisation_name=orgs.get(sr.organisation_id, ""),
            handler_name=handlers.get(sr.handler_id) if sr.handler_id else None,
            staff_on_request=sr.handler_id == viewer_id or sr.id in collaborating,
        )
        for sr in found
    ]


def filter_choices(session: Session) -> list[tuple[int, str]]:
    """Staff for the filter form: (id, name) pairs, by name. Organisations are typed (their
    code or name), not chosen from a list of thousands."""
    staff = [
        (i, name)
        for i, name in session.execute(
            select(Account.id, Account.name)
            .where(Account.kind == "staff", Account.active.is_(True))
            .order_by(Account.name)
        )
    ]
    return staff


# ---------------------------------------------------------------------------------------------
# Due-time risk (pure)
#
# One rule for "at risk", read from the instants stored on the request: a clock is at risk from
# its warning instant (``resolution_warn_at`` / ``response_warn_at``, where the policy's
# ``warn_percent`` of the target is used, counted in working time on the clock's calendar by
# portal.services.sla) until its due time, and breached past the due time. The badge of the
# queue and the request page reads it here; the dispatcher's board asks the database the same
# (``warned``), so the two never disagree.


@dataclass(frozen=True)
class DueState:
    risk: str  # "none" (no clock), "paused", "ok", "at_risk", "breached"
    seconds: int = 0  # left (ok / at risk) or overdue (breached)


def resolution_risk(sr: ServiceRequest, now: datetime) -> DueState:
    """Where the request's resolution clock stands at ``now`` (see the rule above)."""
    due_at = sr.resolution_due_at
    if due_at is None or sr.status not in {s.value for s in OPEN_STATUSES}:
        return DueState("none")
    if sr.paused_since is not None:
        return DueState("paused", max(0, int((due_at - sr.paused_since).total_seconds())))
    left = (due_at - now).total_seconds()
    if left < 0:
        return DueState("breached", int(-left))
    warn_at = sr.resolution_warn_at
    if warn_at is not None and warn_at <= now:
        return DueState("at_risk", int(left))
    return DueState("ok", int(left))


def warned(warn_at_column, now: datetime) -> ColumnElement[bool]:
    """SQL: the clock's stored warning instant has come (the rule above, for the board)."""
    return and_(warn_at_column.is_not(None), warn_at_column <= now)
