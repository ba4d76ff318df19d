"""The opener's job: enqueued by the SLA sweep once per slot under a deterministic id, only while
a plan runs, enqueued again after Redis lost everything; the job opens what is due (burst worker
against the test's Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from portal import jobs_plans, jobs_sla
from portal.models import PlanOccurrence
from portal.services import plan_opener
from tests.plans.helpers import make_plan


def _queue(redis_url) -> Queue:
    return Queue("default", connection=Redis.from_url(redis_url))


def test_one_opener_per_slot_and_again_after_a_flush(redis_url):
    q = _queue(redis_url)
    conn = q.connection
    conn.flushdb()
    now = datetime(2026, 10, 8, 1, 0, 30, tzinfo=UTC)
    assert jobs_plans.ensure_opener(conn, q, now, 60) is True
    assert jobs_plans.ensure_opener(conn, q, now + timedelta(seconds=10), 60) is False
    assert [j.id for j in q.jobs] == [jobs_plans.opener_job_id(int(now.timestamp() // 60))]
    assert jobs_plans.ensure_opener(conn, q, now + timedelta(seconds=60), 60) is True  # next slot
    conn.flushall()
    assert jobs_plans.ensure_opener(conn, q, now + timedelta(seconds=70), 60) is True
    assert jobs_plans.ensure_opener(conn, q, now, 60, wanted=lambda: False) is False


def test_the_sweep_enqueues_the_opener_only_while_a_plan_runs(db_session, factory, redis_url, app):
    q = _queue(redis_url)
    jobs_sla.sweep()
    assert "portal.jobs_plans.open_plans" not in [j.func_name for j in q.jobs]
    contact = factory.customer()
    author = factory.staff("supervisor")
    make_plan(db_session, author, contact, datetime.now(UTC))
    db_session.commit()
    assert plan_opener.any_running(db_session)
    jobs_sla.sweep()
    assert "portal.jobs_plans.open_plans" in [j.func_name for j in q.jobs]


def test_the_job_opens_what_is_due(db_session, factory, redis_url, app):
    contact = factory.customer()
    author = factory.staff("supervisor")
    # a plan that started a month ago and took effect then: its latest occurrence is due
    plan = make_plan(
        db_session,
        author,
        contact,
        datetime.now(UTC) - timedelta(days=40),
        starts_on=(datetime.now(UTC) - timedelta(days=40)).date(),
    )
    db_session.commit()
    q = _queue(redis_url)
    q.enqueue("portal.jobs_plans.open_plans", job_id="opener-test")
    SimpleWorker([q], connection=q.connection).work(burst=True)
    opened = db_session.scalars(
        select(PlanOccurrence).where(PlanOccurrence.plan_id == plan.id)
    ).all()
    assert len(opened) >= 1
    assert {o.status for o in opened} <= {"opened", "opened_late"}
