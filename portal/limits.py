"""Rate limits with Flask-Limiter (docs/product.md §11, Limits): its storage is the app's Redis
(REDIS_URL), or memory in the embedded default (one process holds the web). The login lockout
(portal/services/login_lockout.py) and the "forgot password" limit per address count in the
same storage; the routes' own limits are decorators (``limit`` below) on the views.

Without the storage (Redis down) requests go on: the errors are swallowed and logged.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context, request
from flask_limiter import Limiter
from flask_login import current_user

from portal.services.login_lockout import LoginLockout


def client_address() -> str:
    """The client's address: ``request.remote_addr``, which reads ``X-Forwarded-For`` only
    through ProxyFix with PROXY_FIX_X_FOR trusted proxies (portal/__init__.py)."""
    return request.remote_addr or "-"


def person_or_address() -> str:
    """Per logged-in person, else per address."""
    if current_user.is_authenticated:
        return f"account-{current_user.account.id}"
    return f"ip-{client_address()}"


class PortalLimiter(Limiter):
    """Flask-Limiter with a storage per app: its own keeps one for the whole process, the last
    app's, and the tests (and the CLI) build more than one app."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.extensions["portal_limits"] = (self._storage, self._limiter)

    def _own(self):
        if has_app_context():
            return current_app.extensions.get("portal_limits")
        return None

    @property
    def storage(self):
        own = self._own()
        return own[0] if own else super().storage

    @property
    def limiter(self):
        own = self._own()
        return own[1] if own else super().limiter


limiter = PortalLimiter(
    key_func=client_address,
    strategy="fixed-window",
    key_prefix="portal-limits",
    swallow_errors=True,
    headers_enabled=True,
)


def rate(name: str):
    """The limit ``name`` of RATE_LIMITS, read when a request comes (a setting, not a constant)."""
    return lambda: current_app.config["RATE_LIMITS"][name]


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter.init_app(app)


def storage():
    return limiter.storage


def login_lockout() -> LoginLockout:
    limits = current_app.config["LOGIN_LIMITS"]
    return LoginLockout(
        storage(),
        per_account=limits["per_account"],
        per_ip=limits["per_ip"],
        window_seconds=limits["window_seconds"],
    )
