"""The reports at N requests on PostgreSQL: the report page of last month, its 12-month trend
and the monthly feedback analysis report, each timed as the page builder runs them.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_reports \
        python bench/reports.py 1000000          # SKIP_SEED=1 to reuse the last seed

Seeds with bench/seed_bulk.py, then fills what the reports read: the first response and the
time it took for most requests, the accepted delivery and resolution time of the completed and
closed ones, a feedback for two in three of those, two handling steps per started request and a
failed acceptance for one delivery in five. Targets (issue 14): the monthly report ≤ 2 s, the
12-month trend ≤ 2 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.db import make_engine

FILL = [
    # the response: 1–5 h after submission (seconds stored as the SLA clock does)
    """UPDATE service_requests SET
         first_response_at = submitted_at + (1 + id % 5) * interval '1 hour',
         response_seconds = (1 + id % 5) * 3600
       WHERE status <> 'submitted'""",
    """UPDATE service_requests SET
         delivered_at = submitted_at + (2 + id % 70) * interval '1 hour',
         resolution_seconds = (2 + id % 70) * 3600,
         completed_at = submitted_at + (3 + id % 70) * interval '1 hour',
         escalation_level = CASE WHEN id % 70 > 60 THEN 1 + id % 2 ELSE 0 END
       WHERE status IN ('completed', 'closed')""",
    """INSERT INTO feedback (number, request_id, customer_id, channel, recorded_by_id,
         score_response, score_effect, score_attitude, mean_score, suggestions, created_at)
       SELECT 'FB-' || id, id, contact_id, 'portal', contact_id,
         1 + id % 5, 1 + (id / 5) % 5, 1 + (id / 25) % 5,
         round(((1 + id % 5) + (1 + (id / 5) % 5) + (1 + (id / 25) % 5)) / 3.0, 1),
         CASE WHEN id % 7 = 0 THEN '希望增加故障预警功能' WHEN id % 11 = 0 THEN '响应太慢' ELSE '' END,
         completed_at
       FROM service_requests WHERE status IN ('completed', 'closed') AND id % 3 <> 0""",
    """INSERT INTO handling_records (number, request_id, handler_id, problems, workaround,
         final_result, created_at)
       SELECT 'IR-' || id, id, handler_id, '', '', '', submitted_at
       FROM service_requests WHERE handler_id IS NOT NULL""",
    """INSERT INTO handling_steps (record_id, author_id, occurred_at, operation, hours,
         visible_to_customer, created_at)
       SELECT r.id, r.handler_id, r.created_at + k * interval '1 hour', '检查日志并重启服务',
         0.5 * k, true, r.created_at
       FROM handling_records r CROSS JOIN generate_series(1, 2) k""",
    """INSERT INTO deliveries (number, request_id, round, delivered_by_id, service_item,
         demo_note, delivered_at, content_hash, result, unmet_items, rectification, decided_at)
       SELECT 'SD-' || id, id, 1, handler_id, '修复', '', delivered_at, repeat('0', 64),
         CASE WHEN id % 5 = 0 THEN 'fail' ELSE 'pass' END,
         CASE WHEN id % 5 = 0 THEN '登录仍然超时' ELSE '' END,
         CASE WHEN id % 5 = 0 THEN '请优化连接池参数' ELSE '' END, completed_at
       FROM service_requests WHERE delivered_at IS NOT NULL""",
    # what the services keep on the request: the rework count and the hours of the steps
    "UPDATE service_requests SET rework_count = 1 WHERE delivered_at IS NOT NULL AND id % 5 = 0",
    "UPDATE service_requests SET hours_logged = 1.5 WHERE handler_id IS NOT NULL",
]


def seed(url: str, n: int) -> None:
    import runpy

    # bench/seed_bulk.py, run as its own script would be (it is not a package module)
    seeder = runpy.run_path(os.path.join(os.path.dirname(__file__), "seed_bulk.py"))
    seeder["main"](n)
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        for statement in FILL:
            conn.execute(text(statement))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    print(f"filled the report data in {time.perf_counter() - started:.1f}s")
    engine.dispose()


def timed(label: str, func, runs: int = 5) -> None:
    func()  # warm: plans and the buffer cache
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        seconds.append(time.perf_counter() - started)
    print(f"{label:<44} median {statistics.median(seconds):.3f}s  max {max(seconds):.3f}s")


def main() -> None:
    url = os.environ["DATABASE_URL"]
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if not os.environ.get("SKIP_SEED"):
        seed(url, n)
    from portal import create_app

    app = create_app({"DATABASE_URL": url})
    tz = app.config["PORTAL_TIMEZONE"]
    with app.app_context():
        from portal.db import db
        from portal.models import Account
        from portal.services.reports import filters, monthly, trend
        from portal.services.reports.page import report_page

        session: Session = db.session
        now = datetime.now(UTC)
        supervisor = session.query(Account).filter_by(email="staff2@bench.example").one()
        start, end = filters.last_month(now.date())
        f = filters.ReportFilters(start=start, end=end)
        print(f"{n} requests; the report of {start} – {end}")
        timed("report page (last month's figures)",
              lambda: report_page(session, supervisor, f, tz, now))  # fmt: skip
        timed("12-month trend page", lambda: trend.trend(session, f, tz, now))
        timed("monthly feedback analysis report (compute)",
              lambda: monthly.compute(session, start, end, tz, now), runs=3)  # fmt: skip
        session.rollback()


if __name__ == "__main__":
    main()
