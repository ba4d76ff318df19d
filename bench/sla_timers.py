"""SLA timer benchmark (issue 4): lateness of escalations with live workers, and the sweep's cost.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_sla \\
    REDIS_URL=redis://127.0.0.1:6379/14 python bench/sla_timers.py [--deadlines 1000] \\
        [--spread 60] [--workers 2] [--open 100000]

DROPS AND REBUILDS the schema of DATABASE_URL and FLUSHES the Redis db of REDIS_URL.

1. lateness: N requests whose resolution falls due spread over ``--spread`` seconds; the timers
   are scheduled as the portal schedules them (after commit), ``--workers`` `portal worker`
   processes run them. Lateness = SlaEvent.fired_at − due_at of each breach (level 1). Warnings
   are switched off (warn_percent 100) so that only the measured deadlines fire in the window.
2. sweep: ``--open`` open requests, none due (due times from 1 hour to 30 days ahead, warnings
   not reached), then the sweep's reading part (``timers.sweep_candidates`` and the rest of
   ``jobs_sla.sweep``) timed in-process, median and max of 20 runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis import Redis
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.migrate import upgrade  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def reset(url: str, redis_url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    Redis.from_url(redis_url).flushdb()


def seed_people(conn) -> None:
    conn.execute(
        text(
            "INSERT INTO organisations (name, code, colleagues_may_view, colleagues_may_reply, "
            "active, created_at) VALUES ('Bench org', 'BENCH', false, false, true, now())"
        )
    )
    conn.execute(
        text(
            "INSERT INTO accounts (kind, email, phone, name, password_hash, active, organisation_id,"
            " is_org_admin, available, created_at, password_changed_at, locale) VALUES "
            "('customer', 'c@bench.example', '13900000000', '李客户', 'x', true, 1, false, true,"
            " now(), now(), 'en'),"
            "('staff', 'sup1@bench.example', NULL, '张主管', 'x', true, NULL, false, true,"
            " now(), now(), 'zh_CN'),"
            "('staff', 'sup2@bench.example', NULL, '王主管', 'x', true, NULL, false, true,"
            " now(), now(), 'en'),"
            "('staff', 'eng@bench.example', NULL, '赵工', 'x', true, NULL, false, true,"
            " now(), now(), 'en')"
        )
    )
    conn.execute(
        text(
            "INSERT INTO account_roles (account_id, role) VALUES (2, 'supervisor'), "
            "(3, 'supervisor'), (4, 'engineer')"
        )
    )
    # warnings off for the measurement: only the breaches fire in the window
    conn.execute(
        text(
            "UPDATE sla_targets SET warn_percent = 100, escalate_after_minutes = 600 "
            "WHERE priority = 'P2'"
        )
    )


def insert_requests(
    conn, n: int, sql_due: str, sql_sub: str, tag: str, sql_warn: str = "NULL"
) -> None:
    """P2 requests (24x7 clock), already responded to; ``sql_warn`` is the stored resolution
    warning instant (NULL: none, as with warn_percent 100)."""
    conn.execute(
        text(f"""
        INSERT INTO service_requests (
            number, organisation_id, contact_id, created_by_id, channel, contact_name,
            contact_phone, contact_email, title, description, type, proposed_urgency, priority,
            status, handler_id, submitted_at, updated_at, response_due_at, resolution_due_at,
            resolution_warn_at, first_response_at, paused_seconds, escalation_level, rework_count)
        SELECT 'SR-{tag}-' || lpad(g::text, 7, '0'), 1, 1, 1, 'portal', '李客户', NULL, NULL,
            'Bench ' || g, 'bench', 'fault', 'P2', 'P2',
            (ARRAY['submitted','pending_assignment','in_progress'])[1 + g % 3],
            CASE WHEN g % 3 = 2 THEN 4 ELSE NULL END,
            {sql_sub}, {sql_sub}, NULL, {sql_due}, {sql_warn}, {sql_sub}, 0, 0, 0
        FROM generate_series(1, :n) g
    """),
        {"n": n},
    )


def lateness(url: str, redis_url: str, n: int, spread: float, workers: int, lead: float) -> dict:
    reset(url, redis_url)
    engine = make_engine(url)
    with engine.begin() as conn:
        seed_people(conn)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench"})
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench"}
    command = os.environ.get("BENCH_WORKER_COMMAND")
    procs = [
        subprocess.Popen(
            command.split()
            if command
            else [sys.executable, "-c", "from portal.cli import main; main()", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    try:
        start = datetime.now(UTC) + timedelta(seconds=lead)
        with app.app_context():
            from portal.db import db
            from portal.models import ServiceRequest
            from portal.services import timers

            session = db.session
            # the timers are scheduled after this commit, as for any change of due times
            session.info["portal_sla_no_schedule"] = True
            insert_requests(
                session.connection(),
                n,
                f"timestamptz '{start.isoformat()}' + (g::float / :n * {spread}) * interval '1 second'",
                "now() - interval '2 hours'",
                "LATE",
            )
            session.commit()
            session.info.pop("portal_sla_no_schedule")
            t0 = time.perf_counter()
            for sr in session.scalars(select(ServiceRequest)):
                timers.reschedule(session, sr)
            session.commit()
            scheduling = time.perf_counter() - t0
        deadline = start + timedelta(seconds=spread + 60)
        while datetime.now(UTC) < deadline:
            with engine.connect() as conn:
                done = conn.scalar(
                    text("SELECT count(*) FROM sla_events WHERE kind = 'resolution_breach'")
                )
            if done >= n:
                break
            time.sleep(1)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM fired_at - due_at) FROM sla_events "
                    "WHERE kind = 'resolution_breach'"
                )
            ).all()
            dupes = conn.scalar(
                text(
                    "SELECT count(*) FROM (SELECT request_id FROM sla_events WHERE kind = "
                    "'resolution_breach' GROUP BY request_id HAVING count(*) > 1) d"
                )
            )
        late = [float(r[0]) for r in rows]
        return {
            "deadlines": n,
            "fired": len(late),
            "duplicates": dupes,
            "workers": workers,
            "scheduling_s": round(scheduling, 2),
            "p50_s": round(pct(late, 50), 3) if late else None,
            "p99_s": round(pct(late, 99), 3) if late else None,
            "max_s": round(max(late), 3) if late else None,
            "early": sum(1 for x in late if x < 0),
        }
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 9)
            except ProcessLookupError:
                pass
            p.wait()
        engine.dispose()


def sweep_time(url: str, redis_url: str, n_open: int) -> dict:
    reset(url, redis_url)
    engine = make_engine(url)
    with engine.begin() as conn:
        seed_people(conn)
        conn.execute(text("UPDATE sla_targets SET warn_percent = 75"))
        due = "(now() + interval '1 hour' + (g::float / :n) * interval '30 days')"
        insert_requests(
            conn,
            n_open,
            # due from 1 hour to 30 days ahead; submitted 10 minutes ago: no warning reached
            due,
            "now() - interval '10 minutes'",
            "OPEN",
            # a stored warning instant at 75 % of each request's span: none reached either
            f"now() - interval '10 minutes' + ({due} - (now() - interval '10 minutes')) * 0.75",
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench"})
    reading, whole = [], []
    with app.app_context():
        from portal import jobs_sla
        from portal.db import db
        from portal.services import timers

        for _ in range(20):
            t0 = time.perf_counter()
            ids, _p = timers.sweep_candidates(
                db.session, datetime.now(UTC), timedelta(seconds=60), timedelta(hours=168)
            )
            db.session.rollback()
            reading.append(time.perf_counter() - t0)
            assert not ids, f"{len(ids)} due: the bench data is wrong"
        for _ in range(20):
            result = jobs_sla.sweep()
            whole.append(result["seconds"])
            assert result["fired"] == 0 and result["scheduled"] == 0, result
    engine.dispose()
    return {
        "open_requests": n_open,
        "candidates_ms_median": round(statistics.median(reading) * 1000, 2),
        "candidates_ms_max": round(max(reading) * 1000, 2),
        "sweep_job_ms_median": round(statistics.median(whole) * 1000, 2),
        "sweep_job_ms_max": round(max(whole) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deadlines", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lead", type=float, default=15.0, help="seconds before the first due")
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--only", choices=["lateness", "sweep"])
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    if not url.startswith("postgresql"):
        sys.exit("the benchmark seeds with PostgreSQL's generate_series: set DATABASE_URL")
    if args.only in (None, "lateness"):
        print(
            "lateness:",
            lateness(url, redis_url, args.deadlines, args.spread, args.workers, args.lead),
        )
    if args.only in (None, "sweep"):
        print("sweep:", sweep_time(url, redis_url, args.open))


if __name__ == "__main__":
    main()
