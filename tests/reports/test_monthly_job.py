"""The monthly report's daily check against a real Redis: two workers make one report, and a
check again after Redis lost everything finds it made."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from portal import jobs_reports
from portal.domain.report_stats import Month
from portal.models import FeedbackReport

QUEUE = "reports-test"


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(FeedbackReport))


def test_two_workers_and_a_flushall_make_one_report(db_session, redis_url, monkeypatch):
    # the first working day of November 2026 (Monday 2 Nov), 09:00 in Shanghai
    now = datetime(2026, 11, 2, 1, tzinfo=UTC)
    monkeypatch.setattr(jobs_reports, "_now", lambda: now)
    conn = Redis.from_url(redis_url)
    # a queue of this test's own: a worker elsewhere on a shared Redis listens on "default"
    queue = Queue(QUEUE, connection=conn)
    assert jobs_reports.ensure_monthly_check(conn, QUEUE, now=now) is True
    assert jobs_reports.ensure_monthly_check(conn, QUEUE, now=now) is False  # one check a day
    # a second worker's keeper enqueues the same check by hand: a duplicate delivery
    queue.enqueue("portal.jobs_reports.monthly_feedback_report", job_id="duplicate")
    for _ in range(2):  # two workers, one after the other, in the test's transaction
        SimpleWorker([queue], connection=conn).work(burst=True)
    assert _count(db_session) == 1
    report = db_session.scalar(select(FeedbackReport))
    assert report.number == "FA-202610" and report.month == "2026-10"

    conn.flushdb()  # Redis lost everything (FLUSHALL on a Redis of our own)
    assert jobs_reports.ensure_monthly_check(conn, QUEUE, now=now) is True
    job = queue.jobs[0]
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert job.return_value() == "exists FA-202610"
    assert _count(db_session) == 1


def test_before_the_first_working_day_the_month_before_is_due(db_session, redis_url, monkeypatch):
    # Sunday 1 Nov 2026: October's report is not due yet; September's is
    monkeypatch.setattr(jobs_reports, "_now", lambda: datetime(2026, 11, 1, 1, tzinfo=UTC))
    assert jobs_reports.monthly_feedback_report() == "made FA-202609"


def test_two_workers_racing_on_their_own_connections_make_one_report(database_url, tmp_path):
    """Real concurrency: two sessions, each its own connection and transaction, on a database
    of this test's own (their commits must not reach the shared test database), generate the
    same month at once; the unique month lets one insert stand."""
    from sqlalchemy.orm import sessionmaker

    from portal.db import make_engine
    from portal.migrate import upgrade
    from portal.services.audit import SYSTEM
    from portal.services.reports import monthly

    if database_url.startswith("postgresql"):
        from tests.live_db import empty_postgres_database

        url = empty_postgres_database(database_url, "race")
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    upgrade(url)
    engine = make_engine(url)
    make_session = sessionmaker(bind=engine, expire_on_commit=False)
    month = Month(2026, 10)
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def worker():
        try:
            with make_session() as session:
                barrier.wait(timeout=10)
                report, made = monthly.generate(
                    session, SYSTEM, month, "Asia/Shanghai", datetime(2026, 11, 2, 2, tzinfo=UTC)
                )
                session.commit()
                results.append((report.number, made))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not errors, errors
        assert sorted(made for _, made in results) == [False, True]
        assert {number for number, _ in results} == {"FA-202610"}
        with make_session() as session:
            assert _count(session) == 1
    finally:
        engine.dispose()
