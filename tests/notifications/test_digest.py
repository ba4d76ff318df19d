"""The daily digest: whoever chose it for a category gets no instant mail for it, and one mail
a day listing the unread notifications by request; running the job again, or two workers at
once, sends no second one (docs/product.md §9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal import jobs_digest, jobs_sla
from portal.models import DigestWatermark, EmailOutbox, utcnow
from portal.services import digest, preferences
from portal.services.notifications import notify
from tests.mail_server import body_text
from tests.notifications.conftest import BASE_URL


def _mails_to(session, address: str) -> list[EmailOutbox]:
    return list(
        session.scalars(
            select(EmailOutbox).where(EmailOutbox.to_address == address).order_by(EmailOutbox.id)
        )
    )


def _digest_reader(db_session, factory):
    """An engineer with the conversation in the digest, told of two requests."""
    engineer = factory.staff("engineer")
    preferences.save(db_session, engineer.id, {"conversation": "digest"}, utcnow())
    customer = factory.customer()
    first = factory.request(customer, title="数据库连接超时")
    second = factory.request(customer, title="报表导出失败")
    for sr, key in ((first, "a"), (first, "b"), (second, "c")):
        notify(db_session, engineer.id, "customer_reply", sr.id, {"number": sr.number}, key)
    db_session.commit()
    return engineer, first, second


def test_digest_instead_of_instant_mail_then_one_digest_however_often_it_runs(
    db_session, factory, smtp, mail_config
):
    engineer, first, second = _digest_reader(db_session, factory)
    assert _mails_to(db_session, engineer.email) == []  # nothing at once

    day = digest.desk_day(utcnow(), mail_config["PORTAL_TIMEZONE"])
    assert jobs_digest.run_digest(day.isoformat())["sent"] == 1
    assert jobs_digest.run_digest(day.isoformat())["sent"] == 0  # a retry, a second worker
    (mail,) = _mails_to(db_session, engineer.email)
    assert mail.dedupe_key == f"digest:{engineer.id}:{day.isoformat()}"
    assert jobs_sla.send_mail(mail.id) == "sent"

    message = smtp.wait_for(lambda m: m["To"] == engineer.email, timeout=10)
    assert first.number in message["Subject"] and second.number in message["Subject"]
    text = body_text(message)
    assert "3 unread notifications" in text
    # grouped by request: each request's title once, then its notifications with links
    assert text.count("数据库连接超时") == 1 and text.count("报表导出失败") == 1
    assert text.index("数据库连接超时") < text.index("报表导出失败")
    link = f"{BASE_URL}/staff/requests/{first.number}#panel-reply"
    assert text.count(link) == 2
    assert "<style" not in message.get_body(preferencelist=("html",)).get_content()

    # the next day tells only what came since
    notify(db_session, engineer.id, "customer_reply", second.id, {"number": second.number}, "d")
    db_session.commit()
    next_day = day + timedelta(days=1)
    assert jobs_digest.run_digest(next_day.isoformat())["sent"] == 1
    latest = _mails_to(db_session, engineer.email)[-1]
    assert "1 unread notification" in latest.body_text and first.number not in latest.subject


def test_two_workers_at_once_send_one_digest(db_session, factory, monkeypatch):
    """Worker B read the unread notifications before worker A committed its digest: B's
    insert of the day's watermark conflicts and B queues nothing."""
    engineer, _first, _second = _digest_reader(db_session, factory)
    day = digest.desk_day(utcnow(), "Asia/Shanghai")
    seen_by_b = digest.pending(db_session, engineer.id)
    assert digest.send_digest(db_session, engineer.id, day) is not None  # worker A
    db_session.commit()
    monkeypatch.setattr(digest, "pending", lambda session, account_id: seen_by_b)
    assert digest.send_digest(db_session, engineer.id, day) is None  # worker B
    db_session.commit()
    assert len(_mails_to(db_session, engineer.email)) == 1
    rows = db_session.scalars(
        select(DigestWatermark).where(DigestWatermark.account_id == engineer.id)
    ).all()
    assert len(rows) == 1


def test_read_notifications_and_instant_categories_are_left_out(db_session, factory):
    engineer = factory.staff("engineer")
    preferences.save(db_session, engineer.id, {"sla": "digest"}, utcnow())
    sr = factory.request(factory.customer())
    notify(db_session, engineer.id, "customer_reply", sr.id, {"number": sr.number}, "instant")
    assert len(_mails_to(db_session, engineer.email)) == 1  # conversation: at once
    assert digest.send_digest(db_session, engineer.id, utcnow().date()) is None  # none pending


def test_the_sweep_enqueues_the_days_digest_once_from_its_hour(redis_url):
    conn = Redis.from_url(redis_url)
    conn.delete("portal:digest-enqueued:2026-12-03")
    q = Queue("digest-test", connection=conn)
    q.empty()
    early = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # 07:30 on the 4th in Shanghai
    assert jobs_digest.ensure_digest(conn, q, early, "Asia/Shanghai", 8) is None
    at_eight = datetime(2026, 12, 3, 0, 5, tzinfo=UTC)  # 08:05 on the 3rd in Shanghai
    nobody = jobs_digest.ensure_digest(conn, q, at_eight, "Asia/Shanghai", 8, lambda: False)
    assert nobody is None
    day = jobs_digest.ensure_digest(conn, q, at_eight, "Asia/Shanghai", 8)
    assert day is not None and day.isoformat() == "2026-12-03"
    assert jobs_digest.ensure_digest(conn, q, at_eight, "Asia/Shanghai", 8) is None
    assert q.job_ids == ["digest-2026-12-03"]
    q.empty()
    conn.delete("portal:digest-enqueued:2026-12-03")
