"""Staff administration (docs/product.md §1): invite a staff member, change their roles,
department, level and language, mark them on leave or back on duty, deactivate and reactivate.

Every change is audited with only the fields that changed, as a reader reads them: role codes
(the audit page words them in the reader's language), the department's name, the level, the
language, the leave's last day. Two rules hold here:

- the last active admin stays: they cannot be deactivated nor lose the admin role, not even
  by themselves (the desk would have no one to administer it);
- nothing is silently orphaned: deactivating someone or sending them on leave returns their open
  requests, so the page lists them with a way to reassign each (and the dispatcher's board lists
  them too, portal.services.board).

Availability is the rule of portal.domain.availability, evaluated on the desk's date.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import security
from portal.domain import availability
from portal.domain.vocabulary import OPEN_STATUSES, AccountKind, Role
from portal.models import Account, AccountRole, Department, ServiceRequest
from portal.services import accounts, audit, invitations

NAME_MAX = 100
EMAIL_MAX = 254
LEVELS = (1, 2, 3)  # 1 first line, 2 second line, 3 expert
LOCALES = ("zh_CN", "en")
OPEN = tuple(s.value for s in OPEN_STATUSES)
ORPHANS_SHOWN = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A refusal the admin can act on, said at a field of the form (or the form: ``field``
    None)."""

    def __init__(self, field: str | None, message) -> None:
        super().__init__(field)
        self.field = field
        self.message = message


@dataclass
class StaffInput:
    name: str
    email: str
    roles: list[str] = field(default_factory=list)
    department_id: int | None = None
    level: int | None = None
    locale: str | None = None


@dataclass
class StaffChanges:
    name: str
    roles: list[str]
    department_id: int | None
    level: int | None
    locale: str | None


@dataclass(frozen=True)
class OpenRequest:
    """An open request of a staff member who cannot work on it now."""

    number: str
    title: str
    status: str
    priority: str | None


# --- the checks --------------------------------------------------------------------------------


def _roles(roles) -> list[str]:
    known = {r.value for r in Role}
    wanted = set(roles or ())
    if not wanted:
        raise StaffError("roles", _l("Give the staff member at least one role."))
    if not wanted <= known:
        raise StaffError("roles", _l("Choose roles from the list."))
    # in the vocabulary's order, so "before" and "after" compare and read the same way
    return [r.value for r in Role if r.value in wanted]


def _department(session: Session, department_id: int | None, current: int | None = None):
    if department_id is None:
        return None
    row = session.get(Department, department_id)
    # a deactivated department stays possible for whoever is already in it
    if row is None or (not row.active and row.id != current):
        raise StaffError("department_id", _l("Choose a department from the list."))
    return row


def _level(level: int | None) -> int | None:
    if level is not None and level not in LEVELS:
        raise StaffError("level", _l("The level is 1 (first line), 2 (second line) or 3 (expert)."))
    return level


def _locale(locale: str | None) -> str | None:
    if locale and locale not in LOCALES:
        raise StaffError("locale", _l("Choose a language from the list."))
    return locale or None


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise StaffError("name", _l("Give the staff member's name."))
    if len(name) > NAME_MAX:
        raise StaffError("name", _l("At most %(max)d characters.", max=NAME_MAX))
    return name


def email_taken(session: Session, email: str, except_id: int | None = None) -> bool:
    """Whether an account (staff or customer: an address logs in once) has ``email``, whatever
    its capitals."""
    stmt = select(Account.id).where(func.lower(Account.email) == email.strip().lower())
    if except_id is not None:
        stmt = stmt.where(Account.id != except_id)
    return session.scalar(stmt.limit(1)) is not None


def _is_last_active_admin(session: Session, account: Account) -> bool:
    if not (account.active and account.has_role(Role.ADMIN)):
        return False
    others = session.scalar(
        select(func.count())
        .select_from(Account)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(
            AccountRole.role == Role.ADMIN.value,
            Account.active.is_(True),
            Account.kind == AccountKind.STAFF.value,
            Account.id != account.id,
        )
    )
    return not others


def _last_admin(account: Account):
    return _l(
        "%(name)s is the last active administrator: make someone else an administrator first.",
        name=account.name,
    )


TAKEN = _l("An account with this e-mail address exists already.")


def _department_name(row: Department | None) -> str | None:
    return row.name_zh if row is not None else None


# --- inviting ---------------------------------------------------------------------------------


def _send_invitation(session: Session, account: Account, actor: audit.Actor, now: datetime):
    """The invitation mail with its single-use link (portal.services.invitations)."""
    invitations.invite(session, account, actor=actor, now=now)


def invite(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    data: StaffInput,
    *,
    password_hash: str | None = None,
) -> Account:
    """Create a staff account and invite the person: no password works until they set one
    through the mailed link. With ``password_hash`` (the demo's known password) the account is
    usable at once and no mail goes out. Audited as ``staff.created`` (what the admin gave),
    the invitation as ``staff.invited``. A taken e-mail (any capitals) is refused at its
    field; nothing is written then."""
    name = _name(data.name)
    email = (data.email or "").strip().lower()
    if not email or len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise StaffError("email", _l("Enter a valid e-mail address."))
    roles = _roles(data.roles)
    department = _department(session, data.department_id)
    level = _level(data.level)
    locale = _locale(data.locale)
    if email_taken(session, email):
        raise StaffError("email", TAKEN)
    try:
        # a savepoint: the same address taken at the same moment is the same refusal
        with session.begin_nested():
            account = accounts.create_account(
                session,
                kind=AccountKind.STAFF,
                email=email,
                name=name,
                # unusable until the person sets their own through the link
                password_hash=password_hash or security.hash_password(secrets.token_urlsafe(32)),
                department_id=department.id if department else None,
                roles=roles,
                locale=locale,
            )
    except IntegrityError:
        raise StaffError("email", TAKEN) from None
    account.staff_level = level
    account.created_at = now
    account.password_changed_at = now
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "staff.created",
        "staff",
        account.id,
        after={
            "name": name,
            "email": email,
            "roles": roles,
            "department": _department_name(department),
            "level": level,
            "locale": locale,
        },
    )
    if password_hash is None:
        _send_invitation(session, account, actor, now)
    return account


# --- changing ---------------------------------------------------------------------------------


def update(
    session: Session, actor: audit.Actor, now: datetime, account: Account, data: StaffChanges
) -> bool:
    """Change roles (``staff.roles_changed``, which ends the person's sessions) and name, department, level, language
    (``staff.updated``), each audited with only what changed. Returns whether anything did."""
    name = _name(data.name)
    roles = _roles(data.roles)
    department = _department(session, data.department_id, current=account.department_id)
    level = _level(data.level)
    locale = _locale(data.locale)
    old_roles = [r.value for r in Role if account.has_role(r.value)]
    if Role.ADMIN.value not in roles and _is_last_active_admin(session, account):
        raise StaffError("roles", _last_admin(account))

    old_department = (
        session.get(Department, account.department_id) if account.department_id else None
    )
    before: dict = {}
    after: dict = {}
    if name != account.name:
        before["name"], after["name"] = account.name, name
        account.name = name
    if (department.id if department else None) != account.department_id:
        before["department"] = _department_name(old_department)
        after["department"] = _department_name(department)
        account.department_id = department.id if department else None
    if level != account.staff_level:
        before["level"], after["level"] = account.staff_level, level
        account.staff_level = level
    if locale != account.locale:
        before["locale"], after["locale"] = account.locale, locale
        account.locale = locale
    changed = False
    if roles != old_roles:
        keep = {r.role: r for r in account.roles}
        account.roles = [keep.get(r) or AccountRole(role=r) for r in roles]
        session.flush()
        # what a session may do was decided with the old roles: every one of them ends, and
        # the person logs in again under the new ones (docs/product.md §11)
        accounts.revoke_all_sessions(session, account.id, now)
        audit.record(
            session,
            actor,
            now,
            "staff.roles_changed",
            "staff",
            account.id,
            before={"roles": old_roles},
            after={"roles": roles},
        )
        changed = True
    if after:
        session.flush()
        audit.record(
            session, actor, now, "staff.updated", "staff", account.id, before=before, after=after
        )
        changed = True
    return changed


def open_requests(session: Session, account_id: int, limit: int = ORPHANS_SHOWN):
    """The open requests ``account_id`` handles, oldest first (at most ``limit`` + 1, to say
    "more"). One query."""
    rows = session.execute(
        select(
            ServiceRequest.number,
            ServiceRequest.title,
            ServiceRequest.status,
            ServiceRequest.priority,
        )
        .where(ServiceRequest.handler_id == account_id, ServiceRequest.status.in_(OPEN))
        .order_by(ServiceRequest.submitted_at, ServiceRequest.id)
        .limit(limit + 1)
    ).all()
    return [OpenRequest(*r) for r in rows]


def set_on_leave(
    session: Session, actor: audit.Actor, now: datetime, account: Account, until: date, today: date
) -> list[OpenRequest]:
    """On leave until ``until`` inclusive (today or later); back on duty by itself the day
    after. Returns the open requests they handle, for the page to offer reassigning them."""
    if until is None or until < today:
        raise StaffError("until", _l("The leave's last day cannot be in the past."))
    was_on_leave = availability.on_leave(account.available, account.on_leave_until, today)
    before_until = account.on_leave_until if was_on_leave else None
    if not (was_on_leave and before_until == until):
        account.available = False
        account.on_leave_until = until
        session.flush()
        audit.record(
            session,
            actor,
            now,
            "staff.on_leave",
            "staff",
            account.id,
            before={"on_leave_until": before_until.isoformat()} if before_until else {},
            after={"on_leave_until": until.isoformat()},
        )
    return open_requests(session, account.id)


def set_on_duty(
    session: Session, actor: audit.Actor, now: datetime, account: Account, today: date
) -> bool:
    """Back on duty now (``staff.back_on_duty``); a leave that has ended already is only
    cleared, without an event (nothing changes for anyone)."""
    was_on_leave = availability.on_leave(account.available, account.on_leave_until, today)
    previous = account.on_leave_until
    if account.available and previous is None:
        return False
    account.available = True
    account.on_leave_until = None
    session.flush()
    if was_on_leave:
        audit.record(
            session,
            actor,
            now,
            "staff.back_on_duty",
            "staff",
            account.id,
            before={"on_leave_until": previous.isoformat() if previous else None},
            after={},
        )
    return was_on_leave


def deactivate(
    session: Session, actor: audit.Actor, now: datetime, account: Account
) -> list[OpenRequest]:
    """The person cannot log in any more: their sessions end at once. Refused for the last
    active admin. Returns the open requests they still handle."""
    if not account.active:
        return open_requests(session, account.id)
    if _is_last_active_admin(session, account):
        raise StaffError(None, _last_admin(account))
    account.active = False
    session.flush()
    accounts.revoke_all_sessions(session, account.id, now)
    audit.record(
        session,
        actor,
        now,
        "staff.deactivated",
        "staff",
        account.id,
        before={"active": True},
        after={"active": False},
    )
    return open_requests(session, account.id)


def reactivate(session: Session, actor: audit.Actor, now: datetime, account: Account) -> bool:
    if account.active:
        return False
    account.active = True
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "staff.reactivated",
        "staff",
        account.id,
        before={"active": False},
        after={"active": True},
    )
    return True


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffRow:
    id: int
    name: str
    email: str
    roles: list[str]
    department: str | None
    level: int | None
    active: bool
    available: bool  # on duty today (portal.domain.availability)
    on_leave_until: date | None
    invited: bool  # invited and not yet set a password
    open_load: int


@dataclass
class StaffPage:
    rows: list[StaffRow]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _row(account: Account, department: str | None, today: date, load: int) -> StaffRow:
    return StaffRow(
        id=account.id,
        name=account.name,
        email=account.email,
        roles=[r.value for r in Role if account.has_role(r.value)],
        department=department,
        level=account.staff_level,
        active=account.active,
        available=availability.is_available(account.available, account.on_leave_until, today),
        on_leave_until=account.on_leave_until,
        invited=account.invited_at is not None,
        open_load=load,
    )


def _loads(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(
        session.execute(
            select(ServiceRequest.handler_id, func.count())
            .where(ServiceRequest.handler_id.in_(ids), ServiceRequest.status.in_(OPEN))
            .group_by(ServiceRequest.handler_id)
        ).all()
    )


def search(
    session: Session,
    today: date,
    *,
    q: str = "",
    role: str | None = None,
    department_id: int | None = None,
    active: bool | None = True,
    page: int = 1,
    page_size: int = 50,
    locale: str = "en",
) -> StaffPage:
    """One page of staff, by name: search in name and e-mail, filter by role, department and
    active. Four queries whatever the number of staff: the count, the page (with each person's
    department), their roles, their open load."""
    name_col = Department.name_zh if locale.startswith("zh") else Department.name_en
    where = [Account.kind == AccountKind.STAFF.value]
    if q:
        term = q.lower().replace("\\", "").replace("%", "").replace("_", "")
        like = f"%{term}%"
        where.append(or_(func.lower(Account.name).like(like), func.lower(Account.email).like(like)))
    if role:
        where.append(Account.id.in_(select(AccountRole.account_id).where(AccountRole.role == role)))
    if department_id:
        where.append(Account.department_id == department_id)
    if active is not None:
        where.append(Account.active.is_(active))
    total = session.scalar(select(func.count()).select_from(Account).where(*where)) or 0
    page = max(1, page)
    result = session.execute(
        select(Account, name_col)
        .outerjoin(Department, Department.id == Account.department_id)
        .where(*where)
        .order_by(Account.name, Account.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    loads = _loads(session, [a.id for a, _ in result])
    rows = [_row(a, dept, today, int(loads.get(a.id, 0))) for a, dept in result]
    return StaffPage(rows, page, page_size, total)


def departments(session: Session, locale: str = "en") -> list[tuple[int, str, bool]]:
    """(id, name, active) of every department, by name, for the selects. One query."""
    name_col = Department.name_zh if locale.startswith("zh") else Department.name_en
    return [
        (i, n, bool(a))
        for i, n, a in session.execute(
            select(Department.id, name_col, Department.active).order_by(name_col, Department.id)
        )
    ]


@dataclass
class MemberPage:
    row: StaffRow
    on_leave: bool
    # the open requests waiting for another handler (the person is inactive or on leave)
    orphaned: list[OpenRequest]
    last_admin: bool


def member_page(session: Session, account: Account, today: date, locale: str = "en") -> MemberPage:
    """A staff member's page: their row, and when they cannot work, their open requests."""
    department = None
    if account.department_id:
        dept = session.get(Department, account.department_id)
        if dept is not None:
            department = dept.name_zh if locale.startswith("zh") else dept.name_en
    loads = _loads(session, [account.id])
    row = _row(account, department, today, int(loads.get(account.id, 0)))
    on_leave = availability.on_leave(account.available, account.on_leave_until, today)
    orphaned = open_requests(session, account.id) if (on_leave or not account.active) else []
    return MemberPage(row, on_leave, orphaned, _is_last_active_admin(session, account))
