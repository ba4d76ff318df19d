"""SLA timers against a real Redis and real `portal worker` processes (docs/product.md §4, issue 4 "done
when"): a worker killed mid-escalation, a flushed Redis, two workers and two sweepers at once.

Every test commits into a database of its own (see _timers_live). Its requests are seeded with
deadlines far ahead; only once the set-up is done (however long it took on a busy machine) are
they moved a few seconds ahead on the real clock, and every wait is for a condition, bounded,
measured from then.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal.models import AuditEvent, EmailOutbox, Notification, ServiceRequest, SlaEvent
from tests.sla._timers_live import LiveDesk, SmtpSink, utcnow, wait_until

pytestmark = pytest.mark.slow

# the seeded requests fall due only when the test moves them (LiveDesk.move_due)
FAR = timedelta(days=1)
# how long a worker may take to start, or the workers to catch up, on a busy machine
PATIENCE = 60


@pytest.fixture(scope="module")
def live_redis(redis_url):
    """REDIS_URL's real Redis; else a stand-in of our own whose connection threads do not
    outlive the test (a SIGKILLed worker leaves a blocked BLPOP behind)."""
    if os.environ.get("REDIS_URL"):
        yield redis_url
        return
    from portal.runtime import RedisStandIn

    standin = RedisStandIn().start()
    yield standin.url
    standin.stop()


@pytest.fixture
def desk(database_url, live_redis, tmp_path):
    redis_url = live_redis
    made = []

    def make(**config) -> LiveDesk:
        d = LiveDesk(database_url, redis_url, tmp_path, **config)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def _breaches(desk: LiveDesk) -> Counter:
    return Counter(
        rid
        for (rid,) in desk.rows(
            select(SlaEvent.request_id).where(SlaEvent.kind == "resolution_breach")
        )
    )


def _seed(d: LiveDesk, contact, n: int) -> list[int]:
    """``n`` requests submitted an hour ago whose resolution is due a day ahead."""
    return d.requests_due(contact, n, utcnow() + FAR, submitted_ago=FAR + timedelta(hours=1))


def _seconds_until(at) -> float:
    return max(0.0, (at - utcnow()).total_seconds())


def test_worker_killed_mid_escalation_records_it_exactly_once(desk, tmp_path):
    d = desk()
    people = d.people()
    marker = tmp_path / "inside-escalation"
    [rid] = _seed(d, people["customer"], 1)
    due = d.move_due([rid], timedelta(seconds=1))

    # this worker stops between the event's insert and its commit: there we kill it
    doomed = d.start_worker(
        PORTAL_TEST_SLA_PAUSE_FILE=marker,
        PORTAL_TEST_SLA_PAUSE_KIND="resolution_breach",
        PORTAL_TEST_SLA_PAUSE_SECONDS=120,
    )
    wait_until(marker.exists, _seconds_until(due) + PATIENCE, "the escalation to start", d.logs)
    # SIGKILL to the process running the escalation (the worker, or with PORTAL_WORKER_FORK=1
    # its work horse, which RQ puts in a session of its own), then to the worker's group
    os.kill(int(marker.read_text()), signal.SIGKILL)
    d.kill(doomed)
    assert d.count(SlaEvent, SlaEvent.kind == "resolution_breach") == 0  # never committed

    d.start_worker()
    wait_until(
        lambda: d.count(SlaEvent, SlaEvent.kind == "resolution_breach") >= 1,
        PATIENCE,
        "the sweep or retry to record the escalation",
        d.logs,
    )
    d.wait_for_a_sweep_after(utcnow(), PATIENCE)  # more sweeps run: still once

    assert _breaches(d) == Counter({rid: 1})
    supervisors = {people["supervisor"].id, people["supervisor2"].id}
    told = d.rows(select(Notification.recipient_id).where(Notification.kind == "resolution_breach"))
    assert sorted(r for (r,) in told) == sorted(supervisors)
    # the breach's mails (the supervisors were also mailed the request's submission)
    mails = d.rows(select(EmailOutbox.to_address, EmailOutbox.meta))
    breach_mails = [
        m
        for (m, meta) in mails
        if m in {people["supervisor"].email, people["supervisor2"].email}
        and (meta or {}).get("kind") == "resolution_breach"
    ]
    assert sorted(breach_mails) == sorted([people["supervisor"].email, people["supervisor2"].email])
    assert d.count(AuditEvent, AuditEvent.action == "sla.resolution_breach") == 1
    assert d.rows(select(ServiceRequest.escalation_level).where(ServiceRequest.id == rid)) == [(1,)]


def test_flushed_redis_with_100_pending_deadlines_all_escalate_once_within_a_sweep(desk):
    d = desk()
    people = d.people()
    d.start_worker()
    d.wait_for_a_sweep_after(utcnow(), PATIENCE)  # the worker is up and sweeping
    ids = _seed(d, people["customer"], 100)

    # the set-up is done: the 100 deadlines come a few seconds from now
    due = d.move_due(ids, timedelta(seconds=4))
    scheduled = Queue("default", connection=Redis.from_url(d.redis_url)).scheduled_job_registry
    assert f"sla-{ids[0]}-resolution_breach-{int(due.timestamp())}" in scheduled.get_job_ids()

    # FLUSHALL in effect; FLUSHDB here, as other databases of a shared Redis are not ours
    d.redis.flushdb()
    assert scheduled.get_job_ids() == []
    assert utcnow() < due, "the timers were lost only after their deadlines (moving them was slow)"

    # the first sweep that starts after the deadlines finds them all
    d.wait_for_a_sweep_after(due, _seconds_until(due) + PATIENCE)
    assert _breaches(d) == Counter({rid: 1 for rid in ids})
    d.wait_for_a_sweep_after(utcnow(), PATIENCE)  # and the next one adds nothing
    assert _breaches(d) == Counter({rid: 1 for rid in ids})
    levels = d.rows(select(ServiceRequest.escalation_level).where(ServiceRequest.id.in_(ids)))
    assert {lvl for (lvl,) in levels} == {1}
    per_supervisor = Counter(
        r
        for (r,) in d.rows(
            select(Notification.recipient_id).where(Notification.kind == "resolution_breach")
        )
    )
    assert per_supervisor == {people["supervisor"].id: 100, people["supervisor2"].id: 100}


def _all_ran(q: Queue, job_ids: list[str]) -> bool:
    from rq.job import Job

    return all(
        job.get_status() in ("finished", "failed")
        for job in Job.fetch_many(job_ids, connection=q.connection)
        if job is not None
    )


def _breach_mail_to(message, addresses) -> bool:
    """A breach's mail to one of ``addresses`` (they were also mailed each submission)."""
    return message["To"] in addresses and "SLA breached" in message["Subject"]


def test_two_workers_and_two_sweepers_neither_escalate_nor_mail_twice(desk):
    smtp = SmtpSink().start()
    try:
        d = desk(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        people = d.people()
        ids = _seed(d, people["customer"], 30)
        due = d.move_due(ids, timedelta(seconds=3))
        q = Queue("default", connection=Redis.from_url(d.redis_url))
        # duplicates on purpose: every deadline twice more under other ids, two extra sweeps
        extra = []
        for rid in ids:
            for copy in ("a", "b"):
                job = q.enqueue_at(
                    due,
                    "portal.jobs_sla.run_deadline",
                    rid,
                    "resolution_breach",
                    int(due.timestamp()),
                    job_id=f"dup-{copy}-{rid}",
                )
                extra.append(job.id)
        for name in ("sweeper-1", "sweeper-2"):
            q.enqueue_at(due + timedelta(seconds=0.5), "portal.jobs_sla.sweep", job_id=name)
            extra.append(name)
        d.start_worker()
        d.start_worker()

        supervisors = [people["supervisor"].email, people["supervisor2"].email]
        wait_until(
            lambda: (
                d.count(SlaEvent, SlaEvent.kind == "resolution_breach") >= 30
                and sum(1 for m in smtp.messages if _breach_mail_to(m, supervisors)) >= 60
            ),
            _seconds_until(due) + PATIENCE,
            "30 escalations and their 60 e-mails",
            d.logs,
        )
        # every duplicate and extra sweep has run, and a regular sweep after them
        wait_until(lambda: _all_ran(q, extra), PATIENCE, "the duplicate jobs", d.logs)
        d.wait_for_a_sweep_after(utcnow(), PATIENCE)

        assert _breaches(d) == Counter({rid: 1 for rid in ids})
        breach_mail = Counter(
            (m["To"], m["Subject"]) for m in smtp.messages if _breach_mail_to(m, supervisors)
        )
        assert len(breach_mail) == 60
        assert set(breach_mail.values()) == {1}
        ids_seen = Counter(m["Message-ID"] for m in smtp.messages)
        assert set(ids_seen.values()) == {1}
        assert d.count(EmailOutbox, EmailOutbox.status != "sent") == 0
    finally:
        smtp.stop()
