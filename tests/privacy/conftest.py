"""A request full of personal data, the people on it and the people outside it; and a closed
request of the same contact, signed by their full name (the handling record's customer
confirmation, the acceptance form's signature) and rated, with an improvement measure."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest

from portal.domain.vocabulary import FormPrefix
from portal.models import (
    HandlingRecord,
    HandlingStep,
    Message,
    Notification,
    ServiceRequest,
    utcnow,
)
from portal.services import attachments, lifecycle
from portal.services import delivery as delivery_service
from portal.services import feedback as feedback_service
from portal.services.audit import Actor
from portal.services.numbers import next_number

PHONE = "13812345678"
EMAIL = "wang.xiaoming@contact-example.com"
# a full name no page, label or example holds by accident (masked it is 欧*)
NAME = "欧阳岚"
RESIDENT_ID = "11010519491231002X"
CARD = "6222021234567890128"
LOG_TEXT = (
    "2026-11-20 10:00:01 INFO login ok user=wang\n"
    f"2026-11-20 10:00:02 ERROR id_card={RESIDENT_ID} phone={PHONE} card={CARD}\n"
    "2026-11-20 10:00:03 WARN retry\n"
)
# what must never reach someone outside the request
SECRETS = (NAME, PHONE, EMAIL, RESIDENT_ID, CARD)


@dataclass
class Scene:
    org: object
    contact: object
    handler: object
    outsider: object  # staff with every role, not on the request
    supervisor: object  # a supervisor only, not on the request
    other_customer: object  # an org admin of another organisation
    sr: ServiceRequest
    log_file: object
    picture: object
    notification: Notification
    closed: ServiceRequest | None = None  # delivered, accepted and signed by NAME, rated


def _closed_request(factory, db_session, app, contact, handler, boss, now) -> ServiceRequest:
    """Through the services: assigned, worked, delivered, accepted (the contact signs with
    their full name, which becomes the handling record's customer confirmation), countersigned,
    rated by phone with an improvement measure: closed."""
    tz = app.config["PORTAL_TIMEZONE"]
    sr = factory.request(contact, now=now, description="报表导出超时,请排查。")
    caps = lifecycle.capacities(db_session, sr, boss)
    lifecycle.apply(db_session, Actor(boss.id), caps, sr, "classify", now, {"priority": "P2"})
    sr.priority = "P2"
    sr.handler_id = handler.id
    lifecycle.apply(db_session, Actor(boss.id), caps, sr, "assign", now, {"handler_id": handler.id})
    record = HandlingRecord(
        number=next_number(db_session, FormPrefix.HANDLING_RECORD, now, tz),
        request_id=sr.id,
        handler_id=handler.id,
        final_result="为报表查询补建索引,导出耗时由 90 秒降到 4 秒",
    )
    db_session.add(record)
    db_session.flush()
    db_session.add(
        HandlingStep(
            record_id=record.id,
            author_id=handler.id,
            occurred_at=now + timedelta(minutes=10),
            operation="为 orders.created_at 补建索引,导出耗时由 90 秒降到 4 秒",
            visible_to_customer=True,
        )
    )
    dlv = delivery_service.deliver(
        db_session,
        Actor(handler.id),
        handler,
        sr,
        now + timedelta(minutes=20),
        tz,
        service_item="报表导出性能优化",
        items=["索引变更记录", "导出耗时对比截图"],
        criteria=["月度报表 10 秒内导出"],
        folder=app.config["UPLOAD_FOLDER"],
        max_bytes=app.config["UPLOAD_MAX_BYTES"],
    )
    criteria = delivery_service.load(db_session, sr.id)[-1].criteria
    delivery_service.accept(
        db_session,
        Actor(contact.id),
        contact,
        sr,
        now + timedelta(minutes=30),
        result="pass",
        met_ids={c.id for c in criteria},
        typed_name=NAME,
        shown_hash=dlv.content_hash,
    )
    delivery_service.countersign(
        db_session,
        Actor(handler.id),
        handler,
        sr,
        now + timedelta(minutes=35),
        typed_name=handler.name,
    )
    agent = factory.staff("agent")
    feedback_service.give(
        db_session,
        Actor(agent.id),
        agent,
        sr,
        now + timedelta(minutes=40),
        tz,
        scores={"response": 5, "effect": 4, "attitude": 5},
        suggestions="希望提前通知变更窗口",
        channel="phone",
        measure={
            "measure": "变更前一天邮件通知客户",
            "owner_id": handler.id,
            "deadline": (now + timedelta(days=30)).date(),
        },
    )
    assert sr.status == "closed"
    assert record.customer_confirmed_name == NAME and record.customer_confirmed_at is not None
    return sr


def build_scene(factory, db_session, app) -> Scene:
    now = utcnow() - timedelta(hours=2)
    org = factory.organisation()
    contact = factory.customer(org, name=NAME, phone=PHONE, email=EMAIL)
    handler = factory.staff("engineer")
    outsider = factory.staff("agent", "supervisor", "dispatcher", "engineer", "admin")
    supervisor = factory.staff("supervisor")
    other_customer = factory.customer(factory.organisation(), admin=True)
    sr = factory.request(
        contact,
        now=now,
        description=f"我的身份证号 {RESIDENT_ID},手机 {PHONE},银行卡 {CARD},登录失败。",
    )
    boss = factory.staff("supervisor", "dispatcher")
    actor = Actor(boss.id)
    caps = lifecycle.capacities(db_session, sr, boss)
    lifecycle.apply(db_session, actor, caps, sr, "classify", now, {"priority": "P2"})
    sr.priority = "P2"
    sr.handler_id = handler.id
    lifecycle.apply(db_session, actor, caps, sr, "assign", now, {"handler_id": handler.id})
    db_session.add(
        Message(
            request_id=sr.id,
            author_id=contact.id,
            body=f"补充:证件 {RESIDENT_ID},请打 {PHONE}",
            created_at=now + timedelta(minutes=5),
        )
    )
    record = HandlingRecord(
        number=next_number(db_session, FormPrefix.HANDLING_RECORD, now, "Asia/Shanghai"),
        request_id=sr.id,
        handler_id=handler.id,
        problems=f"用户 {RESIDENT_ID} 的会话过期",
    )
    db_session.add(record)
    db_session.flush()
    db_session.add(
        HandlingStep(
            record_id=record.id,
            author_id=handler.id,
            occurred_at=now + timedelta(minutes=10),
            operation=f"核对证件 {RESIDENT_ID} 后重置会话,恢复登录",
        )
    )
    folder = app.config["UPLOAD_FOLDER"]
    limit = app.config["UPLOAD_MAX_BYTES"]
    log_file = attachments.save(
        db_session,
        Actor(contact.id),
        now,
        attachments.Upload("server.log", io.BytesIO(LOG_TEXT.encode())),
        request_id=sr.id,
        folder=folder,
        max_bytes=limit,
    )
    picture = attachments.save(
        db_session,
        Actor(contact.id),
        now,
        attachments.Upload("shot.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 32)),
        request_id=sr.id,
        folder=folder,
        max_bytes=limit,
    )
    note = Notification(
        recipient_id=outsider.id,
        kind="request_submitted",
        request_id=sr.id,
        params={"number": sr.number},
    )
    db_session.add(note)
    db_session.flush()
    assert log_file.content_type == "text/plain"
    closed = _closed_request(factory, db_session, app, contact, handler, boss, now)
    return Scene(
        org,
        contact,
        handler,
        outsider,
        supervisor,
        other_customer,
        sr,
        log_file,
        picture,
        note,
        closed,
    )


@pytest.fixture
def scene(factory, db_session, app) -> Scene:
    return build_scene(factory, db_session, app)
