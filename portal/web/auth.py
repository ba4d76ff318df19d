"""Flask-Login over server-side sessions, and the guards of the two sides.

The signed cookie carries only a random token; the ``login_sessions`` row (keyed by a digest of
it) is what makes a session valid, so logout, a password change and "log out everywhere" really
end it: a copied cookie stops working at once.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal.db import db
from portal.extensions import login_manager
from portal.models import Account, utcnow
from portal.services import accounts
from portal.services.audit import Actor
from portal.web.common import safe_next

# a session ends on its own this long after login, whatever happens to the cookie
DEFAULT_SESSION_MAX_AGE = timedelta(days=14)


class PortalUser:
    """The logged-in person: an account seen through one server-side session."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, account: Account, token: str) -> None:
        self.account = account
        self.token = token

    @property
    def session_id(self) -> str:
        """The id of this session's ``login_sessions`` row."""
        return accounts.session_key(self.token)

    def get_id(self) -> str:
        return self.token

    def __getattr__(self, name):
        return getattr(self.account, name)


def session_max_age() -> timedelta:
    value = current_app.config.get("LOGIN_SESSION_MAX_AGE", DEFAULT_SESSION_MAX_AGE)
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def session_rules() -> accounts.SessionRules:
    """The absolute age and the idle timeouts of the settings (README: Settings)."""
    config = current_app.config
    return accounts.SessionRules(
        max_age=session_max_age(),
        idle={
            "staff": timedelta(hours=float(config.get("SESSION_IDLE_STAFF_HOURS", 8))),
            "customer": timedelta(hours=float(config.get("SESSION_IDLE_CUSTOMER_HOURS", 24))),
        },
    )


def init_app(app: Flask) -> None:
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def _load(token: str):
        account = accounts.load_session_account(db.session, token, utcnow(), session_rules())
        return PortalUser(account, token) if account is not None else None

    @login_manager.unauthorized_handler
    def _unauthorized():
        side = "staff" if (request.blueprint or "").split(".")[0] == "staff" else "customer"
        if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
            # a fragment (a panel, a polling counter) must not swap the login page into
            # itself: send the whole page to the login, back to the page it was part of
            current = request.headers.get("HX-Current-URL", "")
            back = safe_next(_path_of(current), "") or None
            return "", 401, {"HX-Redirect": url_for(f"{side}.login", next=back)}
        return redirect(url_for(f"{side}.login", next=request.full_path.rstrip("?")))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def log_in(account: Account) -> None:
    """A new session at login: nothing of the cookie's earlier content survives but the chosen
    language (no session fixation), and a new server-side row is opened. A session this browser
    still held (say, on the other side) is ended, not left open and unreachable."""
    locale = session.get("locale")
    now = utcnow()
    if current_user.is_authenticated:
        accounts.revoke_session(db.session, current_user.token, now, actor())
    session.clear()
    # Flask-WTF keeps the signed CSRF token on g; it belonged to the cleared session
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if locale:
        session["locale"] = locale
    _login, token = accounts.open_session(
        db.session, account, now, request.remote_addr, request.headers.get("User-Agent")
    )
    db.session.commit()
    login_user(PortalUser(account, token))


def renew_login(account: Account, reason: str) -> None:
    """Give this browser a new session in place of the one the caller just ended (a password
    change): a new token in the cookie, the old cookie and any copy of it refused. The caller
    commits."""
    _login, token = accounts.open_session(
        db.session,
        account,
        utcnow(),
        request.remote_addr,
        request.headers.get("User-Agent"),
        renewed_for=reason,
    )
    login_user(PortalUser(account, token))


def log_out() -> None:
    if current_user.is_authenticated:
        accounts.revoke_session(db.session, current_user.token, utcnow(), actor())
        db.session.commit()
    end_browser_session()


def end_browser_session() -> None:
    """Forget the login in this browser (the server-side row is ended by the caller)."""
    locale = session.get("locale")
    logout_user()
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if locale:
        session["locale"] = locale


def actor() -> Actor:
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
