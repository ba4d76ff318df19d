"""Accounts and server-side login sessions."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal import security
from portal.domain.vocabulary import AccountKind
from portal.models import Account, AccountRole, LoginSession


class AccountError(ValueError):
    """A problem the user can fix; the message is shown to them."""


def find_for_login(session: Session, kind: str, identifier: str) -> Account | None:
    ident = identifier.strip()
    if not ident:
        return None
    if "@" in ident:
        cond = func.lower(Account.email) == ident.lower()
    else:
        cond = Account.phone == ident
    return session.scalars(
        select(Account).where(cond, Account.kind == kind, Account.active.is_(True))
    ).first()


def authenticate(session: Session, kind: str, identifier: str, password: str) -> Account | None:
    account = find_for_login(session, kind, identifier)
    # verify even for an unknown account, so the time taken does not tell
    ok = security.verify_password(account.password_hash if account else None, password)
    return account if ok else None


def open_session(
    session: Session, account: Account, now: datetime, ip: str | None, user_agent: str | None
) -> LoginSession:
    login = LoginSession(
        id=secrets.token_urlsafe(32),
        account_id=account.id,
        kind=account.kind,
        created_at=now,
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:300],
    )
    session.add(login)
    session.flush()
    return login


def revoke_session(session: Session, token: str, now: datetime) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.id == token, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all_sessions(
    session: Session, account_id: int, now: datetime, keep: str | None = None
) -> int:
    stmt = update(LoginSession).where(
        LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None)
    )
    if keep:
        stmt = stmt.where(LoginSession.id != keep)
    return session.execute(stmt.values(revoked_at=now)).rowcount


def change_password(
    session: Session, account: Account, current: str, new: str, now: datetime, keep_session: str
) -> None:
    if not security.verify_password(account.password_hash, current):
        raise AccountError("current-password")
    if len(new) < 10:
        raise AccountError("too-short")
    account.password_hash = security.hash_password(new)
    account.password_changed_at = now
    revoke_all_sessions(session, account.id, now, keep=keep_session)


def create_account(
    session: Session,
    *,
    kind: AccountKind | str,
    email: str,
    name: str,
    password: str,
    phone: str | None = None,
    organisation_id: int | None = None,
    is_org_admin: bool = False,
    department_id: int | None = None,
    roles: list[str] | tuple[str, ...] = (),
    locale: str | None = None,
) -> Account:
    kind = AccountKind(kind)
    if kind is AccountKind.CUSTOMER and organisation_id is None:
        raise AccountError("a customer belongs to an organisation")
    if kind is AccountKind.CUSTOMER and roles:
        raise AccountError("customers hold no staff roles")
    account = Account(
        kind=kind.value,
        email=email.strip().lower(),
        name=name.strip(),
        phone=phone,
        password_hash=security.hash_password(password),
        organisation_id=organisation_id,
        is_org_admin=is_org_admin,
        department_id=department_id,
        locale=locale,
        roles=[AccountRole(role=r) for r in roles],
    )
    session.add(account)
    session.flush()
    return account
