"""Fill a PostgreSQL database with N service requests for benchmarks (server-side generate_series).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench python bench/seed_bulk.py 1000000

Drops and rebuilds the schema first. Creates 50 organisations with 40 contacts each, 12 staff
(engineers, a dispatcher, a supervisor) and N requests spread over every status, priority, type,
channel and the last 365 days. Logins: staff1@bench.example / customer1@bench.example, password
"bench-password".
"""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy import text

from portal.db import make_engine
from portal.migrate import upgrade
from portal.security import configure, hash_password


def main(n: int) -> None:
    url = os.environ["DATABASE_URL"]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    configure({"time_cost": 2, "memory_cost": 19456, "parallelism": 1})
    pw = hash_password("bench-password")
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organisations (name, code, colleagues_may_view, colleagues_may_reply, active, created_at) "
                "SELECT 'Org ' || g, 'ORG' || g, false, false, true, now() FROM generate_series(1, 50) g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO accounts (kind, email, phone, name, password_hash, active, organisation_id, "
                "is_org_admin, available, created_at, password_changed_at) "
                "SELECT 'customer', 'customer' || g || '@bench.example', '139' || lpad(g::text, 8, '0'), "
                "'李客户' || g, :pw, true, 1 + (g - 1) % 50, g <= 50, true, now(), now() "
                "FROM generate_series(1, 2000) g"
            ),
            {"pw": pw},
        )
        conn.execute(
            text(
                "INSERT INTO accounts (kind, email, name, password_hash, active, is_org_admin, available, "
                "created_at, password_changed_at) "
                "SELECT 'staff', 'staff' || g || '@bench.example', '张工' || g, :pw, true, false, true, now(), now() "
                "FROM generate_series(1, 12) g"
            ),
            {"pw": pw},
        )
        conn.execute(
            text(
                "INSERT INTO account_roles (account_id, role) SELECT id, CASE WHEN email = 'staff1@bench.example' "
                "THEN 'dispatcher' WHEN email = 'staff2@bench.example' THEN 'supervisor' ELSE 'engineer' END "
                "FROM accounts WHERE kind = 'staff'"
            )
        )
        conn.execute(
            text("""
            INSERT INTO service_requests (
                number, organisation_id, contact_id, created_by_id, channel, contact_name, contact_phone,
                contact_email, title, description, type, proposed_urgency, priority, status, handler_id,
                submitted_at, updated_at, response_due_at, resolution_due_at, paused_seconds,
                escalation_level, rework_count)
            SELECT
                'SR-' || to_char(ts, 'YYYYMMDD') || '-' || lpad(g::text, 7, '0'),
                c.organisation_id, c.id, c.id,
                (ARRAY['portal','phone','email','on_site'])[1 + g % 4],
                c.name, c.phone, c.email,
                '生产系统故障 ' || g, '描述 ' || g,
                (ARRAY['fault','consultation','optimisation','delivery'])[1 + g % 4],
                (ARRAY['P1','P2','P3'])[1 + g % 3],
                CASE WHEN g % 8 = 0 THEN NULL ELSE (ARRAY['P1','P2','P3'])[1 + (g / 3) % 3] END,
                (ARRAY['submitted','pending_assignment','in_progress','awaiting_customer',
                       'pending_acceptance','completed','closed','cancelled'])[1 + g % 8],
                CASE WHEN g % 8 IN (0, 1) THEN NULL ELSE s.id END,
                ts, ts + interval '1 hour', ts + interval '4 hours', ts + interval '3 days', 0, 0, 0
            FROM generate_series(1, :n) g
            CROSS JOIN LATERAL (SELECT now() - (g::float / :n) * interval '365 days' AS ts) t
            JOIN accounts c ON c.id = 1 + (g % 2000)
            JOIN accounts s ON s.email = 'staff' || (3 + g % 10) || '@bench.example'
        """),
            {"n": n},
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    print(f"seeded {n} requests in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
