"""Failed logins counted per account and per IP address (docs/product.md §11, Limits), in the
rate-limit storage of Flask-Limiter (Redis; the embedded default's stand-in or memory).

Counted per ACCOUNT, whichever identifier was typed (the e-mail or the mobile number share one
count), and per typed identifier when it belongs to no account, so the answer never tells
whether an account exists. The counter is one atomic INCR per failure: of any number of
concurrent wrong attempts exactly one makes the count reach the limit, and only that one
records ``account.locked``. A correct password is refused while the account is locked, checked
again after the (slow) password check, so a correct attempt racing the wrong ones does not slip
through once they have locked it. Without the storage, logins go on (logged): each attempt still
costs an Argon2 verification.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from limits import RateLimitItemPerSecond
from sqlalchemy.orm import Session

from portal import metrics
from portal.models import Account
from portal.services import accounts, audit
from portal.services.audit import Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    # seconds to wait when the attempt was refused unseen (locked); 0 otherwise
    retry_after: int = 0


class LoginLockout:
    def __init__(self, storage, per_account: int, per_ip: int, window_seconds: int) -> None:
        self.storage = storage
        self.account_limit = RateLimitItemPerSecond(per_account, window_seconds)
        self.ip_limit = RateLimitItemPerSecond(per_ip, window_seconds)

    @staticmethod
    def subject(kind: str, identifier: str, account: Account | None) -> str:
        if account is not None:
            return f"account-{account.id}"
        digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
        return f"unknown-{kind}-{digest}"

    def _keys(self, subject: str, ip: str) -> list[tuple[RateLimitItemPerSecond, str]]:
        return [
            (self.account_limit, self.account_limit.key_for("login", subject)),
            (self.ip_limit, self.ip_limit.key_for("login-ip", ip)),
        ]

    def retry_after(self, subject: str, ip: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        waits = []
        try:
            for item, key in self._keys(subject, ip):
                if self.storage.get(key) >= item.amount:
                    waits.append(max(1, int(self.storage.get_expiry(key) - time.time())))
        except Exception as exc:  # the storage's own errors (Redis down): let logins go on
            log.warning("login limits unavailable: %s", type(exc).__name__)
            return 0
        return max(waits, default=0)

    def failed(self, subject: str, ip: str) -> bool:
        """Count one failure against the subject and the address; True for the one failure that
        locked the subject (the count reached the limit)."""
        try:
            counts = [
                self.storage.incr(key, item.get_expiry()) for item, key in self._keys(subject, ip)
            ]
        except Exception as exc:
            log.warning("login limits unavailable: %s", type(exc).__name__)
            return False
        return counts[0] == self.account_limit.amount

    def succeeded(self, subject: str) -> None:
        try:
            self.storage.clear(self.account_limit.key_for("login", subject))
        except Exception as exc:
            log.warning("login limits unavailable: %s", type(exc).__name__)


def attempt(
    session: Session,
    lockout: LoginLockout,
    kind: str,
    identifier: str,
    password: str,
    *,
    ip: str,
    now: datetime,
) -> LoginResult:
    """One login attempt on the ``kind`` side: the account when the password is right and
    neither the account nor the address is locked; the caller opens the session."""
    account = accounts.find_for_login(session, kind, identifier)
    subject = lockout.subject(kind, identifier, account)
    wait = lockout.retry_after(subject, ip)
    if wait:
        metrics.LOGINS.labels(kind, "locked").inc()
        return LoginResult(None, wait)
    if not accounts.password_matches(account, password):
        metrics.LOGINS.labels(kind, "failed").inc()
        if lockout.failed(subject, ip) and account is not None:
            audit.record(
                session,
                Actor(None, ip=ip),
                now,
                "account.locked",
                "account",
                account.id,
                after={"failures": lockout.account_limit.amount},
            )
            log.warning("account %s locked after repeated failed logins", account.id)
        return LoginResult(None)
    # wrong attempts may have locked it while this password was being checked
    wait = lockout.retry_after(subject, ip)
    if wait:
        metrics.LOGINS.labels(kind, "locked").inc()
        return LoginResult(None, wait)
    metrics.LOGINS.labels(kind, "ok").inc()
    lockout.succeeded(subject)
    return LoginResult(account)
