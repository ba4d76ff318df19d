"""The customer's side of the workflow, without JavaScript: reply (with a file), answer the
desk's question, cancel before work starts with a confirmation step."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.models import Attachment, Message, Notification, utcnow
from portal.services import workflow
from portal.services.audit import Actor

from .helpers import panel, text

TZ = "Asia/Shanghai"


def _working(factory, db_session, desk, contact=None):
    now = utcnow()
    sr = factory.request(contact or desk["contact"], now=now - timedelta(hours=1))
    sup, disp = desk["supervisor"], desk["dispatcher"]
    workflow.classify(
        db_session,
        Actor(sup.id),
        sup,
        sr,
        workflow.ClassificationInput("fault", "database", "core", "high", "high", "电话确认"),
        now - timedelta(minutes=50),
    )
    workflow.assign(
        db_session, Actor(disp.id), disp, sr, desk["eng_db"].id, now - timedelta(minutes=40), TZ
    )
    return sr


def test_reply_with_a_file_without_javascript(make_client, factory, desk, db_session):
    sr = _working(factory, db_session, desk)
    client = make_client()
    client.login(desk["contact"])
    page = text(client.get(f"/requests/{sr.number}"))
    form = panel(page, "reply")
    assert 'enctype="multipart/form-data"' in form and "hx-post" not in form
    resp = client.post(
        f"/requests/{sr.number}/reply",
        data={
            "reply-body": "截图见附件,错误码 ORA-12541",
            "reply-attachments": (io.BytesIO(b"listener not running\n"), "error.log"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    page = text(client.get(resp.headers["Location"]))
    assert "Your message has been sent to the service desk." in page
    assert "截图见附件,错误码 ORA-12541" in page and "error.log" in page
    message = db_session.scalar(select(Message).where(Message.request_id == sr.id))
    assert message.internal is False
    attachment = db_session.scalar(select(Attachment).where(Attachment.message_id == message.id))
    assert attachment.content_type == "text/plain" and not attachment.internal
    assert db_session.scalar(
        select(Notification.kind).where(
            Notification.recipient_id == desk["eng_db"].id, Notification.kind == "customer_reply"
        )
    )


def test_empty_reply_shows_the_error_and_keeps_the_page(make_client, factory, desk, db_session):
    sr = _working(factory, db_session, desk)
    client = make_client()
    client.login(desk["contact"])
    resp = client.post(f"/requests/{sr.number}/reply", data={"reply-body": "  "})
    assert resp.status_code == 422
    assert "Write a message." in panel(text(resp), "reply")
    assert sr.title in text(resp)


def test_answer_a_question_without_javascript(make_client, factory, desk, db_session):
    sr = _working(factory, db_session, desk)
    eng = desk["eng_db"]
    now = utcnow()
    workflow.ask_customer(
        db_session, Actor(eng.id), eng, sr, "请提供测试环境管理员账号", now + timedelta(days=1), now
    )
    client = make_client()
    client.login(desk["contact"])
    page = text(client.get(f"/requests/{sr.number}"))
    question = panel(page, "answer")
    assert "请提供测试环境管理员账号" in question and "<textarea" in question
    resp = client.post(f"/requests/{sr.number}/answer", data={"answer-answer": ""})
    assert resp.status_code == 422 and "Write your answer." in panel(text(resp), "answer")
    resp = client.post(
        f"/requests/{sr.number}/answer", data={"answer-answer": "账号 test_admin 已通过邮件发送"}
    )
    assert resp.status_code == 302
    page = text(client.get(resp.headers["Location"]))
    assert "In progress" in page and panel(page, "answer") is None
    assert "账号 test_admin 已通过邮件发送" in panel(page, "progress")
    db_session.refresh(sr)
    assert sr.status == "in_progress" and sr.paused_since is None


def test_only_visible_steps_reach_the_customer(make_client, factory, desk, db_session):
    sr = _working(factory, db_session, desk)
    eng = desk["eng_db"]
    now = utcnow()
    for op, visible in (
        ("远程登录数据库服务器检查连接池配置", True),
        ("内部排查:客户防火墙策略可疑", False),
    ):
        workflow.log_step(
            db_session,
            Actor(eng.id),
            eng,
            sr,
            workflow.StepInput(now - timedelta(minutes=5), op, Decimal("0.5"), visible),
            now,
            TZ,
        )
    client = make_client()
    client.login(desk["contact"])
    page = text(client.get(f"/requests/{sr.number}"))
    assert "远程登录数据库服务器检查连接池配置" in page and "防火墙" not in page


def test_cancel_asks_for_confirmation_then_cancels(make_client, factory, desk, db_session):
    sr = factory.request(desk["contact"])
    client = make_client()
    client.login(desk["contact"])
    page = text(client.get(f"/requests/{sr.number}"))
    assert f"/requests/{sr.number}/cancel" in page
    confirm = client.get(f"/requests/{sr.number}/cancel")
    assert confirm.status_code == 200 and "Yes, cancel the request" in text(confirm)
    db_session.refresh(sr)
    assert sr.status == "submitted"  # looking at the question changes nothing
    resp = client.post(f"/requests/{sr.number}/cancel", data={"cancel-reason": "已自行恢复"})
    assert resp.status_code == 302
    page = text(client.get(resp.headers["Location"]))
    assert "has been cancelled" in page and "Cancelled" in page
    db_session.refresh(sr)
    assert sr.status == "cancelled" and sr.cancelled_at is not None


def test_no_cancel_once_work_started(make_client, factory, desk, db_session):
    sr = _working(factory, db_session, desk)
    client = make_client()
    client.login(desk["contact"])
    assert f"/requests/{sr.number}/cancel" not in text(client.get(f"/requests/{sr.number}"))
    resp = client.post(f"/requests/{sr.number}/cancel", data={})
    assert resp.status_code == 302
    assert "can no longer be cancelled" in text(client.get(resp.headers["Location"]))
    db_session.refresh(sr)
    assert sr.status == "in_progress"


def test_other_organisations_and_silent_colleagues(make_client, factory, desk, db_session):
    sr = _working(factory, db_session, desk)
    stranger = factory.customer(factory.organisation())
    client = make_client()
    client.login(stranger)
    for url in (
        f"/requests/{sr.number}/reply",
        f"/requests/{sr.number}/answer",
        f"/requests/{sr.number}/cancel",
    ):
        assert client.post(url, data={"reply-body": "x", "answer-answer": "x"}).status_code == 404
    # a colleague of the contact (not an org admin) acts on nobody else's request
    colleague = factory.customer(desk["org"])
    viewer = make_client()
    viewer.login(colleague)
    resp = viewer.post(f"/requests/{sr.number}/reply", data={"reply-body": "我也遇到了"})
    assert resp.status_code == 404
    assert db_session.scalar(select(Message.id).where(Message.request_id == sr.id)) is None
    # the organisation admin may
    admin = make_client()
    admin.login(desk["org_admin"])
    resp = admin.post(
        f"/requests/{sr.number}/reply", data={"reply-body": "管理员补充:影响全部门店"}
    )
    assert resp.status_code == 302
    assert db_session.scalar(select(Message.body).where(Message.request_id == sr.id)) == (
        "管理员补充:影响全部门店"
    )
