"""Inbound mails per second through ``receive`` + ``process`` (docs/product.md §9), one commit per
mail as ``portal mail receive`` does: a mix of replies to open requests (threaded by
In-Reply-To or by the number in the subject), new requests from known contacts (each with its
auto-reply in the outbox) and machine mail (auto-replies, bounces) that is ignored.

Uses the database of DATABASE_URL (migrated here; it adds one organisation, its contacts and
their requests) and REDIS_URL for the jobs after commit; without them, a temporary SQLite file
and the embedded Redis stand-in.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_inbound \
    REDIS_URL=redis://127.0.0.1:6379/12 python bench/inbound_processing.py 1000
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from email.message import EmailMessage

from portal import create_app
from portal.db import db
from portal.domain import mail_ids
from portal.domain.vocabulary import Priority, RequestType
from portal.migrate import upgrade
from portal.models import Organisation, utcnow
from portal.runtime import RedisStandIn, use_redis
from portal.services import inbound
from portal.services import requests as sr_service
from portal.services.accounts import create_account
from portal.services.audit import Actor

CONTACTS = 20
OPEN_REQUESTS = 50


def raw_mail(sender: str, subject: str, body: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "servicedesk@localhost"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<bench.{secrets.token_hex(8)}@customer.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def seed(app, run: str):
    session = db.session
    org = Organisation(name=f"Inbound bench {run}", code=f"IB{run}")
    session.add(org)
    session.flush()
    contacts = [
        create_account(
            session,
            kind="customer",
            email=f"bench{run}.{i}@customer.example",
            name=f"李客户{i}",
            password=secrets.token_hex(8),
            organisation_id=org.id,
            locale="zh_CN",
        )
        for i in range(CONTACTS)
    ]
    now = utcnow()
    requests = [
        sr_service.submit(
            session,
            Actor(contacts[i % CONTACTS].id),
            contacts[i % CONTACTS],
            sr_service.Intake(
                type=RequestType.FAULT,
                proposed_urgency=Priority.P2,
                title=f"打印机故障 {i}",
                description="三楼打印机无法打印。",
            ),
            now,
            app.config["PORTAL_TIMEZONE"],
        )
        for i in range(OPEN_REQUESTS)
    ]
    session.commit()
    return (
        [(c.email) for c in contacts],
        [(r.number, r.contact_id) for r in requests],
        {c.id: c.email for c in contacts},
    )


def mails(n: int, emails, requests, email_of, domain: str) -> list[bytes]:
    quote = "\n\nOn Mon, 30 Nov 2026 at 10:00, Service Desk wrote:\n> registered\n> regards\n"
    out = []
    for i in range(n):
        kind = i % 10
        if kind < 4:  # a reply, by In-Reply-To or by the subject's number
            number, contact_id = requests[i % len(requests)]
            headers = (
                {"In_Reply_To": mail_ids.message_id(i + 1, number, domain)} if kind % 2 else {}
            )
            out.append(
                raw_mail(
                    email_of[contact_id], f"Re: [{number}] 打印机", f"补充 {i}{quote}", **headers
                )
            )
        elif kind < 8:  # a new request
            out.append(raw_mail(emails[i % len(emails)], f"新问题 {i}", "VPN 无法连接,错误 809。"))
        elif kind == 8:  # an out-of-office reply
            out.append(
                raw_mail(
                    emails[i % len(emails)], "自动回复", "休假中", Auto_Submitted="auto-replied"
                )
            )
        else:  # a bounce
            out.append(raw_mail("MAILER-DAEMON@mx.customer.example", "Undelivered", "failed"))
    return out


def main(n: int) -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url)
    os.environ["DATABASE_URL"] = url
    app = create_app()
    if not app.config.get("REDIS_URL"):
        use_redis(app, RedisStandIn().start().url)  # jobs are queued, no worker runs them
    run = secrets.token_hex(3)
    with app.app_context():
        emails, requests, email_of = seed(app, run)
        batch = mails(
            n, emails, requests, email_of, mail_ids.sender_domain(app.config["MAIL_FROM"])
        )
        statuses: Counter[str] = Counter()
        latencies = []
        started = time.perf_counter()
        for raw in batch:
            t0 = time.perf_counter()
            now = utcnow()
            row, _new = inbound.receive(db.session, raw, f"bench-{run}", now)
            statuses[inbound.process(db.session, row, now)] += 1
            db.session.commit()
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    latencies.sort()
    print(
        f"{n} mails in {elapsed:.1f}s: {n / elapsed:.0f} mails/s, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(n * 0.99) - 1] * 1000:.1f} ms; {dict(sorted(statuses.items()))}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
