"""Customer contacts (联系人) as the desk keeps them: create, change, make or unmake an
organisation admin (客户方对接人), deactivate and reactivate, each audited with only the
fields that changed, as a reader understands them (the organisation by its name, booleans as
true/false); the admins' list, searched and paged; and the invitation of a new contact.

An e-mail address is unique across all accounts, whatever its case. A contact is created with
an unusable password: they get in through the invitation's link (or, in the demo, the
password the demo gives everyone). Deactivating ends every login session of the contact at
once; their requests stay where they are, under their name. Services flush; the caller
commits.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain.characters import has_control_characters
from portal.domain.vocabulary import AccountKind
from portal.models import Account, Organisation
from portal.services import accounts, audit, invitations
from portal.services.audit import Actor

NAME_MAX = 100
EMAIL_MAX = 254
PHONE_MAX = 32
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()\-]{4,30}$")
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
MAX_PAGE_SIZE = 200
STATUSES = {"active": True, "inactive": False, "all": None}


class ContactError(ValueError):
    """Input the form could not judge alone; ``field`` names the form field, the message is
    lazy (worded in the reader's language when shown)."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(field))
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ContactDetails:
    """What an admin (or an organisation admin, for a colleague) sets on a contact."""

    name: str
    email: str
    organisation_id: int
    phone: str | None = None
    is_org_admin: bool = False
    locale: str | None = None  # None: not chosen (the session's or the browser's language)

    def cleaned(self) -> ContactDetails:
        return ContactDetails(
            name=(self.name or "").strip(),
            email=(self.email or "").strip().lower(),
            organisation_id=self.organisation_id,
            phone=(self.phone or "").strip() or None,
            is_org_admin=bool(self.is_org_admin),
            locale=self.locale if self.locale in LOCALES else None,
        )


# --- checks -------------------------------------------------------------------------------


def email_problem(email: str) -> object | None:
    """Why ``email`` is not a usable address (a lazy message), or None."""
    if not email:
        return _l("Enter an e-mail address.")
    if len(email) > EMAIL_MAX:
        return _l("At most %(max)d characters.", max=EMAIL_MAX)
    if has_control_characters(email):
        return _l(
            "Invisible control characters were taken out of this. Check it and send it again."
        )
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return _l("Enter a valid e-mail address.")
    return None


def name_problem(name: str) -> object | None:
    if not name:
        return _l("Give the contact's name.")
    if len(name) > NAME_MAX:
        return _l("At most %(max)d characters.", max=NAME_MAX)
    if has_control_characters(name):
        return _l(
            "Invisible control characters were taken out of this. Check it and send it again."
        )
    return None


def phone_problem(phone: str | None) -> object | None:
    if not phone:
        return None
    if len(phone) > PHONE_MAX:
        return _l("At most %(max)d characters.", max=PHONE_MAX)
    if not PHONE_PATTERN.match(phone):
        return _l("Enter a phone number with digits only (spaces, dashes, + allowed).")
    return None


def find_by_email(session: Session, email: str) -> Account | None:
    """The account (customer or staff) with this e-mail address, whatever its case."""
    return session.scalars(
        select(Account).where(func.lower(Account.email) == email.strip().lower()).limit(1)
    ).first()


def _check(session: Session, details: ContactDetails, contact: Account | None) -> Organisation:
    for name, problem in (
        ("name", name_problem(details.name)),
        ("email", email_problem(details.email)),
        ("phone", phone_problem(details.phone)),
    ):
        if problem is not None:
            raise ContactError(name, problem)
    org = session.get(Organisation, details.organisation_id)
    if org is None:
        raise ContactError("organisation", _l("No organisation has this code."))
    other = find_by_email(session, details.email)
    if other is not None and (contact is None or other.id != contact.id):
        raise ContactError("email", _l("An account with this e-mail address exists already."))
    return org


def _yes_no(value: bool) -> str:
    return "true" if value else "false"


def _display(contact: Account, org_name: str | None) -> dict[str, object]:
    return {
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone or "",
        "organisation": org_name or "",
        "org_admin": _yes_no(contact.is_org_admin),
        "language": contact.locale or "",
    }


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def unusable_password_hash() -> str:
    """A stored password no password verifies against (it is not an Argon2 hash): the
    contact gets in only once they set one through the invitation's link. Cheap on purpose,
    so an import of thousands of contacts does not hash thousands of secrets."""
    return "!" + secrets.token_urlsafe(24)


def _flush_unique(session: Session) -> None:
    """Flush in a savepoint: a concurrent insert of the same e-mail becomes a field error."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ContactError(
            "email", _l("An account with this e-mail address exists already.")
        ) from exc


# --- the invitation -----------------------------------------------------------------------


def send_invitation(session: Session, contact: Account, *, actor: Actor, now: datetime) -> None:
    """Invite the contact: the one place a new contact's invitation goes out (the admins' form,
    the colleagues page and the import all call it). The invitation makes the password
    unusable and mails a single-use link (portal.services.invitations)."""
    invitations.invite(session, contact, actor=actor, now=now)


# --- use cases ----------------------------------------------------------------------------


def create(
    session: Session,
    actor: Actor,
    now: datetime,
    details: ContactDetails,
    *,
    invite: bool = True,
    password_hash: str | None = None,
) -> Account:
    """A new contact of ``details.organisation_id``. ``invite``: send the invitation (the
    contact sets their password through its link). ``password_hash``: the demo's known
    password, instead of an unusable one."""
    details = details.cleaned()
    org = _check(session, details, None)
    contact = Account(
        kind=AccountKind.CUSTOMER.value,
        email=details.email,
        name=details.name,
        phone=details.phone,
        password_hash=password_hash or unusable_password_hash(),
        organisation_id=org.id,
        is_org_admin=details.is_org_admin,
        locale=details.locale,
        created_at=now,
        password_changed_at=now,
    )
    session.add(contact)
    _flush_unique(session)
    audit.record(
        session,
        actor,
        now,
        "contact.created",
        "account",
        contact.id,
        after=_display(contact, org.name),
    )
    if invite:
        send_invitation(session, contact, actor=actor, now=now)
    return contact


def _org_name(session: Session, organisation_id: int | None) -> str | None:
    if organisation_id is None:
        return None
    return session.scalar(select(Organisation.name).where(Organisation.id == organisation_id))


def update(
    session: Session, actor: Actor, now: datetime, contact: Account, details: ContactDetails
) -> bool:
    """Change the contact; audited with only what changed. True when something changed."""
    _require_contact(contact)
    details = details.cleaned()
    org = _check(session, details, contact)
    before = _display(contact, _org_name(session, contact.organisation_id))
    contact.name = details.name
    contact.email = details.email
    contact.phone = details.phone
    contact.organisation_id = org.id
    contact.is_org_admin = details.is_org_admin
    contact.locale = details.locale
    before, after = _changes(before, _display(contact, org.name))
    if not after:
        return False
    _flush_unique(session)
    audit.record(
        session, actor, now, "contact.updated", "account", contact.id, before=before, after=after
    )
    return True


def set_org_admin(
    session: Session, actor: Actor, now: datetime, contact: Account, is_org_admin: bool
) -> bool:
    """Make or unmake the contact an organisation admin; True when it changed."""
    _require_contact(contact)
    if contact.is_org_admin == bool(is_org_admin):
        return False
    contact.is_org_admin = bool(is_org_admin)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "contact.made_org_admin" if is_org_admin else "contact.unmade_org_admin",
        "account",
        contact.id,
        before={"org_admin": _yes_no(not is_org_admin)},
        after={"org_admin": _yes_no(bool(is_org_admin))},
    )
    return True


def deactivate(session: Session, actor: Actor, now: datetime, contact: Account) -> bool:
    """The contact can no longer log in, and every session they had open ends now. Their
    requests stay. True when it changed."""
    _require_contact(contact)
    if not contact.active:
        return False
    contact.active = False
    session.flush()
    ended = accounts.revoke_all_sessions(session, contact.id, now)
    audit.record(
        session,
        actor,
        now,
        "contact.deactivated",
        "account",
        contact.id,
        before={"status": "active"},
        after={"status": "inactive", "sessions_ended": ended},
    )
    return True


def reactivate(session: Session, actor: Actor, now: datetime, contact: Account) -> bool:
    _require_contact(contact)
    if contact.active:
        return False
    contact.active = True
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "contact.reactivated",
        "account",
        contact.id,
        before={"status": "inactive"},
        after={"status": "active"},
    )
    return True


def _require_contact(contact: Account) -> None:
    if contact.kind != AccountKind.CUSTOMER.value:
        raise ValueError("not a customer contact")


def get_contact(session: Session, contact_id: int) -> Account | None:
    """A customer contact by id (None for a staff account or an unknown id)."""
    contact = session.get(Account, contact_id)
    if contact is None or contact.kind != AccountKind.CUSTOMER.value:
        return None
    return contact


def organisation_by_code(session: Session, code: str) -> Organisation | None:
    code = (code or "").strip()
    if not code:
        return None
    return session.scalars(
        select(Organisation).where(func.upper(Organisation.code) == code.upper()).limit(1)
    ).first()


# --- the list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    contact: Account
    organisation_code: str
    organisation_name: str


@dataclass(frozen=True)
class ContactPage:
    rows: list[ContactRow] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = 50

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


def search(
    session: Session,
    *,
    organisation_id: int | None = None,
    q: str | None = None,
    status: str = "active",
    page: int = 1,
    page_size: int = 50,
) -> ContactPage:
    """One page of contacts by name, of one organisation or all, matching ``q`` on name,
    e-mail or phone (the caller passes ``q`` only for someone who may see those in full: a
    match must not reveal a masked value), active, inactive or all. Two queries whatever the
    page and however many contacts: the total, then the page with its organisations
    (served by ix_accounts_org_kind)."""
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    where = [Account.kind == AccountKind.CUSTOMER.value]
    if organisation_id is not None:
        where.append(Account.organisation_id == organisation_id)
    active = STATUSES.get(status, True)
    if active is not None:
        where.append(Account.active.is_(active))
    text = (q or "").strip()
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        clauses = [
            func.lower(Account.name).like(pattern, escape="\\"),
            func.lower(Account.email).like(pattern, escape="\\"),
        ]
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) >= 3:
            clauses.append(Account.phone.like(f"%{digits}%"))
        where.append(or_(*clauses))
    total = session.scalar(select(func.count()).select_from(Account).where(*where)) or 0
    last_page = max(1, -(-total // page_size))
    page = max(1, min(int(page), last_page))
    found = session.execute(
        select(Account, Organisation.code, Organisation.name)
        .join(Organisation, Organisation.id == Account.organisation_id)
        .where(*where)
        .order_by(Account.name, Account.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    rows = [ContactRow(c, code, name) for c, code, name in found]
    return ContactPage(rows=rows, total=total, page=page, page_size=page_size)


def colleagues(session: Session, org_admin: Account, limit: int = 500) -> list[Account]:
    """The contacts of the organisation admin's own organisation, by name (active first)."""
    return list(
        session.scalars(
            select(Account)
            .where(
                Account.kind == AccountKind.CUSTOMER.value,
                Account.organisation_id == org_admin.organisation_id,
            )
            .order_by(Account.active.desc(), Account.name, Account.id)
            .limit(limit)
        )
    )


def colleague_of(session: Session, org_admin: Account, contact_id: int) -> Account | None:
    """A contact the organisation admin may act on: of their own organisation, not themself.
    None otherwise (the page answers 404: another organisation's contact does not exist)."""
    if not org_admin.is_org_admin or org_admin.organisation_id is None:
        return None
    contact = get_contact(session, contact_id)
    if (
        contact is None
        or contact.organisation_id != org_admin.organisation_id
        or contact.id == org_admin.id
    ):
        return None
    return contact
