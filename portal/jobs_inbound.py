"""The RQ job that takes inbound mail from every active IMAP mailbox (docs/product.md §9), and
the keeper that schedules it every INBOUND_POLL_SECONDS from each worker process (like the SLA
sweep, portal/jobs_sla.py: one job per time slot whatever the number of workers, and it
survives a flushed Redis). The embedded default runs it too (portal/runtime.py).

A Redis lock per mailbox (INBOUND_LOCK_SECONDS) keeps two workers from normally fetching one
mailbox at once; correctness does not depend on it (portal/services/inbound/imap.py)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from redis import Redis
from redis.exceptions import LockError, RedisError
from rq import Queue

from portal.jobs import _get_app

log = logging.getLogger(__name__)


def lock_name(mailbox_id: int) -> str:
    return f"portal:inbound-fetch:{mailbox_id}"


def fetch_mailboxes(
    app, conn: Redis | None, mailbox_ids: list[int] | None = None
) -> list[tuple[str, object]]:
    """Fetch each mailbox (every active one when ``mailbox_ids`` is None) once, in the app's
    context, holding its lock when ``conn`` is given; a mailbox whose lock another worker holds
    is skipped. Returns (name, FetchResult or "locked") per mailbox."""
    from portal.db import db
    from portal.models import Mailbox
    from portal.services.inbound import imap, mailboxes

    session = db.session
    limit = int(app.config.get("INBOUND_FETCH_LIMIT", 200))
    lock_seconds = int(app.config.get("INBOUND_LOCK_SECONDS", 300))
    ids = mailboxes.active_ids(session) if mailbox_ids is None else list(mailbox_ids)
    session.rollback()
    outcomes: list[tuple[str, object]] = []
    for mailbox_id in ids:
        box = session.get(Mailbox, mailbox_id)
        if box is None:
            session.rollback()
            continue
        lock = None
        if conn is not None:
            lock = conn.lock(lock_name(mailbox_id), timeout=lock_seconds, blocking=False)
            try:
                held = lock.acquire(blocking=False)
            except RedisError:  # Redis away: fetch anyway (the lock only saves work)
                log.warning("no Redis lock for mailbox %s; fetching without", mailbox_id)
                lock, held = None, True
            if not held:
                outcomes.append((box.name, "locked"))
                session.rollback()
                continue
        try:
            name = box.name
            result = imap.fetch_once(session, box, datetime.now(UTC), limit=limit)
            outcomes.append((name, result))
        except Exception:
            session.rollback()
            log.exception("fetching mailbox %s failed", mailbox_id)
            outcomes.append((f"#{mailbox_id}", imap.FetchResult(error="server: internal error")))
        finally:
            if lock is not None:
                try:
                    lock.release()
                except (LockError, RedisError):  # expired (held too long) or Redis away
                    pass
    return outcomes


def fetch_all() -> dict:
    """The scheduled job: every active mailbox once. Returns what was taken, per mailbox."""
    app = _get_app()
    with app.app_context():
        from portal.queue import redis_conn

        started = time.perf_counter()
        outcomes = fetch_mailboxes(app, redis_conn())
        summary = {}
        for name, result in outcomes:
            if result == "locked":
                summary[name] = "locked"
            else:
                summary[name] = {
                    "taken": result.taken,
                    "duplicates": result.duplicates,
                    "error": result.error,
                }
        return {"mailboxes": summary, "seconds": round(time.perf_counter() - started, 4)}


# --- keeping the fetch going --------------------------------------------------------------------


def fetch_job_id(slot: int) -> str:
    return f"inbound-fetch-{slot}"


def ensure_fetch(conn: Redis, interval: float, queue_name: str = "default") -> bool:
    """Enqueue this time slot's fetch unless it exists (deterministic id, as ensure_sweep)."""
    slot = int(time.time() // interval)
    job_id = fetch_job_id(slot)
    if conn.exists(f"rq:job:{job_id}"):
        return False
    Queue(queue_name, connection=conn).enqueue(
        "portal.jobs_inbound.fetch_all",
        job_id=job_id,
        result_ttl=max(60, int(interval * 4)),
        failure_ttl=3600,
    )
    return True


def start_fetch_keeper(redis_url: str, interval: float, queue_name: str = "default"):
    """A daemon thread of the worker process that schedules a fetch every ``interval`` seconds
    (only Redis, never the database or a mail server, is touched from it)."""
    conn = Redis.from_url(redis_url)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                ensure_fetch(conn, interval, queue_name)
            except Exception:  # noqa: BLE001  (Redis away for a moment: try next tick)
                log.warning("could not schedule the inbound mail fetch", exc_info=True)
            stop.wait(max(0.2, interval / 2))

    thread = threading.Thread(target=loop, name="inbound-fetch-keeper", daemon=True)
    thread.start()
    return stop
