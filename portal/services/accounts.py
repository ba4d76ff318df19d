"""Accounts and server-side login sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from portal import security
from portal.domain import password_policy
from portal.domain.vocabulary import AccountKind
from portal.models import Account, AccountRole, LoginSession, Organisation
from portal.services import audit
from portal.services.audit import Actor

MIN_PASSWORD_LENGTH = password_policy.MIN_LENGTH


class AccountError(ValueError):
    """A problem the user can fix; the message is shown to them."""


class PasswordRefused(AccountError):
    """The password policy refuses a new password; ``problems`` are its reasons
    (portal/domain/password_policy.py), first the one shown first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


def check_new_password(password: str, *, name: str | None, email: str | None) -> None:
    """The one password policy, applied wherever a password is chosen: raises PasswordRefused."""
    problems = password_policy.problems(password, name=name, email=email)
    if problems:
        raise PasswordRefused(problems)


def password_strength(
    password: str, *, name: str | None, email: str | None
) -> password_policy.Strength:
    """What the strength meter beside a new-password field shows (nothing is written)."""
    return password_policy.strength(password[: password_policy.MAX_LENGTH], name=name, email=email)


def _organisation_active():
    """A staff account, or a contact of an active organisation (a deactivated organisation's
    contacts do not log in: docs/product.md, portal/services/organisations.py)."""
    return or_(
        Account.organisation_id.is_(None),
        Account.organisation_id.in_(select(Organisation.id).where(Organisation.active.is_(True))),
    )


def find_for_login(session: Session, kind: str, identifier: str) -> Account | None:
    ident = identifier.strip()
    if not ident:
        return None
    if "@" in ident:
        cond = func.lower(Account.email) == ident.lower()
    else:
        cond = Account.phone == ident
    return session.scalars(
        select(Account).where(
            cond, Account.kind == kind, Account.active.is_(True), _organisation_active()
        )
    ).first()


def authenticate(session: Session, kind: str, identifier: str, password: str) -> Account | None:
    account = find_for_login(session, kind, identifier)
    # verify even for an unknown account, so the time taken does not tell
    ok = security.verify_password(account.password_hash if account else None, password)
    if not ok or account is None:
        return None
    if security.needs_rehash(account.password_hash):
        # the hashing parameters were raised since: store the password under the new ones
        account.password_hash = security.hash_password(password)
    return account


def session_key(token: str) -> str:
    """The stored id of a login session: a digest of the cookie's token, so that the table
    alone does not let anyone present a session."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, account: Account, now: datetime, ip: str | None, user_agent: str | None
) -> tuple[LoginSession, str]:
    """Open a server-side session; returns the row and the token for the cookie."""
    token = secrets.token_urlsafe(32)
    login = LoginSession(
        id=session_key(token),
        account_id=account.id,
        kind=account.kind,
        created_at=now,
        last_seen_at=now,
        ip=(ip or None) and ip[:64],
        user_agent=(user_agent or "")[:300],
    )
    session.add(login)
    session.flush()
    audit.record(
        session,
        Actor(account.id, ip=ip),
        now,
        "account.logged_in",
        "account",
        account.id,
        after={"side": account.kind},
    )
    return login, token


def active_session_clause(now: datetime, max_age: timedelta):
    return and_(LoginSession.revoked_at.is_(None), LoginSession.created_at > now - max_age)


def load_session_account(
    session: Session, token: str, now: datetime, max_age: timedelta
) -> Account | None:
    """The account behind a cookie's token, if that session is open, young enough, opened on
    the account's own side, and the account (and its organisation, for a contact) is active."""
    row = session.execute(
        select(Account, LoginSession.kind)
        .join(LoginSession, LoginSession.account_id == Account.id)
        .where(
            LoginSession.id == session_key(token),
            active_session_clause(now, max_age),
            Account.active.is_(True),
            _organisation_active(),
        )
    ).first()
    if row is None or row[1] != row[0].kind:
        return None
    return row[0]


def active_sessions(
    session: Session, account_id: int, now: datetime, max_age: timedelta
) -> list[LoginSession]:
    return list(
        session.scalars(
            select(LoginSession)
            .where(LoginSession.account_id == account_id, active_session_clause(now, max_age))
            .order_by(LoginSession.created_at.desc())
            .limit(100)
        )
    )


def revoke_session(session: Session, token: str, now: datetime, actor: Actor | None = None) -> None:
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_key(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(LoginSession.account_id)
    ).first()
    if result is not None:
        audit.record(
            session, actor or Actor(result[0]), now, "account.logged_out", "account", result[0]
        )


def revoke_all_sessions(
    session: Session, account_id: int, now: datetime, keep: str | None = None
) -> int:
    """End every open session of the account, except the one whose token is ``keep``."""
    stmt = update(LoginSession).where(
        LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None)
    )
    if keep:
        stmt = stmt.where(LoginSession.id != session_key(keep))
    return session.execute(stmt.values(revoked_at=now)).rowcount


def revoke_organisation_sessions(session: Session, organisation_id: int, now: datetime) -> int:
    """End every open session of the organisation's contacts (it was deactivated)."""
    members = select(Account.id).where(Account.organisation_id == organisation_id)
    return session.execute(
        update(LoginSession)
        .where(LoginSession.account_id.in_(members), LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount


def log_out_everywhere(session: Session, actor: Actor, account: Account, now: datetime) -> int:
    ended = revoke_all_sessions(session, account.id, now)
    audit.record(
        session,
        actor,
        now,
        "account.logged_out_everywhere",
        "account",
        account.id,
        after={"sessions_ended": ended},
    )
    return ended


def update_profile(
    session: Session, actor: Actor, account: Account, now: datetime, *, name: str, locale: str
) -> None:
    name = name.strip()
    if not name:
        raise AccountError("name-required")
    before = {"name": account.name, "locale": account.locale}
    account.name = name
    account.locale = locale
    after = {"name": account.name, "locale": account.locale}
    if before != after:
        session.flush()
        audit.record(
            session,
            actor,
            now,
            "account.updated",
            "account",
            account.id,
            before=before,
            after=after,
        )


def change_password(
    session: Session,
    account: Account,
    current: str,
    new: str,
    now: datetime,
    keep_session: str,
    actor: Actor | None = None,
) -> int:
    """Change the password and end every other session of the account (the one whose token is
    ``keep_session`` stays). Returns how many sessions were ended."""
    if not security.verify_password(account.password_hash, current):
        raise AccountError("current-password")
    if new == current:
        raise AccountError("same-as-current")
    check_new_password(new, name=account.name, email=account.email)
    account.password_hash = security.hash_password(new)
    account.password_changed_at = now
    session.flush()
    ended = revoke_all_sessions(session, account.id, now, keep=keep_session)
    audit.record(
        session,
        actor or Actor(account.id),
        now,
        "account.password_changed",
        "account",
        account.id,
        after={"other_sessions_ended": ended},
    )
    return ended


def create_account(
    session: Session,
    *,
    kind: AccountKind | str,
    email: str,
    name: str,
    password: str | None = None,
    password_hash: str | None = None,
    phone: str | None = None,
    organisation_id: int | None = None,
    is_org_admin: bool = False,
    department_id: int | None = None,
    roles: list[str] | tuple[str, ...] = (),
    locale: str | None = None,
) -> Account:
    """A new account with ``password``, or with ``password_hash`` when the caller hashed it
    already (the demo gives all its accounts one password and hashes it once)."""
    if (password is None) == (password_hash is None):
        raise ValueError("give a password or its hash")
    kind = AccountKind(kind)
    if kind is AccountKind.CUSTOMER and organisation_id is None:
        raise AccountError("a customer belongs to an organisation")
    if kind is AccountKind.CUSTOMER and roles:
        raise AccountError("customers hold no staff roles")
    if password is not None:
        check_new_password(password, name=name, email=email)
    account = Account(
        kind=kind.value,
        email=email.strip().lower(),
        name=name.strip(),
        phone=phone,
        password_hash=password_hash or security.hash_password(password or ""),
        organisation_id=organisation_id,
        is_org_admin=is_org_admin,
        department_id=department_id,
        locale=locale,
        roles=[AccountRole(role=r) for r in roles],
    )
    session.add(account)
    session.flush()
    return account
