"""When each login session was last used: kept in Redis, not in the database, so that a GET
writes nothing to the database (tests/test_get_writes.py), and written at most once a minute
per session. ``login_sessions.last_seen_at`` stays the time of login; the later of the two
counts, so a lost Redis (the embedded stand-in after a restart) falls back to the login time.

Without Redis the idle timeout is not applied (and it is logged): the desk stays usable, and
the absolute age of a session still ends it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY = "portal:session-seen:"
# a session's last use is written again only when the stored one is older than this
TOUCH_EVERY = timedelta(minutes=1)


def _key(session_id: str) -> str:
    return KEY + session_id


def seen(redis, session_ids: list[str]) -> dict[str, datetime] | None:
    """The last use of each session Redis knows of; None when Redis cannot be read."""
    if not session_ids:
        return {}
    try:
        values = redis.mget([_key(s) for s in session_ids])
    except RedisError as exc:
        log.warning("session activity unavailable: %s", type(exc).__name__)
        return None
    return {
        sid: datetime.fromtimestamp(float(v), UTC)
        for sid, v in zip(session_ids, values, strict=True)
        if v is not None
    }


def touch(redis, session_id: str, now: datetime, last: datetime | None, keep: timedelta) -> None:
    """Note that the session was used ``now``, unless that was noted less than a minute ago.
    The key expires with the session's absolute age."""
    if last is not None and now - last < TOUCH_EVERY:
        return
    try:
        redis.set(_key(session_id), f"{now.timestamp():.0f}", ex=max(60, int(keep.total_seconds())))
    except RedisError as exc:
        log.warning("session activity unavailable: %s", type(exc).__name__)


def forget(redis, session_ids: list[str]) -> None:
    if not session_ids:
        return
    try:
        redis.delete(*[_key(s) for s in session_ids])
    except RedisError as exc:
        log.warning("session activity unavailable: %s", type(exc).__name__)
