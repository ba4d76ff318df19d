"""Accounts and server-side login sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from portal import security
from portal.domain import password_policy
from portal.domain.vocabulary import AccountKind
from portal.models import Account, AccountRole, LoginSession, Organisation
from portal.services import audit, session_seen
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


def password_matches(account: Account | None, password: str) -> bool:
    """Whether ``password`` is the account's. Verified even for no account, so that the time
    taken does not tell; a hash made with other Argon2 parameters than the configured ones is
    made again under them (the caller commits)."""
    ok = security.verify_password(account.password_hash if account else None, password)
    if not ok or account is None:
        return False
    if security.needs_rehash(account.password_hash):
        account.password_hash = security.hash_password(password)
    return True


def authenticate(session: Session, kind: str, identifier: str, password: str) -> Account | None:
    account = find_for_login(session, kind, identifier)
    return account if password_matches(account, password) else None


def session_key(token: str) -> str:
    """The stored id of a login session: a digest of the cookie's token, so that the table
    alone does not let anyone present a session."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session,
    account: Account,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    *,
    renewed_for: str | None = None,
) -> tuple[LoginSession, str]:
    """Open a server-side session; returns the row and the token for the cookie. A session
    opened in place of one just ended (``renewed_for``: why, e.g. "password_changed") is
    audited as renewed, not as a login."""
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
        "account.session_renewed" if renewed_for else "account.logged_in",
        "account",
        account.id,
        after={"side": account.kind, **({"reason": renewed_for} if renewed_for else {})},
    )
    return login, token


def active_session_clause(now: datetime, max_age: timedelta):
    return and_(LoginSession.revoked_at.is_(None), LoginSession.created_at > now - max_age)


@dataclass(frozen=True)
class SessionRules:
    """How long a session lives: ``max_age`` after login whatever happens, and ``idle`` per side
    (staff, customer) after its last use."""

    max_age: timedelta
    idle: dict[str, timedelta]

    def idle_for(self, kind: str) -> timedelta:
        return self.idle.get(kind, self.max_age)


def _redis():
    from portal.queue import redis_conn

    return redis_conn()


def _last_use(login: LoginSession, noted: datetime | None) -> datetime:
    created = login.last_seen_at or login.created_at
    return max(created, noted) if noted else created


def load_session_account(
    session: Session, token: str, now: datetime, rules: SessionRules
) -> Account | None:
    """The account behind a cookie's token, if that session is open, young enough, used
    recently enough (portal/services/session_seen.py), opened on the account's own side, and
    the account (and its organisation, for a contact) is active. Notes the use (in Redis, at
    most once a minute); writes nothing to the database."""
    row = session.execute(
        select(Account, LoginSession)
        .join(LoginSession, LoginSession.account_id == Account.id)
        .where(
            LoginSession.id == session_key(token),
            active_session_clause(now, rules.max_age),
            Account.active.is_(True),
            _organisation_active(),
        )
    ).first()
    if row is None or row[1].kind != row[0].kind:
        return None
    account, login = row
    redis = _redis()
    noted = session_seen.seen(redis, [login.id])
    if noted is not None:
        if now - _last_use(login, noted.get(login.id)) > rules.idle_for(login.kind):
            return None
        session_seen.touch(redis, login.id, now, noted.get(login.id), rules.max_age)
    return account


@dataclass(frozen=True)
class OpenSession:
    """A row of "Active sessions" on the account page."""

    id: str
    kind: str
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None


def active_sessions(
    session: Session, account_id: int, now: datetime, rules: SessionRules
) -> list[OpenSession]:
    """The account's open sessions, the most recently used first (idle ones are over)."""
    logins = list(
        session.scalars(
            select(LoginSession)
            .where(
                LoginSession.account_id == account_id,
                active_session_clause(now, rules.max_age),
            )
            .order_by(LoginSession.created_at.desc())
            .limit(100)
        )
    )
    noted = session_seen.seen(_redis(), [login.id for login in logins]) or {}
    rows = [
        OpenSession(
            id=login.id,
            kind=login.kind,
            created_at=login.created_at,
            last_used_at=_last_use(login, noted.get(login.id)),
            ip=login.ip,
            user_agent=login.user_agent,
        )
        for login in logins
    ]
    return sorted(
        (r for r in rows if now - r.last_used_at <= rules.idle_for(r.kind)),
        key=lambda r: r.last_used_at,
        reverse=True,
    )


def end_session(
    session: Session, actor: Actor, account: Account, session_id: str, now: datetime
) -> bool:
    """End one of the account's own sessions (the "End" button of the list); False when it is
    not one of its open sessions."""
    ended = session.execute(
        update(LoginSession)
        .where(
            LoginSession.id == session_id,
            LoginSession.account_id == account.id,
            LoginSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    ).rowcount
    if ended:
        session_seen.forget(_redis(), [session_id])
        audit.record(session, actor, now, "account.session_ended", "account", account.id)
    return bool(ended)


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
    current_session: str,
    actor: Actor | None = None,
) -> int:
    """Change the password and end every session of the account, the changing one (whose token
    is ``current_session``) too: the caller opens a new one for it (open_session), so that a
    stolen copy of the old cookie stops working. Returns how many OTHER sessions were ended."""
    if not security.verify_password(account.password_hash, current):
        raise AccountError("current-password")
    if new == current:
        raise AccountError("same-as-current")
    check_new_password(new, name=account.name, email=account.email)
    account.password_hash = security.hash_password(new)
    account.password_changed_at = now
    session.flush()
    ended = revoke_all_sessions(session, account.id, now, keep=current_session)
    revoke_all_sessions(session, account.id, now)
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
