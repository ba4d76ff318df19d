"""RQ jobs of the SLA timers, the sweep and the outbox. Each takes ids, opens its own app context,
re-reads the database and is safe to run twice (or concurrently with itself)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue

from portal import metrics
from portal.jobs import _get_app

# imported here, not in the keeper thread: an import running in a thread while the worker forks
# a work horse would leave the horse's import lock held
from portal.jobs_reports import ensure_monthly_check

log = logging.getLogger(__name__)

# RQ keeps scheduled times in whole seconds: a job may start up to a second early
EARLY_SLEEP_LIMIT = 2.0


def _now() -> datetime:
    return datetime.now(UTC)


def run_deadline(request_id: int, kind: str, due_epoch: int) -> str:
    """Fire one deadline if it still holds: 'fired', 'done' (already recorded), 'stale' (the
    request moved on: another deadline replaced it), 'early' (rescheduled)."""
    app = _get_app()
    with app.app_context():
        from portal.db import db
        from portal.queue import queue
        from portal.services import timers

        session = db.session
        tz = app.config["PORTAL_TIMEZONE"]
        sr, deadline = timers.find(session, request_id, kind, due_epoch, tz)
        if deadline is None:
            session.rollback()
            return "stale"
        wait = (deadline.fire_at - _now()).total_seconds()
        if wait > 0:
            if wait > EARLY_SLEEP_LIMIT:
                session.rollback()
                q = queue()
                q.enqueue_at(
                    deadline.fire_at,
                    "portal.jobs_sla.run_deadline",
                    request_id,
                    kind,
                    due_epoch,
                    job_id=f"{deadline.job_id}-again",
                    result_ttl=600,
                )
                return "early"
            session.rollback()  # do not hold a transaction (SQLite: the write lock) while waiting
            time.sleep(wait)
            sr, deadline = timers.find(session, request_id, kind, due_epoch, tz)
            if deadline is None:
                session.rollback()
                return "stale"
        fired = _fire(session, sr, deadline)
        return "fired" if fired else "done"


def _fire(session, sr, deadline) -> bool:
    from portal.services import escalation

    now = _now()
    if escalation.family(deadline.kind) == "warn" and now >= deadline.due_at:
        session.rollback()  # too late to warn: the breach speaks instead
        return False
    if deadline.kind in escalation.FEEDBACK_NOTICES and now >= escalation.feedback_window_end(
        sr, deadline
    ):
        session.rollback()  # the window has passed: the request closes, nobody is asked to rate
        return False
    try:
        fired = escalation.fire(session, sr, deadline, now)
        session.commit()
    finally:
        mails = session.info.pop("portal_sla_mails", [])
    if fired:
        for mail_id in mails:  # right away; if this dies here, the sweep sends them
            send_mail(mail_id)
    return fired


def sweep() -> dict:
    """Fire everything due that is not recorded, schedule what falls due before the next sweep,
    send the mail that waits, and note the time. Reads only what is due (see timers)."""
    app = _get_app()
    with app.app_context():
        from sqlalchemy import select

        from portal.db import db
        from portal.models import ServiceRequest
        from portal.queue import queue, redis_conn
        from portal.services import timers

        started = time.perf_counter()
        session = db.session
        tz = app.config["PORTAL_TIMEZONE"]
        interval = timedelta(seconds=float(app.config.get("SLA_SWEEP_SECONDS", 30)))
        lookback = timedelta(hours=float(app.config.get("SLA_SWEEP_LOOKBACK_HOURS", 168)))
        now = _now()
        ids, policies = timers.sweep_candidates(session, now, interval * 2, lookback)
        deadlines: list = []
        requests = {}
        if ids:
            for sr in session.scalars(select(ServiceRequest).where(ServiceRequest.id.in_(ids))):
                requests[sr.id] = sr
                deadlines.extend(timers.deadlines_for(sr, timers.policy_of(policies, sr), tz))
        for measure, request_id in timers.overdue_measures(session, now):
            deadlines.append(timers.measure_deadline(measure, request_id, tz))
        soon = timers.measures_due_soon(session, now)
        calendar = timers.desk_calendar(session) if soon else None
        for measure, request_id in soon:
            found = timers.measure_due_soon(measure, request_id, tz, calendar)
            if found is not None:
                deadlines.append(found)
        deadlines = timers.drop_fired(session, deadlines)
        session.rollback()
        due = [d for d in deadlines if d.fire_at <= now]
        upcoming = [d for d in deadlines if now < d.fire_at <= now + interval * 2]
        fired = 0
        for d in sorted(due, key=lambda d: d.fire_at):
            sr = session.get(ServiceRequest, d.request_id)
            if sr is None:
                continue
            if d.kind.startswith(timers.MEASURE_KINDS):
                fired += int(_fire(session, sr, d))
                continue
            # re-read: the request may have changed since the candidates were read
            sr, current = timers.find(session, d.request_id, d.kind, d.due_epoch, tz)
            if current is not None:
                fired += int(_fire(session, sr, current))
            else:
                session.rollback()
        q = queue()
        if upcoming:
            timers.schedule(q, upcoming, now)
        # submissions whose "awaits classification" job was lost (Redis away at their commit)
        from portal.services.requests import tell_supervisors, untold_submissions

        for sr in untold_submissions(session, now - lookback, now - interval):
            tell_supervisors(session, sr)
            session.commit()
        mail_ids = timers.pending_mail_ids(session, now)
        session.rollback()
        for mail_id in mail_ids:
            send_mail(mail_id)
        finished = _now()
        redis_conn().set(timers.LAST_SWEEP_KEY, finished.isoformat())
        # the daily digest, once its hour has come (portal/jobs_digest.py)
        from portal.jobs_digest import ensure_digest
        from portal.services import digest

        hour = int(app.config.get("DIGEST_HOUR", 8))
        ensure_digest(redis_conn(), q, finished, tz, hour, lambda: digest.anyone_wants(session))
        session.rollback()
        if metrics.open_counts_due(redis_conn()):
            metrics.store_open_counts(redis_conn(), timers.open_counts(session))
            session.rollback()
        # the service plans' opener, once per its slot (portal/jobs_plans.py)
        from portal.jobs_plans import ensure_opener
        from portal.services import plan_opener

        ensure_opener(
            redis_conn(),
            q,
            finished,
            float(app.config.get("PLAN_OPEN_SECONDS", 60)),
            lambda: plan_opener.any_running(session),
        )
        session.rollback()
        took = time.perf_counter() - started
        metrics.SWEEP_SECONDS.observe(took)
        return {
            "fired": fired,
            "scheduled": len(upcoming),
            "mail": len(mail_ids),
            "seconds": round(took, 4),
        }


def send_mail(outbox_id: int) -> str:
    """One attempt at one outbox mail; a failure schedules the next attempt with backoff."""
    app = _get_app()
    with app.app_context():
        from portal.db import db
        from portal.queue import queue
        from portal.services import outbox

        settings = outbox.MailSettings.from_config(app.config)
        outcome, retry_at = outbox.send(db.session, outbox_id, _now(), settings)
        if outcome != "skipped":
            metrics.OUTBOX.labels(outcome).inc()
        if outcome == "retry" and retry_at is not None:
            row_attempt = int(retry_at.timestamp())
            queue().enqueue_at(
                retry_at,
                "portal.jobs_sla.send_mail",
                outbox_id,
                job_id=f"mail-{outbox_id}-r{row_attempt}",
                result_ttl=600,
            )
        return outcome


# --- keeping the sweep going -------------------------------------------------------------------


def sweep_job_id(slot: int) -> str:
    return f"sla-sweep-{slot}"


def ensure_sweep(conn: Redis, interval: float, queue_name: str = "default") -> bool:
    """Enqueue this time slot's sweep unless it exists (deterministic id: any number of workers
    doing this at once make one sweep per slot, give or take a harmless second)."""
    slot = int(time.time() // interval)
    job_id = sweep_job_id(slot)
    if conn.exists(f"rq:job:{job_id}"):
        return False
    Queue(queue_name, connection=conn).enqueue(
        "portal.jobs_sla.sweep",
        job_id=job_id,
        result_ttl=max(60, int(interval * 4)),
        failure_ttl=3600,
    )
    return True


def start_sweep_keeper(redis_url: str, interval: float, queue_name: str = "default"):
    """A daemon thread of the worker process that schedules a sweep every ``interval`` seconds,
    also after Redis lost everything (FLUSHALL) — a chain of self-scheduling jobs would die
    with it. It only talks to Redis, never to the database."""
    conn = Redis.from_url(redis_url)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                ensure_sweep(conn, interval, queue_name)
                ensure_monthly_check(conn, queue_name)  # the monthly report's daily check
            except Exception:  # noqa: BLE001  (Redis away for a moment: try next tick)
                log.warning("could not schedule the SLA sweep", exc_info=True)
            stop.wait(max(0.2, interval / 2))

    thread = threading.Thread(target=loop, name="sla-sweep-keeper", daemon=True)
    thread.start()
    return stop


def warm_up(app) -> None:
    """In a worker's parent, before it forks a work horse per job: configure the mappers and
    compile the timers' queries once, so that each horse does not pay for it again. The
    connections this opens are closed again (``dispose``): none may cross a fork."""
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    try:
        with app.app_context():
            from portal.db import db
            from portal.services import escalation, outbox, timers  # noqa: F401

            now = _now()
            session = db.session
            timers.find(session, 0, "resolution_breach", 0, app.config["PORTAL_TIMEZONE"])
            timers.sweep_candidates(session, now, timedelta(seconds=1), timedelta(hours=1))
            timers.drop_fired(session, [timers.Deadline(0, "x", now, now)])
            timers.pending_mail_ids(session, now, 1)
            session.rollback()
    except Exception:  # noqa: BLE001  (a cold start is only slower)
        log.warning("SLA warm-up failed", exc_info=True)
    finally:
        app.extensions["portal_db"].engine.dispose()
