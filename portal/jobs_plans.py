"""The periodic service plans' RQ job (portal/services/plan_opener.py). The SLA sweep asks
``ensure_opener`` every time it runs; once per slot of PLAN_OPEN_SECONDS the opener job is
enqueued under a deterministic id, so any number of sweeps make one opener a slot, and a Redis
that lost everything (FLUSHALL) gets it back with the next sweep (whose own keeper thread
survives it). The job reads the database afresh and is safe to run twice or concurrently:
each occurrence's key (plan, rule date) is UNIQUE, and the loser of a race opens nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from redis import Redis
from rq import Queue

from portal.jobs import _get_app

log = logging.getLogger(__name__)


def opener_job_id(slot: int) -> str:
    return f"plans-open-{slot}"


def ensure_opener(
    conn: Redis,
    q: Queue,
    now: datetime,
    interval: float,
    wanted: Callable[[], bool] = lambda: True,
) -> bool:
    """Enqueue this slot's opener unless it exists or no plan runs (``wanted``, asked only
    when the slot has no opener yet); True when it did."""
    slot = int(now.timestamp() // max(interval, 1.0))
    job_id = opener_job_id(slot)
    if conn.exists(f"rq:job:{job_id}") or not wanted():
        return False
    q.enqueue(
        "portal.jobs_plans.open_plans",
        job_id=job_id,
        result_ttl=max(120, int(interval * 4)),
        failure_ttl=3600,
    )
    return True


def open_plans() -> dict:
    """Open every occurrence that is due to open and is not (one transaction each)."""
    app = _get_app()
    with app.app_context():
        from portal.db import db
        from portal.services import plan_opener

        result = plan_opener.open_due(db.session, datetime.now(UTC), app.config["PORTAL_TIMEZONE"])
        if result["opened"]:
            log.info("service plans: %(opened)s opened (%(late)s late)", result)
        return result
