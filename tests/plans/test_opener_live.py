"""The plans' opener against a real Redis and real `portal worker` processes (issue 15, "done
when"): two workers and duplicate openers and sweeps open each of 50 due occurrences exactly
once; a Redis flushed before the occurrences are due still opens them, on time or within one
sweep; two openers racing in two threads open one request per occurrence; and workers stopped
across three occurrences open all three once, marked late, when a worker returns.

Each test commits into a database of its own (tests/sla/_timers_live.py). The organisation's
calendar works around the clock, so that an occurrence's opening instant is the start of a
working period the test chooses on the real clock."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from portal.domain import plans as rules
from portal.models import Calendar, Organisation, PlanOccurrence, ServiceRequest
from portal.services import plan_opener
from tests.plans.helpers import make_plan
from tests.sla._timers_live import LiveDesk, utcnow, wait_until
from tests.sla.test_timers_live import live_redis  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

CST = ZoneInfo("Asia/Shanghai")
PATIENCE = 90
FAST = {"PLAN_OPEN_SECONDS": 2}


@pytest.fixture
def desk(database_url, live_redis, tmp_path):  # noqa: F811
    made = []

    def make() -> LiveDesk:
        d = LiveDesk(database_url, live_redis, tmp_path, **FAST)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def _plans(d: LiveDesk, n: int, opens_at: datetime | None = None, **plan) -> list[int]:
    """``n`` plans of one organisation, each with an occurrence today (desk time) that opens at
    ``opens_at`` (the start of today's working period; None: midnight, already past)."""
    people = d.people()
    local = (opens_at or utcnow()).astimezone(CST)
    today = local.strftime("%H:%M") if opens_at else "00:00"
    hours = {str(day): [["00:00", "24:00"]] for day in range(7)}
    hours[str(local.weekday())] = [[today, "24:00"]]
    calendar = Calendar(
        name="around the clock", timezone="Asia/Shanghai", country="", working_hours=hours
    )
    d.session.add(calendar)
    d.session.flush()
    contact = people["customer"]
    org = d.session.get(Organisation, contact.organisation_id)
    org.calendar_id = calendar.id
    d.session.flush()
    weekday = rules.WEEKDAYS[local.weekday()]
    created = plan.pop("created", utcnow() - timedelta(minutes=1))
    values = {
        "rule": rules.RuleChoice(rules.WEEKLY, weekday=weekday),
        "shift": rules.SHIFT_NONE,
        "starts_on": local.date(),
        "handler_id": people["engineer"].id,
        **plan,
    }
    ids = []
    for i in range(n):
        made = make_plan(
            d.session, people["supervisor"], contact, created, title=f"巡检 {i}", **values
        )
        ids.append(made.id)
    d.session.commit()
    return ids


def _opened(d: LiveDesk) -> Counter:
    return Counter(pid for (pid,) in d.rows(select(PlanOccurrence.plan_id)))


def _requests(d: LiveDesk) -> Counter:
    return Counter(
        pid
        for (pid,) in d.rows(
            select(ServiceRequest.service_plan_id).where(
                ServiceRequest.service_plan_id.is_not(None)
            )
        )
    )


def test_two_workers_and_duplicate_openers_open_each_of_50_occurrences_once(desk):
    d = desk()
    ids = _plans(d, 50)
    q = Queue("default", connection=Redis.from_url(d.redis_url))
    extra = ["opener-a", "opener-b", "opener-c"]
    for name in extra:
        q.enqueue("portal.jobs_plans.open_plans", job_id=name)
    for name in ("sweeper-1", "sweeper-2"):
        q.enqueue("portal.jobs_sla.sweep", job_id=name)
    d.start_worker(**FAST)
    d.start_worker(**FAST)
    wait_until(lambda: sum(_opened(d).values()) >= 50, PATIENCE, "50 opened occurrences", d.logs)
    from rq.job import Job

    wait_until(
        lambda: all(Job.fetch(j, connection=d.redis).get_status() == "finished" for j in extra),
        PATIENCE,
        "the duplicate openers",
        d.logs,
    )
    d.wait_for_a_sweep_after(utcnow(), PATIENCE)
    assert _opened(d) == Counter({pid: 1 for pid in ids})
    assert _requests(d) == Counter({pid: 1 for pid in ids})
    numbers = [n for (n,) in d.rows(select(ServiceRequest.number))]
    assert len(set(numbers)) == 50


def test_a_flushed_redis_before_they_are_due_still_opens_them_on_time(desk):
    d = desk()
    # the next whole minute at least 20 seconds ahead: the working period starts then
    start = utcnow() + timedelta(seconds=20)
    opens_at = (start + timedelta(minutes=1)).replace(second=0, microsecond=0)
    ids = _plans(d, 20, opens_at)
    d.start_worker(**FAST)
    d.wait_for_a_sweep_after(utcnow(), PATIENCE)
    assert sum(_opened(d).values()) == 0  # not yet due
    d.redis.flushall()
    wait_until(
        lambda: sum(_opened(d).values()) >= 20,
        (opens_at - utcnow()).total_seconds() + PATIENCE,
        "20 occurrences opened after FLUSHALL",
        d.logs,
    )
    rows = d.rows(select(PlanOccurrence.opened_at, PlanOccurrence.status))
    assert _opened(d) == Counter({pid: 1 for pid in ids})
    assert {status for _, status in rows} == {"opened"}
    # on time or within one sweep: never before the occurrence opens, and within the sweep's
    # and the opener's slots (plus a worker's pick-up) after
    latest = max(at for at, _ in rows)
    assert min(at for at, _ in rows) >= opens_at
    assert latest - opens_at < timedelta(seconds=d.config["SLA_SWEEP_SECONDS"] + 2 + 10)


def test_two_openers_racing_in_two_threads_open_one_request_per_occurrence(desk):
    d = desk()
    ids = _plans(d, 10)
    engine = d.app.extensions["portal_db"].engine
    from sqlalchemy.orm import Session

    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def opener():
        try:
            with d.app.app_context(), Session(engine) as session:
                now = datetime.now(UTC)
                items = plan_opener.due(session, now)
                session.rollback()
                barrier.wait(timeout=30)
                opened = 0
                for item in items:
                    if plan_opener.open_occurrence(session, item, now, "Asia/Shanghai"):
                        session.commit()
                        opened += 1
                    else:
                        session.rollback()
                results.append({"due": len(items), "opened": opened})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=PATIENCE)
    assert not errors, errors
    assert [r["due"] for r in results] == [10, 10]  # both saw every occurrence due
    assert sum(r["opened"] for r in results) == 10  # and opened each once between them
    assert _opened(d) == Counter({pid: 1 for pid in ids})
    assert _requests(d) == Counter({pid: 1 for pid in ids})
    assert d.rows(select(func.count()).select_from(ServiceRequest))[0][0] == 10


def test_workers_stopped_across_three_occurrences_open_all_three_once_marked_late(desk):
    d = desk()
    # a daily plan set up four days ago for the three days before today: no worker ran while
    # its three occurrences came due (each at midnight of its day on this calendar)
    today = utcnow().astimezone(CST).date()
    (plan_id,) = _plans(
        d,
        1,
        created=utcnow() - timedelta(days=4),
        rule=rules.RuleChoice(rules.ADVANCED, advanced="FREQ=DAILY"),
        starts_on=today - timedelta(days=3),
        ends_on=today - timedelta(days=1),
    )
    assert sum(_opened(d).values()) == 0
    d.start_worker(**FAST)
    wait_until(lambda: sum(_opened(d).values()) >= 3, PATIENCE, "three late occurrences", d.logs)
    d.wait_for_a_sweep_after(utcnow(), PATIENCE)
    d.wait_for_a_sweep_after(utcnow(), PATIENCE)
    rows = d.rows(
        select(PlanOccurrence.occurs_on, PlanOccurrence.status, PlanOccurrence.note).order_by(
            PlanOccurrence.occurs_on
        )
    )
    assert [r[0] for r in rows] == [today - timedelta(days=k) for k in (3, 2, 1)]
    assert {r[1] for r in rows} == {"opened_late"}
    assert all("Opened late" in r[2] or "延迟生成" in r[2] for r in rows)
    assert _requests(d) == Counter({plan_id: 3})
