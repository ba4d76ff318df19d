"""Group bot messages through the outbox to a local webhook receiver (docs/product.md "Group
bots"): each platform's documented payload with a valid signature (recomputed here), failures
retried with the outbox's backoff and then marked failed, the SLA and new-P1 triggers once per
event, and no contact data in any payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal import jobs_sla
from portal.models import EmailOutbox, utcnow
from portal.services import escalation, outbox
from portal.services.timers import Deadline
from tests.bots.conftest import BASE_URL


def _bot_rows(session, bot=None) -> list[EmailOutbox]:
    stmt = select(EmailOutbox).where(EmailOutbox.channel == "bot").order_by(EmailOutbox.id)
    if bot is not None:
        stmt = stmt.where(EmailOutbox.bot_id == bot.id)
    return list(session.scalars(stmt))


def _p1(factory, **kw):
    customer = kw.pop("customer", None) or factory.customer()
    return factory.request(customer, urgency="P1", **kw)


def _breach(db_session, sr, kind="resolution_breach"):
    now = utcnow()
    due = now - timedelta(minutes=1)
    sr.priority = "P1"
    db_session.flush()
    return Deadline(sr.id, kind, due, due), now


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_each_platform_receives_its_documented_payload_signed(
    db_session, factory, receiver, make_bot, platform
):
    secret = None if platform == "wecom" else f"SEC-{platform}-0123456789abcdef"
    bot = make_bot(platform, secret=secret)
    sr = _p1(factory, title="订单系统宕机")
    (row,) = _bot_rows(db_session, bot)
    db_session.commit()

    assert jobs_sla.send_mail(row.id) == "sent"
    assert jobs_sla.send_mail(row.id) == "skipped"  # a duplicate job sends nothing
    (got,) = receiver.requests
    assert got.path == f"/{platform}/hook"
    assert got.query["key"] == [f"k-{platform}"]  # the webhook's own key is kept
    assert got.headers["Content-Type"].startswith("application/json")
    body = got.json
    link = f"{BASE_URL}/staff/requests/{sr.number}"
    if platform == "wecom":
        assert body["msgtype"] == "markdown"
        text = body["markdown"]["content"]
        assert set(got.query) == {"key"}
    elif platform == "dingtalk":
        assert body["msgtype"] == "markdown"
        assert body["markdown"]["title"] == f"New P1 request {sr.number}"
        text = body["markdown"]["text"]
        (ts,) = got.query["timestamp"]
        assert abs(int(ts) / 1000 - utcnow().timestamp()) < 60  # milliseconds, now
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        assert got.query["sign"] == [expected]
    else:
        assert body["msg_type"] == "text"
        text = body["content"]["text"]
        ts = body["timestamp"]
        assert abs(int(ts) - utcnow().timestamp()) < 60  # seconds, now
        expected = base64.b64encode(
            hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
        ).decode()
        assert body["sign"] == expected
    assert sr.number in text and "订单系统宕机" in text and "P1" in text and link in text
    db_session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_an_errcode_is_retried_with_backoff_then_marked_failed(
    db_session, factory, receiver, make_bot, redis_url
):
    bot = make_bot("dingtalk", secret="SEC-x")
    _p1(factory)
    (row,) = _bot_rows(db_session, bot)
    db_session.commit()
    refused = (200, '{"errcode":310000,"errmsg":"sign not match"}')
    receiver.answer(refused, refused, refused)

    # the first attempt by the job: a retry, scheduled in RQ like a mail's
    assert jobs_sla.send_mail(row.id) == "retry"
    scheduled = Queue("default", connection=Redis.from_url(redis_url)).scheduled_job_registry
    assert any(j.startswith(f"mail-{row.id}-r") for j in scheduled.get_job_ids())
    db_session.refresh(row)
    assert row.status == "pending" and row.attempts == 1
    assert "code 310000: sign not match" in row.last_error
    first_wait = row.next_attempt_at

    settings = outbox.MailSettings.from_config(factory.app.config)
    # not before its time: an early attempt sends nothing
    assert outbox.send(db_session, row.id, first_wait - timedelta(seconds=1), settings)[0] == (
        "skipped"
    )
    outcome, retry_at = outbox.send(db_session, row.id, first_wait, settings)
    assert outcome == "retry" and retry_at - first_wait == timedelta(seconds=60)  # doubled
    db_session.expire_all()  # a worker reads the row afresh
    outcome, retry_at = outbox.send(db_session, row.id, retry_at, settings)
    assert (outcome, retry_at) == ("failed", None)  # MAIL_MAX_ATTEMPTS = 3
    db_session.refresh(row)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "sign not match" in row.last_error
    assert len(receiver.requests) == 3
    # failed is final
    assert outbox.send(db_session, row.id, utcnow() + timedelta(days=1), settings)[0] == "skipped"


def test_a_server_error_is_retried_and_then_delivered(db_session, factory, receiver, make_bot):
    bot = make_bot("feishu")
    _p1(factory)
    (row,) = _bot_rows(db_session, bot)
    db_session.commit()
    receiver.answer((500, "upstream down"))
    settings = outbox.MailSettings.from_config(factory.app.config)
    now = utcnow()
    outcome, retry_at = outbox.send(db_session, row.id, now, settings)
    assert outcome == "retry" and retry_at == now + timedelta(seconds=30)
    db_session.refresh(row)
    assert row.last_error.endswith("HTTP 500: upstream down")
    db_session.expire_all()  # a worker reads the row afresh
    assert outbox.send(db_session, row.id, retry_at, settings) == ("sent", None)
    assert len(receiver.requests) == 2


def test_a_feishu_code_is_a_failure(db_session, factory, receiver, make_bot):
    bot = make_bot("feishu", secret="s")
    _p1(factory)
    (row,) = _bot_rows(db_session, bot)
    db_session.commit()
    receiver.answer(
        (
            200,
            '{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}',
        )
    )
    assert jobs_sla.send_mail(row.id) == "retry"
    db_session.refresh(row)
    assert "code 19021" in row.last_error


def test_an_unreachable_webhook_is_retried(db_session, factory, make_bot, receiver):
    bot = make_bot("wecom")
    receiver.stop()  # nobody listens there any more
    _p1(factory)
    (row,) = _bot_rows(db_session, bot)
    db_session.commit()
    assert jobs_sla.send_mail(row.id) == "retry"
    db_session.refresh(row)
    assert row.last_error == "BotDeliveryError: ConnectError"
    receiver.__init__()  # a fresh one for the fixture's stop
    receiver.start()


def test_an_escalation_reaches_a_subscribed_bot_once_and_not_an_unsubscribed_one(
    db_session, factory, receiver, make_bot
):
    told = make_bot("wecom", events=["sla_escalation"], name="escalations")
    warned_only = make_bot("dingtalk", events=["sla_warning"], name="warnings")
    p1_only = make_bot("feishu", events=["new_p1"], name="p1s")
    sr = factory.request(factory.customer(), urgency="P2")
    deadline, now = _breach(db_session, sr)

    assert escalation.fire(db_session, sr, deadline, now) is True
    assert escalation.fire(db_session, sr, deadline, now) is False  # once per event
    rows = _bot_rows(db_session)
    assert [r.bot_id for r in rows] == [told.id]
    (row,) = rows
    # the firing job sends it with the mails, after its commit
    assert row.id in db_session.info["portal_sla_mails"]
    assert row.subject == f"SLA escalation {sr.number}: the resolution target was missed"
    db_session.commit()
    assert jobs_sla.send_mail(row.id) == "sent"
    (got,) = receiver.requests
    content = got.json["markdown"]["content"]
    assert sr.number in content and "Escalation level: 1" in content
    assert f"{BASE_URL}/staff/requests/{sr.number}#panel-escalation" in content
    assert not _bot_rows(db_session, warned_only) and not _bot_rows(db_session, p1_only)


def test_a_warning_goes_to_the_bots_that_want_warnings(db_session, factory, make_bot):
    warned = make_bot("dingtalk", events=["sla_warning"], language="zh_CN")
    make_bot("wecom", events=["sla_escalation"])
    sr = factory.request(factory.customer(), urgency="P2")
    now = utcnow()
    due = now + timedelta(hours=1)
    sr.priority = "P2"
    db_session.flush()
    assert escalation.fire(db_session, sr, Deadline(sr.id, "response_warn", due, now), now)
    (row,) = _bot_rows(db_session)
    assert row.bot_id == warned.id
    assert row.subject == f"SLA 预警 {sr.number}:响应时限即将到期"  # in the bot's language
    assert "优先级:P2 重要" in row.body_text or "优先级" in row.body_text


def test_a_new_p1_reaches_the_bot_and_a_p3_does_not(db_session, factory, make_bot):
    bot = make_bot("wecom", events=["new_p1"], language="zh_CN")
    unsubscribed = make_bot("feishu", events=["sla_warning", "sla_escalation"])
    customer = factory.customer()
    p1 = factory.request(customer, urgency="P1")
    factory.request(customer, urgency="P3")
    factory.request(customer, urgency="P2")
    rows = _bot_rows(db_session)
    assert [(r.bot_id, r.meta["number"]) for r in rows] == [(bot.id, p1.number)]
    assert rows[0].subject == f"新的 P1 服务请求 {p1.number}"
    assert rows[0].dedupe_key == f"bot:{bot.id}:new_p1:{p1.id}"
    assert not _bot_rows(db_session, unsubscribed)


def test_an_inactive_bot_gets_nothing(db_session, factory, make_bot):
    from portal.services import group_bots
    from portal.services.audit import SYSTEM

    bot = make_bot("wecom", events=["new_p1"])
    group_bots.set_active(db_session, SYSTEM, utcnow(), bot, False)
    _p1(factory)
    assert _bot_rows(db_session) == []


def test_no_contact_data_in_any_payload(db_session, factory, receiver, make_bot):
    for platform in ("wecom", "dingtalk", "feishu"):
        make_bot(platform, secret="SEC-1" if platform != "wecom" else None)
    customer = factory.customer(
        name="王小明", phone="13912345678", email="wang.xiaoming@customer.example.com"
    )
    sr = factory.request(
        customer,
        urgency="P1",
        title="王小明请回电 13912345678 或 wang.xiaoming@customer.example.com",
        contact_name="王小明",
    )
    deadline, now = _breach(db_session, sr)
    escalation.fire(db_session, sr, deadline, now)
    rows = _bot_rows(db_session)
    assert len(rows) == 6  # three bots, a P1 and its escalation
    db_session.commit()
    for row in rows:
        assert jobs_sla.send_mail(row.id) == "sent"
    assert len(receiver.requests) == 6
    for got in receiver.requests:
        text = got.raw.decode("utf-8")
        for secret in ("王小明", "13912345678", "wang.xiaoming", "小明"):
            assert secret not in text
        assert "wang.xiaoming@customer.example.com" not in text
        assert sr.number in text


def test_a_message_to_a_bot_deactivated_since_fails_at_once(
    db_session, factory, make_bot, receiver
):
    from portal.services import group_bots
    from portal.services.audit import SYSTEM

    bot = make_bot("wecom", events=["new_p1"])
    _p1(factory)
    (row,) = _bot_rows(db_session, bot)
    group_bots.set_active(db_session, SYSTEM, utcnow(), bot, False)
    db_session.commit()
    assert jobs_sla.send_mail(row.id) == "failed"
    db_session.refresh(row)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "deactivated" in row.last_error
    assert receiver.requests == []


def test_a_failure_logs_neither_the_secret_nor_the_webhook_key(
    db_session, factory, make_bot, receiver, caplog
):
    bot = make_bot("dingtalk", secret="SEC-very-secret", path="/robot/send?access_token=tok-123")
    _p1(factory)
    (row,) = _bot_rows(db_session, bot)
    db_session.commit()
    receiver.answer((400, '{"errcode":300001,"errmsg":"token is not exist"}'))
    with caplog.at_level("DEBUG"):
        assert jobs_sla.send_mail(row.id) == "retry"
    logged = caplog.text
    assert "token is not exist" in logged and f"group bot {bot.id}" in logged
    assert "SEC-very-secret" not in logged and "tok-123" not in logged
    db_session.refresh(row)
    assert "SEC-very-secret" not in row.last_error and "tok-123" not in row.last_error
