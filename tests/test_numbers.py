"""Form numbers: the format, the desk's day, and gapless numbering under concurrent submissions.

The concurrency tests COMMIT for real (the per-test rolled-back transaction cannot show what
other transactions see), each on a far-future day of its own, and delete what they committed.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import sessionmaker

from portal.db import make_engine
from portal.domain.numbers import desk_day, format_number, is_number
from portal.domain.vocabulary import Priority, RequestType
from portal.models import (
    Account,
    AuditEvent,
    Notification,
    NumberSequence,
    Organisation,
    ServiceRequest,
)
from portal.services import audit
from portal.services import requests as sr_service
from portal.services.accounts import create_account
from portal.services.audit import Actor
from portal.services.numbers import next_number
from tests.factories import PASSWORD

SHANGHAI = "Asia/Shanghai"


# --- the pure rules ------------------------------------------------------------------------------


def test_format_pads_to_three_digits():
    assert format_number("SR", date(2024, 10, 1), 1) == "SR-20241001-001"
    assert format_number("IR", date(2024, 10, 1), 42) == "IR-20241001-042"
    assert format_number("FB", date(2025, 1, 9), 999) == "FB-20250109-999"


def test_format_widens_past_999():
    assert format_number("SR", date(2024, 10, 1), 1000) == "SR-20241001-1000"
    assert format_number("SD", date(2024, 10, 1), 12345) == "SD-20241001-12345"


def test_sequence_starts_at_one():
    with pytest.raises(ValueError):
        format_number("SR", date(2024, 10, 1), 0)


def test_desk_day_is_the_day_in_shanghai():
    # 16:30 UTC on 30 September is 00:30 on 1 October in Shanghai (UTC+8)
    assert desk_day(datetime(2024, 9, 30, 16, 30, tzinfo=UTC), SHANGHAI) == date(2024, 10, 1)
    assert desk_day(datetime(2024, 9, 30, 15, 59, 59, tzinfo=UTC), SHANGHAI) == date(2024, 9, 30)
    assert desk_day(datetime(2024, 9, 30, 16, 0, tzinfo=UTC), SHANGHAI) == date(2024, 10, 1)
    # the same instant elsewhere
    assert desk_day(datetime(2024, 9, 30, 16, 30, tzinfo=UTC), "Europe/Berlin") == date(2024, 9, 30)


def test_desk_day_needs_an_aware_instant():
    with pytest.raises(ValueError):
        desk_day(datetime(2024, 9, 30, 16, 30), SHANGHAI)


@pytest.mark.parametrize(
    "text,prefix,expected",
    [
        ("SR-20241001-001", None, True),
        ("SR-20241001-1000", "SR", True),
        ("IR-20241001-001", "SR", False),
        ("SR-20241001-01", None, False),
        ("SR-2024101-001", None, False),
        ("XX-20241001-001", None, False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_is_number(text, prefix, expected):
    assert is_number(text, prefix) is expected


# --- the counter in the database -----------------------------------------------------------------


def test_next_number_counts_per_prefix_and_per_desk_day(db_session):
    late_evening_utc = datetime(2030, 5, 4, 15, 59, tzinfo=UTC)  # 23:59 on 4 May in Shanghai
    after_midnight = late_evening_utc + timedelta(minutes=2)  # 00:01 on 5 May
    taken = [
        next_number(db_session, "SR", late_evening_utc, SHANGHAI),
        next_number(db_session, "SR", late_evening_utc, SHANGHAI),
        next_number(db_session, "IR", late_evening_utc, SHANGHAI),
        next_number(db_session, "SR", after_midnight, SHANGHAI),
        next_number(db_session, "SR", late_evening_utc, SHANGHAI),
    ]
    assert taken == [
        "SR-20300504-001",
        "SR-20300504-002",
        "IR-20300504-001",
        "SR-20300505-001",
        "SR-20300504-003",
    ]


def test_next_number_widens_past_999(db_session):
    now = datetime(2030, 6, 1, 4, 0, tzinfo=UTC)
    db_session.add(NumberSequence(prefix="SR", day=date(2030, 6, 1), last_value=998))
    db_session.flush()
    assert next_number(db_session, "SR", now, SHANGHAI) == "SR-20300601-999"
    assert next_number(db_session, "SR", now, SHANGHAI) == "SR-20300601-1000"


def test_submission_is_numbered_on_the_desk_day(factory):
    contact = factory.customer()
    sr = factory.request(contact, now=datetime(2030, 9, 30, 16, 30, tzinfo=UTC))
    assert sr.number == "SR-20301001-001"


# --- for real: committed, concurrent -------------------------------------------------------------


class Committed:
    """An organisation and a customer committed through an engine of the test's own, and
    everything submitted for them; ``cleanup`` deletes it all again."""

    def __init__(self, app, database_url: str, connections: int) -> None:
        self.app = app
        self.engine = make_engine(database_url, pool_size=connections, max_overflow=0)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.timezone = app.config["PORTAL_TIMEZONE"]
        self.days: set[date] = set()
        tag = uuid.uuid4().hex[:10]
        with self.Session() as s:
            org = Organisation(name=f"Numbering test {tag}", code=f"NUM{tag}")
            s.add(org)
            s.flush()
            customer = create_account(
                s,
                kind="customer",
                email=f"numbers-{tag}@example.com",
                name="并发测试",
                password=PASSWORD,
                phone="13800000000",
                organisation_id=org.id,
            )
            s.commit()
            self.organisation_id = org.id
            self.customer_id = customer.id

    def submit(self, session, now: datetime, title: str) -> ServiceRequest:
        """One submission as the customer makes it, in ``session``'s transaction."""
        self.days.add(desk_day(now, self.timezone))
        contact = session.get(Account, self.customer_id)
        intake = sr_service.Intake(
            type=RequestType.FAULT,
            proposed_urgency=Priority.P2,
            title=title,
            description="数据库连接池耗尽,订单服务返回 500 错误,需要排查连接泄漏。",
        )
        return sr_service.submit(
            session, Actor(self.customer_id), contact, intake, now, self.timezone
        )

    def submit_and_commit(self, now: datetime, title: str) -> str:
        # the after-commit enqueue reaches Redis through the app, so each thread has a context
        with self.app.app_context(), self.Session() as session:
            sr = self.submit(session, now, title)
            session.commit()
            return sr.number

    def numbers(self) -> list[str]:
        with self.Session() as s:
            return list(
                s.scalars(
                    select(ServiceRequest.number)
                    .where(ServiceRequest.organisation_id == self.organisation_id)
                    .order_by(ServiceRequest.id)
                )
            )

    def cleanup(self) -> None:
        with self.Session() as s:
            requests = s.execute(
                select(ServiceRequest.id, ServiceRequest.number).where(
                    ServiceRequest.organisation_id == self.organisation_id
                )
            ).all()
            ids = [r.id for r in requests]
            numbers = [r.number for r in requests]
            if ids:
                s.execute(delete(Notification).where(Notification.request_id.in_(ids)))
            with audit.unguarded(s):  # test data only: the newest rows, the chain stays whole
                s.execute(
                    delete(AuditEvent).where(
                        or_(
                            AuditEvent.actor_id == self.customer_id,
                            (AuditEvent.object_type == "service_request")
                            & AuditEvent.object_id.in_(numbers or ["-"]),
                        )
                    )
                )
            s.execute(
                delete(ServiceRequest).where(ServiceRequest.organisation_id == self.organisation_id)
            )
            for day in self.days:
                s.execute(delete(NumberSequence).where(NumberSequence.day == day))
            s.execute(delete(Account).where(Account.id == self.customer_id))
            s.execute(delete(Organisation).where(Organisation.id == self.organisation_id))
            s.commit()
        self.engine.dispose()


@pytest.fixture
def committed(app, database_url):
    """Not with db_session: its open transaction would hold SQLite's write lock."""
    made = Committed(app, database_url, connections=32)
    try:
        yield made
    finally:
        made.cleanup()
        with made.app.app_context():
            from portal.queue import redis_conn

            redis_conn().flushdb()


def test_concurrent_submissions_get_consecutive_numbers(committed):
    total, workers = 200, 32
    now = datetime(2031, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 March 2031 in Shanghai
    barrier = threading.Barrier(workers)

    def worker(index: int) -> list[str]:
        share = total // workers + (1 if index < total % workers else 0)
        barrier.wait(timeout=60)  # everyone starts together
        return [committed.submit_and_commit(now, f"并发提交 {index}-{n}") for n in range(share)]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(worker, range(workers)))

    taken = [number for numbers in results for number in numbers]
    expected = [f"SR-20310301-{n:03d}" for n in range(1, total + 1)]
    assert len(taken) == total
    assert sorted(taken) == expected  # distinct, and no gap: exactly 001..200
    # and so the database says, after every commit
    assert sorted(committed.numbers()) == expected
    with committed.Session() as s:
        counter = s.get(NumberSequence, ("SR", date(2031, 3, 1)))
        assert counter.last_value == total


def test_rolled_back_submission_gives_its_number_back(committed):
    now = datetime(2031, 3, 2, 2, 0, tzinfo=UTC)
    assert committed.submit_and_commit(now, "第一个") == "SR-20310302-001"

    with committed.app.app_context(), committed.Session() as session:
        abandoned = committed.submit(session, now, "被回滚的")
        assert abandoned.number == "SR-20310302-002"
        session.rollback()

    assert committed.submit_and_commit(now, "第三个") == "SR-20310302-002"
    assert committed.submit_and_commit(now, "第四个") == "SR-20310302-003"
    assert committed.numbers() == ["SR-20310302-001", "SR-20310302-002", "SR-20310302-003"]


def test_a_waiting_submission_takes_the_number_given_back(committed):
    """While one submission holds the counter, the next waits; if the first rolls back, the
    waiting one gets its number, so no gap opens."""
    now = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)
    with committed.app.app_context(), committed.Session() as first:
        assert committed.submit(first, now, "持有计数器").number == "SR-20310303-001"
        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(committed.submit_and_commit, now, "等待中")
            time.sleep(0.5)
            assert not waiting.done(), "the second submission did not wait for the counter"
            first.rollback()
            assert waiting.result(timeout=60) == "SR-20310303-001"
    assert committed.numbers() == ["SR-20310303-001"]
