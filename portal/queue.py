"""Redis and RQ: the connection, the queue, and enqueueing after the transaction commits."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def redis_conn() -> Redis:
    app = current_app._get_current_object()
    conn = app.extensions.get("portal_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["portal_redis"] = conn
    return conn


def queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_conn())


def enqueue_after_commit(session: Session, func: str, *args: Any, **options: Any) -> None:
    """Enqueue ``func`` (a dotted path) once the session's transaction has committed, so a job
    never reads a row that is not there yet, and a rolled-back change enqueues nothing."""
    session.info.setdefault("portal_after_commit", []).append((func, args, options))


def take_after_commit(session: Session, func: str | None = None) -> list[tuple]:
    """Take back the jobs waiting for this session's commit (those of ``func``, or all) and
    return their arguments: for a caller that does their work itself, or leaves it to a sweep
    (the demo seed, which runs before any Redis does)."""
    pending = session.info.get("portal_after_commit") or []
    taken = [args for name, args, _options in pending if func is None or name == func]
    session.info["portal_after_commit"] = [p for p in pending if func is not None and p[0] != func]
    return taken


@event.listens_for(Session, "after_commit")
def _flush_jobs(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction has not committed yet
    pending = session.info.pop("portal_after_commit", None)
    if not pending:
        return
    from redis.exceptions import RedisError

    q = queue()
    for func, args, options in pending:
        try:
            q.enqueue(func, *args, **options)
        except RedisError as exc:
            # Redis away: the commit stands, and the sweep repairs what the job would have done
            # (it sends waiting mail and tells supervisors of untold submissions: jobs_sla.sweep)
            log.warning("could not enqueue %s (%s); the sweep will repair it", func, exc)


@event.listens_for(Session, "after_rollback")
def _drop_jobs(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the rest of the transaction may still commit
    session.info.pop("portal_after_commit", None)
