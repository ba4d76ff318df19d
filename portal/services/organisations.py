"""Customer organisations (客户) as the admins keep them: create, change, deactivate and
reactivate, each audited with the fields that changed as a reader understands them (the
calendar by its name, booleans as true/false); and the admins' list, searched and paged.

A deactivated organisation keeps its history: its requests stay where they are for the desk.
While it is inactive its contacts cannot log in (``portal.services.accounts``), their open
sessions end when it is deactivated, and no new request is registered for it
(``portal.services.requests.submit``). Services flush; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain.characters import has_control_characters
from portal.domain.vocabulary import OPEN_STATUSES, AccountKind
from portal.models import Account, Calendar, Organisation, ServiceRequest, SlaPolicy
from portal.services import accounts, audit, defaults

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{2,40}$")
NAME_MAX = 200
MIN_FEEDBACK_DAYS, MAX_FEEDBACK_DAYS = 1, 30
DEFAULT_FEEDBACK_DAYS = 3  # the template's three working days
MAX_PAGE_SIZE = 200


class OrganisationError(ValueError):
    """Input the form could not judge alone; ``field`` names the form field, the message is
    lazy (worded in the reader's language when shown)."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(field))
        self.field = field
        self.message = message


@dataclass(frozen=True)
class OrganisationSettings:
    """What an admin sets on an organisation."""

    code: str
    name: str
    colleagues_may_view: bool = False
    colleagues_may_reply: bool = False
    # org admins are told of hand-offs on the organisation's requests, as the contact is
    notify_org_admins: bool = False
    calendar_id: int | None = None  # None: the desk's default calendar
    feedback_window_days: int = DEFAULT_FEEDBACK_DAYS
    # the SLA policy its requests are measured against (None: the built-in one); a change
    # applies to requests submitted afterwards (portal.services.sla_policies)
    sla_policy_id: int | None = None


def _yes_no(value: bool) -> str:
    return "true" if value else "false"


def _display(session: Session, org: Organisation) -> dict[str, object]:
    """The audited fields of ``org`` as a reader understands them."""
    calendar = session.get(Calendar, org.calendar_id) if org.calendar_id else None
    policy = session.get(SlaPolicy, org.sla_policy_id) if org.sla_policy_id else None
    return {
        "code": org.code,
        "name": org.name,
        "colleagues_may_view": _yes_no(org.colleagues_may_view),
        "colleagues_may_reply": _yes_no(org.colleagues_may_reply),
        "notify_org_admins": _yes_no(org.notify_org_admins),
        "calendar": calendar.name if calendar is not None else "default",
        "feedback_window_days": org.feedback_window_days,
        "sla_policy": policy.name if policy is not None else defaults.BUILTIN_POLICY_NAME,
    }


def _clean(session: Session, settings: OrganisationSettings, own_id: int | None):
    code = (settings.code or "").strip().upper()
    name = (settings.name or "").strip()
    if not CODE_PATTERN.match(code):
        raise OrganisationError(
            "code", _l("2 to 40 letters, digits, hyphens or underscores, e.g. ACME or EAST-01.")
        )
    if not name:
        raise OrganisationError("name", _l("Give the organisation's name."))
    if len(name) > NAME_MAX or has_control_characters(name) or any(c in name for c in "\t\r\n"):
        raise OrganisationError("name", _l("At most 200 characters, without control characters."))
    days = settings.feedback_window_days
    if not isinstance(days, int) or not MIN_FEEDBACK_DAYS <= days <= MAX_FEEDBACK_DAYS:
        raise OrganisationError("feedback_window_days", _l("Between 1 and 30 working days."))
    if settings.calendar_id is not None and session.get(Calendar, settings.calendar_id) is None:
        raise OrganisationError("calendar", _l("Choose one of the calendars."))
    if settings.sla_policy_id is not None:
        policy = session.get(SlaPolicy, settings.sla_policy_id)
        if policy is None or not policy.active:
            raise OrganisationError("sla_policy", _l("Choose one of the active SLA policies."))
    others = Organisation.id != (own_id or 0)
    if session.scalar(select(Organisation.id).where(func.upper(Organisation.code) == code, others)):
        raise OrganisationError("code", _l("Another organisation has this code."))
    if session.scalar(select(Organisation.id).where(Organisation.name == name, others)):
        raise OrganisationError("name", _l("Another organisation has this name."))
    return code, name


def _policy_id(session: Session, policy_id: int | None) -> int | None:
    """The built-in policy is stored as NULL (an organisation without a policy of its own)."""
    if policy_id is None:
        return None
    policy = session.get(SlaPolicy, policy_id)
    return None if policy is None or policy.builtin else policy.id


def _flush_unique(session: Session, org: Organisation) -> None:
    """Flush ``org`` in a savepoint: a concurrent insert of the same code or name (checked
    above, then taken meanwhile) becomes the field error instead of a 500. The caller rolls
    back after the error (the view does)."""
    try:
        with session.begin_nested():
            session.add(org)
            session.flush()
    except IntegrityError as exc:
        if org in session.new:
            session.expunge(org)
        # the constraint's column, named alike by SQLite ("organisations.name") and PostgreSQL
        # ("organisations_name_key", "Key (name)=…")
        text = str(exc.orig)
        if any(mark in text for mark in ("organisations.name", "organisations_name", "(name)")):
            raise OrganisationError("name", _l("Another organisation has this name.")) from exc
        raise OrganisationError("code", _l("Another organisation has this code.")) from exc


def create(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    settings: OrganisationSettings,
    *,
    created_at: datetime | None = None,
) -> Organisation:
    """A new, active organisation (``created_at``: the demo's story time, else ``now``)."""
    code, name = _clean(session, settings, None)
    org = Organisation(
        code=code,
        name=name,
        colleagues_may_view=bool(settings.colleagues_may_view),
        colleagues_may_reply=bool(settings.colleagues_may_reply),
        notify_org_admins=bool(settings.notify_org_admins),
        calendar_id=settings.calendar_id,
        feedback_window_days=settings.feedback_window_days,
        sla_policy_id=_policy_id(session, settings.sla_policy_id),
        active=True,
        created_at=created_at or now,
    )
    _flush_unique(session, org)
    audit.record(
        session,
        actor,
        now,
        "organisation.created",
        "organisation",
        org.id,
        after=_display(session, org),
    )
    return org


def update(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    org: Organisation,
    settings: OrganisationSettings,
) -> bool:
    """Change ``org``; audited with only the fields that changed. Returns whether any did."""
    code, name = _clean(session, settings, org.id)
    before = _display(session, org)
    org.code = code
    org.name = name
    org.colleagues_may_view = bool(settings.colleagues_may_view)
    org.colleagues_may_reply = bool(settings.colleagues_may_reply)
    org.notify_org_admins = bool(settings.notify_org_admins)
    org.calendar_id = settings.calendar_id
    org.feedback_window_days = settings.feedback_window_days
    org.sla_policy_id = _policy_id(session, settings.sla_policy_id)
    after = _display(session, org)
    changed = [k for k in after if after[k] != before[k]]
    if not changed:
        return False
    _flush_unique(session, org)
    audit.record(
        session,
        actor,
        now,
        "organisation.updated",
        "organisation",
        org.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return True


def deactivate(session: Session, actor: audit.Actor, now: datetime, org: Organisation) -> bool:
    """Deactivate ``org``: its contacts' sessions end and they cannot log in again until it is
    reactivated; its requests stay. Returns False when it was inactive already."""
    if not org.active:
        return False
    org.active = False
    session.flush()
    ended = accounts.revoke_organisation_sessions(session, org.id, now)
    audit.record(
        session,
        actor,
        now,
        "organisation.deactivated",
        "organisation",
        org.id,
        before={"active": "true"},
        after={"active": "false", "sessions_ended": ended},
    )
    return True


def reactivate(session: Session, actor: audit.Actor, now: datetime, org: Organisation) -> bool:
    """Make ``org`` active again (its contacts may log in). False when it was active."""
    if org.active:
        return False
    org.active = True
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "organisation.reactivated",
        "organisation",
        org.id,
        before={"active": "false"},
        after={"active": "true"},
    )
    return True


# --- the admins' list ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    calendar_name: str | None  # None: the desk's default
    contacts: int  # active customer contacts
    open_requests: int


@dataclass(frozen=True)
class SearchPage:
    rows: list[OrganisationRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(q: str | None):
    """Organisations whose code or name contains ``q`` (case-insensitive); None for no text."""
    text = (q or "").strip()
    if not text:
        return None
    pattern = f"%{_escape_like(text)}%"
    return or_(
        Organisation.code.ilike(pattern, escape="\\"),
        Organisation.name.ilike(pattern, escape="\\"),
    )


def search(
    session: Session,
    q: str | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> SearchPage:
    """One page of organisations by name, matching ``q`` on code or name, active, inactive or
    both (``active`` None), each with its calendar's name, its active contacts and its open
    requests. Two queries whatever the page: the total, then the page with its counts as
    correlated subqueries (served by ix_accounts_org_kind and ix_sr_org_status)."""
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    where = []
    clause = search_clause(q)
    if clause is not None:
        where.append(clause)
    if active is not None:
        where.append(Organisation.active.is_(active))
    total = session.scalar(select(func.count()).select_from(Organisation).where(*where)) or 0
    last_page = max(1, -(-total // page_size))
    page = max(1, min(int(page), last_page))
    contacts = (
        select(func.count(Account.id))
        .where(
            Account.organisation_id == Organisation.id,
            Account.kind == AccountKind.CUSTOMER.value,
            Account.active.is_(True),
        )
        .correlate(Organisation)
        .scalar_subquery()
    )
    open_requests = (
        select(func.count(ServiceRequest.id))
        .where(
            ServiceRequest.organisation_id == Organisation.id,
            ServiceRequest.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .correlate(Organisation)
        .scalar_subquery()
    )
    found = session.execute(
        select(Organisation, Calendar.name, contacts, open_requests)
        .outerjoin(Calendar, Calendar.id == Organisation.calendar_id)
        .where(*where)
        .order_by(Organisation.name, Organisation.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    rows = [OrganisationRow(org, cal_name, n or 0, m or 0) for org, cal_name, n, m in found]
    return SearchPage(rows=rows, total=total, page=page, page_size=page_size)


def contact_counts(session: Session, organisation_id: int) -> tuple[int, int]:
    """(active contacts, open requests) of one organisation, for its page."""
    n = session.scalar(
        select(func.count(Account.id)).where(
            Account.organisation_id == organisation_id,
            Account.kind == AccountKind.CUSTOMER.value,
            Account.active.is_(True),
        )
    )
    m = session.scalar(
        select(func.count(ServiceRequest.id)).where(
            ServiceRequest.organisation_id == organisation_id,
            ServiceRequest.status.in_([s.value for s in OPEN_STATUSES]),
        )
    )
    return n or 0, m or 0
