"""SLA timers against a real Redis and real `portal worker` processes (DESIGN §4, issue 4 "done
when"): a worker killed mid-escalation, a flushed Redis, two workers and two sweepers at once.

Every test commits into a database of its own (see _timers_live) and sets its deadlines a few
seconds ahead on the real clock.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal.models import AuditEvent, EmailOutbox, Notification, ServiceRequest, SlaEvent
from tests.sla._timers_live import LiveDesk, SmtpSink, utcnow, wait_until

pytestmark = pytest.mark.slow


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


def test_worker_killed_mid_escalation_records_it_exactly_once(desk, tmp_path):
    d = desk()
    people = d.people()
    marker = tmp_path / "inside-escalation"
    due = utcnow() + timedelta(seconds=3)
    [rid] = d.requests_due(people["customer"], 1, due)

    # this worker stops between the event's insert and its commit: there we kill it
    doomed = d.start_worker(
        PORTAL_TEST_SLA_PAUSE_FILE=marker,
        PORTAL_TEST_SLA_PAUSE_KIND="resolution_breach",
        PORTAL_TEST_SLA_PAUSE_SECONDS=60,
    )
    wait_until(marker.exists, 20, "the escalation to start", d.logs)
    # SIGKILL to the process running the escalation (the worker, or with PORTAL_WORKER_FORK=1
    # its work horse, which RQ puts in a session of its own), then to the worker's group
    os.kill(int(marker.read_text()), signal.SIGKILL)
    d.kill(doomed)
    assert d.count(SlaEvent, SlaEvent.kind == "resolution_breach") == 0  # never committed

    d.start_worker()
    wait_until(
        lambda: d.count(SlaEvent, SlaEvent.kind == "resolution_breach") >= 1,
        20,
        "the sweep or retry to record the escalation",
        d.logs,
    )
    time.sleep(2 * d.config["SLA_SWEEP_SECONDS"] + 1)  # more sweeps run: still once

    assert _breaches(d) == Counter({rid: 1})
    supervisors = {people["supervisor"].id, people["supervisor2"].id}
    told = d.rows(select(Notification.recipient_id).where(Notification.kind == "resolution_breach"))
    assert sorted(r for (r,) in told) == sorted(supervisors)
    mails = d.rows(select(EmailOutbox.to_address).where(EmailOutbox.meta.is_not(None)))
    breach_mails = [
        m for (m,) in mails if m in {people["supervisor"].email, people["supervisor2"].email}
    ]
    assert sorted(breach_mails) == sorted([people["supervisor"].email, people["supervisor2"].email])
    assert d.count(AuditEvent, AuditEvent.action == "sla.resolution_breach") == 1
    assert d.rows(select(ServiceRequest.escalation_level).where(ServiceRequest.id == rid)) == [(1,)]


def test_flushed_redis_with_100_pending_deadlines_all_escalate_once_within_a_sweep(desk):
    d = desk()
    people = d.people()
    d.start_worker()
    due = utcnow() + timedelta(seconds=6)
    ids = d.requests_due(people["customer"], 100, due)
    assert utcnow() < due - timedelta(seconds=2), "seeding took too long for this test"
    scheduled = Queue("default", connection=Redis.from_url(d.redis_url)).scheduled_job_registry
    assert f"sla-{ids[0]}-resolution_breach-{int(due.timestamp())}" in scheduled.get_job_ids()

    # FLUSHALL in effect; FLUSHDB here, as other databases of a shared Redis are not ours
    d.redis.flushdb()
    assert scheduled.get_job_ids() == []

    interval = d.config["SLA_SWEEP_SECONDS"]
    wait_until(
        lambda: d.count(SlaEvent, SlaEvent.kind == "resolution_breach") >= 100,
        (due - utcnow()).total_seconds() + interval + 3,  # one sweep interval after due (+ slack)
        "all 100 escalations",
        d.logs,
    )
    time.sleep(interval + 1)
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


def test_two_workers_and_two_sweepers_neither_escalate_nor_mail_twice(desk):
    smtp = SmtpSink().start()
    try:
        d = desk(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        people = d.people()
        due = utcnow() + timedelta(seconds=4)
        ids = d.requests_due(people["customer"], 30, due)
        q = Queue("default", connection=Redis.from_url(d.redis_url))
        # duplicates on purpose: every deadline twice more under other ids, two extra sweeps
        for rid in ids:
            for copy in ("a", "b"):
                q.enqueue_at(
                    due,
                    "portal.jobs_sla.run_deadline",
                    rid,
                    "resolution_breach",
                    int(due.timestamp()),
                    job_id=f"dup-{copy}-{rid}",
                )
        for name in ("sweeper-1", "sweeper-2"):
            q.enqueue_at(due + timedelta(seconds=0.5), "portal.jobs_sla.sweep", job_id=name)
        d.start_worker()
        d.start_worker()

        supervisors = [people["supervisor"].email, people["supervisor2"].email]
        wait_until(
            lambda: (
                d.count(SlaEvent, SlaEvent.kind == "resolution_breach") >= 30
                and sum(1 for m in smtp.messages if m["To"] in supervisors) >= 60
            ),
            25,
            "30 escalations and their 60 e-mails",
            d.logs,
        )
        time.sleep(2 * d.config["SLA_SWEEP_SECONDS"] + 1)

        assert _breaches(d) == Counter({rid: 1 for rid in ids})
        breach_mail = Counter(
            (m["To"], m["Subject"]) for m in smtp.messages if m["To"] in supervisors
        )
        assert len(breach_mail) == 60
        assert set(breach_mail.values()) == {1}
        ids_seen = Counter(m["Message-ID"] for m in smtp.messages)
        assert set(ids_seen.values()) == {1}
        assert d.count(EmailOutbox, EmailOutbox.status != "sent") == 0
    finally:
        smtp.stop()
