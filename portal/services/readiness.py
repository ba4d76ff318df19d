"""Readiness (README, Production: "Health and readiness"): may a load balancer send this node traffic,
and is the desk's background work keeping up? ``/readyz`` shows each check with its own status
and answers 503 when one fails. Only states, counts and ages go out: no address, no secret, no
personal data.

The checks:
- ``database``: a statement answers;
- ``migrations``: the schema is at the code's Alembic head (none pending);
- ``redis``: it answers (jobs, timers and limits live there);
- ``sla_sweep``: the last sweep finished within ``READY_SWEEP_MAX_AGE_SECONDS`` (default five
  sweep intervals, at least two minutes); a desk with no worker has none;
- ``outbox``: no mail or group-bot message has waited past its time by more than
  ``READY_OUTBOX_LAG_SECONDS``, and fewer than ``READY_OUTBOX_FAILED_MAX`` failed for good in
  the last hour;
- ``inbound``: every active IMAP mailbox was fetched within ``READY_INBOUND_LAG_SECONDS``
  (default five poll intervals, at least five minutes); "not configured" without mailboxes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from portal.models import EmailOutbox, Mailbox

OK, FAIL, NOT_CONFIGURED = "ok", "fail", "not configured"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, FAIL or NOT_CONFIGURED (which does not fail)
    detail: dict

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return not any(c.failed for c in self.checks)

    def as_dict(self) -> dict:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {c.name: {"status": c.status, **c.detail} for c in self.checks},
        }


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _seconds(config: Mapping, key: str, default: float) -> float:
    value = config.get(key)
    return float(value) if value not in (None, "") else default


@lru_cache(maxsize=1)
def _code_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    from portal.migrate import alembic_config

    return tuple(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def check_database(session: Session) -> list[Check]:
    """The database and the migrations; when the database does not answer, both fail."""
    from alembic.runtime.migration import MigrationContext

    try:
        session.execute(text("SELECT 1"))
        current = MigrationContext.configure(session.connection()).get_current_heads()
    except Exception as exc:  # noqa: BLE001 - any failure to answer is "not ready"
        session.rollback()
        reason = {"error": type(exc).__name__}
        return [Check("database", FAIL, reason), Check("migrations", FAIL, {"error": "no database"})]
    heads = _code_heads()
    pending = tuple(sorted(current)) != heads
    return [
        Check("database", OK, {}),
        Check(
            "migrations",
            FAIL if pending else OK,
            {"schema": sorted(current), "code": list(heads)},
        ),
    ]


def check_redis(conn) -> tuple[Check, str | None]:
    """Redis, and the last sweep's time read from it (None when it could not be read)."""
    from redis.exceptions import RedisError

    from portal.services.timers import last_sweep

    if conn is None:
        return Check("redis", NOT_CONFIGURED, {}), None
    try:
        conn.ping()
        return Check("redis", OK, {}), last_sweep(conn) or ""
    except RedisError as exc:
        return Check("redis", FAIL, {"error": type(exc).__name__}), None


def check_sweep(last: str | None, config: Mapping, now: datetime) -> Check:
    limit = _seconds(
        config,
        "READY_SWEEP_MAX_AGE_SECONDS",
        max(120.0, 5 * float(config.get("SLA_SWEEP_SECONDS", 30))),
    )
    if last is None:
        return Check("sla_sweep", FAIL, {"error": "no redis", "max_age_seconds": limit})
    if last == "":
        return Check("sla_sweep", FAIL, {"age_seconds": None, "max_age_seconds": limit})
    age = (now - _aware(datetime.fromisoformat(last))).total_seconds()
    status = OK if age <= limit else FAIL
    return Check("sla_sweep", status, {"age_seconds": round(age, 1), "max_age_seconds": limit})


def check_outbox(session: Session, config: Mapping, now: datetime) -> Check:
    lag = _seconds(config, "READY_OUTBOX_LAG_SECONDS", 600.0)
    failed_max = int(_seconds(config, "READY_OUTBOX_FAILED_MAX", 10))
    due = now - timedelta(seconds=lag)
    hour_ago = now - timedelta(hours=1)
    late, failed = session.execute(
        select(
            func.count().filter(EmailOutbox.status == "pending", EmailOutbox.next_attempt_at < due),
            func.count().filter(
                EmailOutbox.status == "failed", EmailOutbox.next_attempt_at >= hour_ago
            ),
        ).where(
            or_(
                EmailOutbox.status == "pending",
                (EmailOutbox.status == "failed") & (EmailOutbox.next_attempt_at >= hour_ago),
            )
        )
    ).one()
    status = FAIL if late or failed >= failed_max else OK
    return Check(
        "outbox",
        status,
        {
            "late": late,
            "late_after_seconds": lag,
            "failed_last_hour": failed,
            "failed_max": failed_max,
        },
    )


def check_inbound(session: Session, config: Mapping, now: datetime) -> Check:
    boxes = session.execute(
        select(Mailbox.last_fetch_at, Mailbox.created_at, Mailbox.last_error).where(
            Mailbox.active.is_(True)
        )
    ).all()
    if not boxes:
        return Check("inbound", NOT_CONFIGURED, {})
    limit = _seconds(
        config,
        "READY_INBOUND_LAG_SECONDS",
        max(300.0, 5 * float(config.get("INBOUND_POLL_SECONDS", 60))),
    )
    lagging = 0
    for last_fetch, created, _error in boxes:
        since = _aware(last_fetch) or _aware(created)
        if (now - since).total_seconds() > limit:
            lagging += 1
    return Check(
        "inbound",
        FAIL if lagging else OK,
        {
            "mailboxes": len(boxes),
            "lagging": lagging,
            "with_errors": sum(1 for *_, error in boxes if error),
            "max_lag_seconds": limit,
        },
    )


def readiness(session: Session, conn, config: Mapping, now: datetime) -> Readiness:
    """Every check once; a database that does not answer skips the checks that read it."""
    checks = check_database(session)
    redis_check, last = check_redis(conn)
    checks.append(redis_check)
    checks.append(check_sweep(last, config, now))
    if not checks[0].failed:
        checks.append(check_outbox(session, config, now))
        checks.append(check_inbound(session, config, now))
    session.rollback()  # a GET writes nothing: end the read
    return Readiness(tuple(checks))
