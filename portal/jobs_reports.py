"""RQ jobs of the reports: the daily check that makes the monthly feedback analysis report on
the first working day of the next month (docs/product.md §9). The check has one job id per day
(``check_job_id``), enqueued by the worker's keeper thread beside the SLA sweep
(``portal.jobs_sla.start_sweep_keeper``), so it comes back after Redis lost everything; the
report's month is a unique key, so any number of checks make one report."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from redis import Redis
from rq import Queue

from portal.jobs import _get_app

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def monthly_feedback_report() -> str:
    """Make the report that is due today unless it exists: "made FA-…" or "exists FA-…"."""
    app = _get_app()
    with app.app_context():
        from portal.db import db
        from portal.domain.report_stats import report_due
        from portal.services.audit import SYSTEM
        from portal.services.reports import monthly
        from portal.services.timers import desk_calendar

        session = db.session
        tz = app.config["PORTAL_TIMEZONE"]
        now = _now()
        calendar = desk_calendar(session)
        month = report_due(calendar, calendar.local_date(now))
        report, made = monthly.generate(session, SYSTEM, month, tz, now)
        session.commit()
        return f"{'made' if made else 'exists'} {report.number}"


def check_job_id(day: date) -> str:
    return f"feedback-report-check-{day:%Y%m%d}"


def ensure_monthly_check(
    conn: Redis, queue_name: str = "default", now: datetime | None = None
) -> bool:
    """Enqueue today's check unless it is there (a deterministic id: one a day, whatever the
    number of workers; again after a FLUSHALL)."""
    job_id = check_job_id((now or _now()).date())
    if conn.exists(f"rq:job:{job_id}"):
        return False
    Queue(queue_name, connection=conn).enqueue(
        "portal.jobs_reports.monthly_feedback_report",
        job_id=job_id,
        result_ttl=2 * 24 * 3600,
        failure_ttl=24 * 3600,
    )
    return True
