"""The daily digest's RQ job (portal/services/digest.py). The SLA sweep asks ``ensure_digest``
every time it runs; from DIGEST_HOUR desk time on, the day's job is enqueued once (a Redis
flag per desk day), and the job itself is safe to run twice or concurrently: each person's
digest of the day exists at most once in the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from redis import Redis
from rq import Queue

from portal.jobs import _get_app

log = logging.getLogger(__name__)


def digest_job_id(day: date) -> str:
    return f"digest-{day.isoformat()}"


def ensure_digest(
    conn: Redis,
    q: Queue,
    now: datetime,
    timezone: str,
    hour: int,
    wanted: Callable[[], bool] = lambda: True,
) -> date | None:
    """Enqueue the digest of the desk day of ``now`` if its hour has come, someone wants one
    (``wanted``, asked only then) and it was not enqueued yet; returns the day when it did."""
    local = now.astimezone(ZoneInfo(timezone))
    if local.hour < hour:
        return None
    day = local.date()
    flag = f"portal:digest-enqueued:{day.isoformat()}"
    if conn.exists(flag) or not wanted():
        return None
    if not conn.set(flag, "1", nx=True, ex=3 * 86400):
        return None
    q.enqueue(
        "portal.jobs_digest.run_digest",
        day.isoformat(),
        job_id=digest_job_id(day),
        result_ttl=int(timedelta(days=2).total_seconds()),
        failure_ttl=86400,
    )
    return day


def run_digest(day_iso: str) -> dict:
    """Queue every digest of this desk day (one commit per person; the mail is sent by its own
    job after each commit). Returns how many went out."""
    app = _get_app()
    with app.app_context():
        from portal.db import db
        from portal.services import digest

        session = db.session
        day = date.fromisoformat(day_iso)
        account_ids = digest.candidates(session)
        session.rollback()
        sent = 0
        for account_id in account_ids:
            try:
                mail = digest.send_digest(session, account_id, day)
                session.commit()
            except Exception:
                session.rollback()
                log.exception("digest of %s for account %s failed", day_iso, account_id)
                continue
            sent += int(mail is not None)
        return {"day": day_iso, "people": len(account_ids), "sent": sent}
