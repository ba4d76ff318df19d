"""Files on handling steps (staff step panel; shown with the step to staff, and to the customer
for the steps they may see), disguised files refused on the customer's reply and on the step
panel, and the assignment notice by e-mail through the outbox."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.models import Attachment, EmailOutbox, HandlingStep, Message, utcnow
from portal.services import workflow
from portal.services.audit import Actor

from .helpers import HTMX, panel, text

TZ = "Asia/Shanghai"
HTML_PAGE = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _classified(factory, db_session, desk, **request):
    now = utcnow()
    sr = factory.request(desk["contact"], now=now - timedelta(hours=1), **request)
    sup = desk["supervisor"]
    workflow.classify(
        db_session,
        Actor(sup.id),
        sup,
        sr,
        workflow.ClassificationInput("fault", "database", "core", "high", "high", "电话确认"),
        now - timedelta(minutes=50),
    )
    return sr


def _working(factory, db_session, desk):
    sr = _classified(factory, db_session, desk)
    disp = desk["dispatcher"]
    workflow.assign(
        db_session,
        Actor(disp.id),
        disp,
        sr,
        desk["eng_db"].id,
        utcnow() - timedelta(minutes=40),
        TZ,
    )
    return sr


def _local_now() -> str:
    return (utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # Asia/Shanghai


def _step(operation: str, files, visible: bool = True) -> dict:
    data = {
        "step-occurred_at": _local_now(),
        "step-operation": operation,
        "step-hours": "0.5",
        "step-attachments": files,
    }
    if visible:
        data["step-visible_to_customer"] = "y"
    return data


# ---------------------------------------------------------------------------------------------
# Disguised files on the customer's reply


def test_disguised_file_on_the_customer_reply_is_refused_and_the_text_kept(
    make_client, factory, desk, db_session
):
    sr = _working(factory, db_session, desk)
    client = make_client()
    client.login(desk["contact"])
    resp = client.post(
        f"/requests/{sr.number}/reply",
        data={
            "reply-body": "导出的报告在附件里",
            "reply-attachments": (io.BytesIO(HTML_PAGE), "report.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    reply = html.unescape(panel(text(resp), "reply"))
    assert "report.pdf was refused: its content is not a PDF file as its name says." in reply
    assert "导出的报告在附件里</textarea>" in reply
    assert db_session.scalar(select(Message.id).where(Message.request_id == sr.id)) is None
    assert db_session.scalar(select(Attachment.id).where(Attachment.request_id == sr.id)) is None


# ---------------------------------------------------------------------------------------------
# Files on handling steps


def test_step_files_show_with_the_step_and_only_visible_steps_reach_the_customer(
    make_client, factory, desk, db_session
):
    sr = _working(factory, db_session, desk)
    engineer = make_client()
    engineer.login(desk["eng_db"])
    page = text(engineer.get(f"/staff/requests/{sr.number}"))
    form = panel(page, "step")
    assert 'enctype="multipart/form-data"' in form and 'name="step-attachments"' in form

    resp = engineer.post(
        f"/staff/requests/{sr.number}/steps",
        data=_step(
            "重启数据库监听服务,用户可以正常登录",
            [
                (io.BytesIO(b"listener started\n"), "listener.log"),
                (io.BytesIO(PNG), "登录成功.png"),
            ],
        ),
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert resp.status_code == 200
    resp = engineer.post(
        f"/staff/requests/{sr.number}/steps",
        data=_step(
            "检查服务器内核参数,记录内部排查数据",
            (io.BytesIO(b"kernel.shmmax = 68719476736\n"), "sysctl-internal.txt"),
            visible=False,
        ),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302  # without JavaScript: back to the page

    steps = {
        s.operation[:4]: s
        for s in db_session.scalars(select(HandlingStep).order_by(HandlingStep.id))
    }
    files = {
        f.original_name: f
        for f in db_session.scalars(select(Attachment).where(Attachment.request_id == sr.id))
    }
    assert {n: f.step_id for n, f in files.items()} == {
        "listener.log": steps["重启数据"].id,
        "登录成功.png": steps["重启数据"].id,
        "sysctl-internal.txt": steps["检查服务"].id,
    }
    assert files["登录成功.png"].content_type == "image/png"

    # staff: each file in the step's row of the handling record
    page = text(engineer.get(f"/staff/requests/{sr.number}"))
    rows = re.findall(r"<tr>.*?</tr>", page.split('id="h-handling"', 1)[1], re.S)
    visible_row = next(r for r in rows if "重启数据库监听服务" in r)
    hidden_row = next(r for r in rows if "检查服务器内核参数" in r)
    for name in ("listener.log", "登录成功.png"):
        assert f"/staff/requests/{sr.number}/files/{files[name].id}" in visible_row
        assert name in visible_row
    assert f"/files/{files['sysctl-internal.txt'].id}" in hidden_row
    resp = engineer.get(f"/staff/requests/{sr.number}/files/{files['sysctl-internal.txt'].id}")
    assert resp.status_code == 200

    # the customer: the visible step's files in "Work on your request", never the hidden one
    customer = make_client()
    customer.login(desk["contact"])
    page = text(customer.get(f"/requests/{sr.number}"))
    progress = panel(page, "progress")
    assert "重启数据库监听服务" in progress
    for name in ("listener.log", "登录成功.png"):
        assert f'/requests/{sr.number}/files/{files[name].id}"' in progress
    assert "检查服务器内核参数" not in page and "sysctl-internal.txt" not in page
    resp = customer.get(f"/requests/{sr.number}/files/{files['listener.log'].id}")
    assert resp.status_code == 200 and resp.get_data() == b"listener started\n"
    resp = customer.get(f"/requests/{sr.number}/files/{files['sysctl-internal.txt'].id}")
    assert resp.status_code == 404


def test_step_panel_refuses_disguised_and_oversized_files_inline(
    make_client, factory, desk, db_session, app, monkeypatch
):
    sr = _working(factory, db_session, desk)
    engineer = make_client()
    engineer.login(desk["eng_db"])
    operation = "导出慢查询日志并分析执行计划"
    resp = engineer.post(
        f"/staff/requests/{sr.number}/steps",
        data=_step(operation, (io.BytesIO(b"<html>not a picture</html>"), "plan.png")),
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert resp.status_code == 422
    body = html.unescape(text(resp))
    assert 'id="panel-step"' in body
    assert "plan.png was refused: its content is not a PNG file as its name says." in body
    assert f"{operation}</textarea>" in body

    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024)
    resp = engineer.post(
        f"/staff/requests/{sr.number}/steps",
        data=_step(operation, (io.BytesIO(b"x" * 2000), "slow.log")),
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert resp.status_code == 422
    assert "slow.log is larger than the limit of 1 KB per file." in html.unescape(text(resp))
    assert db_session.scalar(select(func.count(HandlingStep.id))) == 0
    assert db_session.scalar(select(Attachment.id).where(Attachment.request_id == sr.id)) is None


def test_step_files_cost_no_queries_per_step(
    make_client, factory, desk, db_session, app, count_queries
):
    from tests.customer.helpers import attach

    eng = desk["eng_db"]
    counted = {"staff": [], "customer": []}
    for n in (2, 12):
        sr = _working(factory, db_session, desk)
        for i in range(n):
            step = workflow.log_step(
                db_session,
                Actor(eng.id),
                eng,
                sr,
                workflow.StepInput(utcnow(), f"第{i}步:检查数据库连接池配置", 0.25),
                utcnow(),
                TZ,
            )
            attach(app, db_session, sr, eng, b"log", name=f"step{i}.log", step_id=step.id)
        for side, who, url in (
            ("staff", eng, f"/staff/requests/{sr.number}"),
            ("customer", desk["contact"], f"/requests/{sr.number}"),
        ):
            client = make_client()
            client.login(who)
            with count_queries() as statements:
                page = text(client.get(url))
            assert f"step{n - 1}.log" in page and "step0.log" in page
            counted[side].append(len(statements))
    assert counted["staff"][0] == counted["staff"][1]
    assert counted["customer"][0] == counted["customer"][1]


# ---------------------------------------------------------------------------------------------
# The assignment notice by e-mail


def _mails_to(db_session, address: str) -> list[EmailOutbox]:
    return list(
        db_session.scalars(
            select(EmailOutbox).where(EmailOutbox.to_address == address).order_by(EmailOutbox.id)
        )
    )


def test_assigning_queues_one_mail_to_the_handler_without_contact_details(
    make_client, factory, desk, db_session
):
    sr = _classified(
        factory,
        db_session,
        desk,
        contact_phone="13912345678",
        contact_email="liming.contact@example.com",
    )
    handler = desk["eng_db"]
    client = make_client()
    client.login(desk["dispatcher"])
    resp = client.post(
        f"/staff/requests/{sr.number}/assign",
        data={
            "assign-action": "assign",
            "assign-handler_id": str(handler.id),
            "assign-briefing": "先检查数据库监听,客户上午十点前需要恢复",
        },
        headers=HTMX,
    )
    assert resp.status_code == 200
    (mail,) = _mails_to(db_session, handler.email)
    assert db_session.scalar(select(func.count(EmailOutbox.id))) == 1
    assert mail.status == "pending" and mail.dedupe_key.startswith("assigned:")
    assert sr.number in mail.subject and sr.title in mail.subject
    body = mail.body_text
    assert f"{sr.number} has been assigned to you." in body
    assert f"Title: {sr.title}" in body
    assert "Priority: P1 urgent" in body
    assert f"Organisation: {desk['org'].name}" in body
    assert "Briefing: 先检查数据库监听,客户上午十点前需要恢复" in body
    for raw in ("13912345678", "liming.contact@example.com"):
        assert raw not in body and raw not in mail.subject


def test_reassigning_mails_the_new_handler_once_in_their_language(factory, desk, db_session):
    sr = _working(factory, db_session, desk)
    first = desk["eng_db"]
    second = factory.staff("engineer", name="周敏", locale="zh_CN")
    disp = desk["dispatcher"]
    assert len(_mails_to(db_session, first.email)) == 1
    record = workflow.assign(
        db_session,
        Actor(disp.id),
        disp,
        sr,
        second.id,
        utcnow(),
        TZ,
        briefing="张强休假,请接手",
    )
    assert len(_mails_to(db_session, first.email)) == 1  # nothing more to the previous one
    (mail,) = _mails_to(db_session, second.email)
    assert mail.dedupe_key == f"assigned:{record.id}"
    assert "P1 紧急" in mail.body_text and "—— 服务台" in mail.body_text  # zh_CN
    assert "张强休假,请接手" in mail.body_text
    assert db_session.scalar(select(func.count(EmailOutbox.id))) == 2
