"""RQ jobs against a real Redis: enqueued after commit, run by a worker, safe to run twice."""

from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from portal.models import Notification


def _queue(redis_url: str) -> Queue:
    return Queue("default", connection=Redis.from_url(redis_url))


def _work(queue: Queue) -> None:
    # SimpleWorker runs the jobs in this process, inside the test's app context, so the job's
    # session joins the test transaction (jobs._get_app prefers the current app)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _notified(session, request_id: int) -> list[tuple[int, str]]:
    return sorted(
        session.execute(
            select(Notification.recipient_id, Notification.kind).where(
                Notification.request_id == request_id
            )
        ).all()
    )


def test_submission_enqueues_after_commit_and_worker_tells_each_supervisor_once(
    db_session, factory, redis_url
):
    queue = _queue(redis_url)
    sup1 = factory.staff("supervisor")
    sup2 = factory.staff("supervisor", "dispatcher")
    factory.staff("engineer")
    contact = factory.customer()
    sr = factory.request(contact)

    assert queue.count == 0  # not before the commit: the job would not find the row
    db_session.commit()
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "portal.jobs.request_submitted"
    assert job.args == (sr.id,)

    _work(queue)
    assert queue.count == 0
    assert job.get_status(refresh=True) == "finished"
    assert job.return_value() == 2
    expected = sorted([(sup1.id, "request_submitted"), (sup2.id, "request_submitted")])
    assert _notified(db_session, sr.id) == expected

    # a retry or a duplicate delivery changes nothing
    again = queue.enqueue("portal.jobs.request_submitted", sr.id)
    _work(queue)
    assert again.get_status(refresh=True) == "finished"
    assert again.return_value() == 0
    assert _notified(db_session, sr.id) == expected


def test_rolled_back_submission_enqueues_nothing(db_session, factory, redis_url):
    queue = _queue(redis_url)
    factory.staff("supervisor")
    contact = factory.customer()
    db_session.commit()
    factory.request(contact)
    db_session.rollback()
    # a later, unrelated commit must not carry the rolled-back submission's job
    factory.organisation()
    db_session.commit()
    assert queue.count == 0
    _work(queue)
    assert db_session.scalars(select(Notification)).all() == []


def test_a_savepoint_inside_the_transaction_enqueues_nothing_before_the_commit(
    db_session, factory, redis_url
):
    """Releasing a savepoint (an SLA event recorded once under its unique key, a calendar made on
    first need) is not the commit: the jobs and the SLA timers wait for the transaction."""
    from rq.registry import ScheduledJobRegistry

    queue = _queue(redis_url)
    scheduled = ScheduledJobRegistry(queue=queue)
    factory.staff("supervisor")
    contact = factory.customer()
    db_session.commit()
    sr = factory.request(contact)
    with db_session.begin_nested():
        factory.organisation()
    assert queue.count == 0 and scheduled.count == 0
    # a savepoint rolled back leaves the rest of the transaction, and its jobs, as they were
    db_session.begin_nested().rollback()
    db_session.commit()
    assert [job.args for job in queue.jobs] == [(sr.id,)]
    assert scheduled.count > 0  # the request's SLA deadlines
