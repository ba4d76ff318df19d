"""Password hashing (Argon2id) and failed-login throttling."""

from __future__ import annotations

import hashlib
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# hashed once so that a login for an unknown account costs the same time as a wrong password
_dummy_hash: str | None = None


def configure(params: dict) -> None:
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(**params)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the configured ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def verify_password(password_hash: str | None, password: str) -> bool:
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("not-a-password")
        password_hash = _dummy_hash
        try:
            _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginThrottle:
    """Counts failed logins per submitted identity and per IP address in Redis, in a fixed window.

    Counted for any submitted identity, known or not, so the answer never tells whether an
    account exists. Without Redis it lets logins through (and logs it): the desk stays usable,
    and each attempt still costs an Argon2 verification.
    """

    def __init__(self, redis, per_identity: int, per_ip: int, window_seconds: int) -> None:
        self.redis = redis
        self.per_identity = per_identity
        self.per_ip = per_ip
        self.window = window_seconds

    @staticmethod
    def _keys(side: str, identity: str, ip: str) -> tuple[str, str]:
        digest = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]
        return f"portal:throttle:{side}:id:{digest}", f"portal:throttle:{side}:ip:{ip}"

    def retry_after(self, side: str, identity: str, ip: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        id_key, ip_key = self._keys(side, identity, ip)
        try:
            id_count, ip_count = self.redis.mget(id_key, ip_key)
            waits = []
            if id_count is not None and int(id_count) >= self.per_identity:
                waits.append(self.redis.ttl(id_key))
            if ip_count is not None and int(ip_count) >= self.per_ip:
                waits.append(self.redis.ttl(ip_key))
        except RedisError as exc:
            log.warning("login throttle unavailable: %s", type(exc).__name__)
            return 0
        return max([w for w in waits if w and w > 0], default=0)

    def failed(self, side: str, identity: str, ip: str) -> None:
        """Count one failed attempt against the identity and the address; the window starts at
        the first failure."""
        pipe = self.redis.pipeline()
        for key in self._keys(side, identity, ip):
            pipe.incr(key)
            pipe.expire(key, self.window, nx=True)
        try:
            pipe.execute()
        except RedisError as exc:
            log.warning("login throttle unavailable: %s", type(exc).__name__)

    def succeeded(self, side: str, identity: str, ip: str) -> None:
        try:
            self.redis.delete(self._keys(side, identity, ip)[0])
        except RedisError as exc:
            log.warning("login throttle unavailable: %s", type(exc).__name__)
