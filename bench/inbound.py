"""Inbound mail through IMAP: N mails appended into a dovecot started by the test harness
(tests/imap_server.py), then taken by fetch_once (receive + process + commit + move, in batches)
until every one is taken; prints the time and mails per second. F fetchers (threads, each with
its own session and IMAP connection) share the mailbox, as several workers would.

    python bench/inbound.py 1000            # a temporary SQLite database
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_inbound \
        python bench/inbound.py 1000 2      # PostgreSQL (its schema is dropped), 2 fetchers

process() is included, whatever it does at the time (docs/product.md §9).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from portal import create_app  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.models import InboundMail, Mailbox, utcnow  # noqa: E402
from portal.services.inbound import imap, mailbox_secret  # noqa: E402
from tests.imap_server import ImapServer, sample_mail  # noqa: E402


def _database() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tempfile.mkdtemp(prefix='bench-inbound-')}/bench.db"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def main(total: int, fetchers: int, limit: int) -> None:
    url = _database()
    upgrade(url)
    app = create_app(
        {"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "bench"}
    )
    server = ImapServer({"desk": "desk-pass"}).start()
    try:
        t0 = time.perf_counter()
        server.append("desk", (sample_mail(n) for n in range(total)))
        appended = time.perf_counter() - t0
        make_session = sessionmaker(app.extensions["portal_db"].engine, expire_on_commit=False)
        with make_session() as s:
            box = Mailbox(
                name="bench",
                host=server.host,
                port=server.port,
                use_ssl=False,
                username="desk",
                password_encrypted=mailbox_secret.encrypt(app.config, "desk-pass"),
            )
            s.add(box)
            s.commit()
            box_id = box.id
        results: list[imap.FetchResult] = []
        start = threading.Barrier(fetchers)

        def fetch() -> None:
            with app.app_context(), make_session() as session:
                mine = session.get(Mailbox, box_id)
                session.rollback()
                start.wait()
                while True:
                    result = imap.fetch_once(session, mine, utcnow(), limit=limit)
                    results.append(result)
                    if result.error:
                        raise SystemExit(f"fetch failed: {result.error}")
                    if result.taken + result.duplicates + result.gone == 0:
                        return

        threads = [threading.Thread(target=fetch) for _ in range(fetchers)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - t0
        with make_session() as s:
            rows = s.scalar(select(func.count()).select_from(InboundMail))
        left, moved = server.count("desk", "INBOX"), server.count("desk", "Portal/Taken")
    finally:
        server.stop()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{total} mails appended over IMAP in {appended:.2f} s")
    print(
        f"{backend}, {fetchers} fetcher(s), limit {limit}: {rows} taken in {took:.2f} s "
        f"= {rows / took:.0f} mails/s ({len(results)} fetches; "
        f"{sum(r.duplicates for r in results)} duplicates, {sum(r.gone for r in results)} gone; "
        f"INBOX {left}, Portal/Taken {moved})"
    )
    if rows != total or left or moved != total:
        raise SystemExit("not every mail was taken exactly once")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(
        args[0] if args else 1000,
        args[1] if len(args) > 1 else 1,
        int(os.environ.get("INBOUND_FETCH_LIMIT", "200")),
    )
