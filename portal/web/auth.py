"""Flask-Login over server-side sessions, and the guards of the two sides."""

from __future__ import annotations

from flask import Flask, abort, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.db import db
from portal.extensions import login_manager
from portal.models import Account, LoginSession, utcnow
from portal.services import accounts
from portal.services.audit import Actor


class PortalUser:
    """The logged-in person: an account seen through one server-side session."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, account: Account, token: str) -> None:
        self.account = account
        self.token = token

    def get_id(self) -> str:
        return self.token

    def __getattr__(self, name):
        return getattr(self.account, name)


def init_app(app: Flask) -> None:
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def _load(token: str):
        row = db.session.execute(
            select(Account, LoginSession.kind)
            .join(LoginSession, LoginSession.account_id == Account.id)
            .where(
                LoginSession.id == token,
                LoginSession.revoked_at.is_(None),
                Account.active.is_(True),
            )
        ).first()
        if row is None or row[1] != row[0].kind:
            return None
        return PortalUser(row[0], token)

    @login_manager.unauthorized_handler
    def _unauthorized():
        side = "staff" if request.blueprint == "staff" else "customer"
        return redirect(url_for(f"{side}.login", next=request.full_path.rstrip("?")))


def log_in(account: Account) -> None:
    """A new session at login: the old cookie's content is dropped, a new server-side row made."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login = accounts.open_session(
        db.session, account, utcnow(), request.remote_addr, request.headers.get("User-Agent")
    )
    db.session.commit()
    login_user(PortalUser(account, login.id))


def log_out() -> None:
    if current_user.is_authenticated:
        accounts.revoke_session(db.session, current_user.token, utcnow())
        db.session.commit()
    logout_user()
    session.clear()


def actor() -> Actor:
    from flask import g

    return Actor(
        account_id=current_user.id if current_user.is_authenticated else None,
        ip=request.remote_addr,
        http_request_id=g.get("request_id"),
    )


def guard_side(kind: str, public_endpoints: set[str]):
    """A before_request for a whole blueprint: anonymous → that side's login; the other side's
    session → 403."""

    def _guard():
        if request.endpoint in public_endpoints:
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.kind != kind:
            abort(403)
        return None

    return _guard
