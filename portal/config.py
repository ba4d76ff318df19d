"""Settings from the environment, with the embedded defaults (README: Settings)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else generated once into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def desk_timezone() -> str:
    """PORTAL_TIMEZONE: the desk's time zone (form numbers, displayed times, the default
    calendar); read here for the app and for the migration that creates the default calendar."""
    return os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai")


def load_settings(instance_path: str) -> dict:
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": _secret_key(instance),
        "DATABASE_URL": database_url,
        # None means embedded: an in-process Redis stand-in with the worker beside it.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "PORTAL_TIMEZONE": desk_timezone(),
        "RQ_QUEUES": ["default"],
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance / "uploads")),
        # a whole request: up to 10 files at the per-file limit plus the form's text
        "MAX_CONTENT_LENGTH": (10 * int(os.environ.get("MAX_UPLOAD_MB", "20")) + 1) * 1024 * 1024,
        "UPLOAD_MAX_BYTES": int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        # the portal's public address: the links in mails are built from it, never from the
        # request's Host header (README: Production)
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL") or None,
        # invitation links work this long; password-reset links this long
        "INVITATION_MAX_AGE_HOURS": float(os.environ.get("INVITATION_MAX_AGE_HOURS", "72")),
        "PASSWORD_RESET_MAX_AGE_MINUTES": float(
            os.environ.get("PASSWORD_RESET_MAX_AGE_MINUTES", "60")
        ),
        # "forgot password" requests per address and per IP in a window (dropped beyond)
        "PASSWORD_RESET_LIMITS": {"per_address": 3, "per_ip": 20, "window_seconds": 3600},
        "MAIL_SERVER": os.environ.get("MAIL_SERVER"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "servicedesk@localhost"),
        # inbound mail (docs/product.md §9): a larger mail is refused; INBOUND_AUTH is off,
        # header (a failing Authentication-Results of our own server keeps a mail from
        # attaching) or require (it must pass); only headers of INBOUND_AUTHSERV_ID count
        "INBOUND_MAX_BYTES": int(os.environ.get("INBOUND_MAX_BYTES", str(25 * 1024 * 1024))),
        "INBOUND_AUTH": os.environ.get("INBOUND_AUTH", "header"),
        "INBOUND_AUTHSERV_ID": os.environ.get("INBOUND_AUTHSERV_ID") or None,
        # outbox: attempts before a mail is marked failed; first retry after this many seconds,
        # doubling each time (capped at MAIL_RETRY_MAX_SECONDS)
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "8")),
        "MAIL_RETRY_BASE_SECONDS": float(os.environ.get("MAIL_RETRY_BASE_SECONDS", "30")),
        "MAIL_RETRY_MAX_SECONDS": float(os.environ.get("MAIL_RETRY_MAX_SECONDS", "3600")),
        # group bots (portal/services/group_bot_send.py): each webhook call's timeout, and
        # whether a webhook address may be plain http (a local test receiver; never in production)
        "GROUP_BOT_TIMEOUT_SECONDS": float(os.environ.get("GROUP_BOT_TIMEOUT_SECONDS", "10")),
        "GROUP_BOT_ALLOW_HTTP": os.environ.get("GROUP_BOT_ALLOW_HTTP", "") == "1",
        # SLA timers: the repairing sweep runs this often; it looks back this far for deadlines
        # a lost Redis or a dead worker missed
        "SLA_SWEEP_SECONDS": float(os.environ.get("SLA_SWEEP_SECONDS", "30")),
        "SLA_SWEEP_LOOKBACK_HOURS": float(os.environ.get("SLA_SWEEP_LOOKBACK_HOURS", "168")),
        # the daily digest of notifications goes out from this hour, desk time (0-23)
        "DIGEST_HOUR": int(os.environ.get("DIGEST_HOUR", "8")),
        # the periodic service plans' opener runs this often (enqueued by the SLA sweep)
        "PLAN_OPEN_SECONDS": float(os.environ.get("PLAN_OPEN_SECONDS", "60")),
        # inbound e-mail (IMAP mailboxes, docs/product.md §9): every mailbox is fetched this
        # often, at most this many mails per mailbox a run; a worker holds a mailbox this long
        # at most (a Redis lock, so that two workers normally do not fetch it at once)
        "INBOUND_POLL_SECONDS": float(os.environ.get("INBOUND_POLL_SECONDS", "60")),
        # /metrics answers to these addresses or networks only (comma-separated; empty: closed);
        # a worker serves its own metrics on METRICS_PORT when set (portal/metrics.py)
        "METRICS_ALLOW": os.environ.get("METRICS_ALLOW", "127.0.0.1,::1"),
        "METRICS_PORT": int(os.environ.get("METRICS_PORT", "0") or 0),
        # /readyz's limits (portal/services/readiness.py; unset: derived from the intervals)
        "READY_SWEEP_MAX_AGE_SECONDS": os.environ.get("READY_SWEEP_MAX_AGE_SECONDS"),
        "READY_OUTBOX_LAG_SECONDS": os.environ.get("READY_OUTBOX_LAG_SECONDS"),
        "READY_OUTBOX_FAILED_MAX": os.environ.get("READY_OUTBOX_FAILED_MAX"),
        "READY_INBOUND_LAG_SECONDS": os.environ.get("READY_INBOUND_LAG_SECONDS"),
        "INBOUND_FETCH_LIMIT": int(os.environ.get("INBOUND_FETCH_LIMIT", "200")),
        "INBOUND_LOCK_SECONDS": int(os.environ.get("INBOUND_LOCK_SECONDS", "300")),
        # seconds an IMAP connection may wait on the server
        "INBOUND_IMAP_TIMEOUT": float(os.environ.get("INBOUND_IMAP_TIMEOUT", "30")),
        # the key the mailbox passwords are encrypted under (SECRET_KEY when not set)
        "MAILBOX_KEY": os.environ.get("MAILBOX_KEY") or None,
        # the dispatcher board re-reads itself this often (seconds)
        "BOARD_REFRESH_SECONDS": int(os.environ.get("BOARD_REFRESH_SECONDS", "15")),
        # a login session ends this long after login whatever happens, and this long after its
        # last use: staff sooner than customers (portal/services/session_seen.py)
        "LOGIN_SESSION_MAX_AGE": int(float(os.environ.get("SESSION_MAX_AGE_HOURS", "336")) * 3600),
        "SESSION_IDLE_STAFF_HOURS": float(os.environ.get("SESSION_IDLE_STAFF_HOURS", "8")),
        "SESSION_IDLE_CUSTOMER_HOURS": float(os.environ.get("SESSION_IDLE_CUSTOMER_HOURS", "24")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        # Argon2id; the tests pass cheaper parameters.
        "PASSWORD_HASH": {"time_cost": 3, "memory_cost": 65536, "parallelism": 2},
        # failed logins per account (whichever identifier was typed) and per IP address in a
        # window; beyond either, logins are refused until the window ends (portal/limits.py)
        "LOGIN_LIMITS": {
            "per_account": int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5")),
            "per_ip": int(os.environ.get("LOGIN_FAILURES_PER_IP", "30")),
            "window_seconds": int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900")),
        },
        # the routes' own limits (Flask-Limiter's notation): new requests per person, queue
        # searches per person, "forgot password" posts per address, strength-meter posts per
        # address
        "RATE_LIMITS": {
            "submission": os.environ.get("RATE_LIMIT_SUBMISSION", "30 per hour"),
            "search": os.environ.get("RATE_LIMIT_SEARCH", "120 per minute"),
            "password_reset": os.environ.get("RATE_LIMIT_PASSWORD_RESET", "20 per hour"),
            "strength": os.environ.get("RATE_LIMIT_STRENGTH", "120 per minute"),
        },
        # how many proxies in front of the portal set X-Forwarded-For (and -Proto); 0: none, the
        # header is ignored and the client's address is the connection's
        "PROXY_FIX_X_FOR": int(os.environ.get("PROXY_FIX_X_FOR", "0")),
        "PAGE_SIZE": 50,
        "COUNT_CAP": 10_000,
        # queue view counts shared by all staff are cached this long (the key follows changes)
        "QUEUE_COUNT_CACHE_SECONDS": 30,
        "LANGUAGES": ["zh_CN", "en"],
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "WTF_CSRF_TIME_LIMIT": None,
    }
