"""A request full of personal data, the people on it and the people outside it."""

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
from portal.services.audit import Actor
from portal.services.numbers import next_number

PHONE = "13812345678"
EMAIL = "wang.xiaoming@contact-example.com"
NAME = "王小明"
RESIDENT_ID = "11010519491231002X"
CARD = "6222021234567890128"
LOG_TEXT = (
    "2026-11-20 10:00:01 INFO login ok user=wang\n"
    f"2026-11-20 10:00:02 ERROR id_card={RESIDENT_ID} phone={PHONE} card={CARD}\n"
    "2026-11-20 10:00:03 WARN retry\n"
)
# what must never reach someone outside the request
SECRETS = (PHONE, EMAIL, RESIDENT_ID, CARD)


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
    return Scene(
        org, contact, handler, outsider, supervisor, other_customer, sr, log_file, picture, note
    )


@pytest.fixture
def scene(factory, db_session, app) -> Scene:
    return build_scene(factory, db_session, app)
