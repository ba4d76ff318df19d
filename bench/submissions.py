"""Submissions per second through the service layer (number + audit chain + SLA clock + timers),
with T threads on PostgreSQL. Uses the database of DATABASE_URL (seeded by seed_bulk.py, which it
does not drop) and REDIS_URL for the timers.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench \
    REDIS_URL=redis://127.0.0.1:6379/9 python bench/submissions.py 16 50
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

from sqlalchemy import select

from portal import create_app
from portal.db import db
from portal.domain.vocabulary import Priority, RequestType
from portal.models import Account, utcnow
from portal.services import requests as sr_service
from portal.services.audit import Actor


def main(threads: int, each: int) -> None:
    app = create_app()
    with app.app_context():
        contact_ids = db.session.scalars(
            select(Account.id).where(Account.kind == "customer").limit(threads)
        ).all()
    barrier = threading.Barrier(threads)
    latencies: list[float] = []
    lock = threading.Lock()

    def work(contact_id: int) -> None:
        with app.app_context():
            contact = db.session.get(Account, contact_id)
            barrier.wait()
            for i in range(each):
                t0 = time.perf_counter()
                sr_service.submit(
                    db.session,
                    Actor(contact.id),
                    contact,
                    sr_service.Intake(
                        type=RequestType.FAULT,
                        proposed_urgency=Priority.P2,
                        title=f"bench {contact_id}-{i}",
                        description="打印机无法连接,报错 0x0000011b。",
                    ),
                    utcnow(),
                    app.config["PORTAL_TIMEZONE"],
                )
                db.session.commit()
                with lock:
                    latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(cid,)) for cid in contact_ids]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    print(
        f"{n} submissions with {threads} threads in {elapsed:.1f}s: {n / elapsed:.0f}/s, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {latencies[int(n * 0.99) - 1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 16, int(sys.argv[2]) if len(sys.argv) > 2 else 50
    )
