"""One request through every step of the template, through the pages only: submit, classify,
assign, steps, ask the customer, answer, deliver, fail with unmet items, rework, deliver, pass,
countersign, feedback with a measure, close — asserting each form's number and content."""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun import freeze_time
from sqlalchemy import select

from portal.models import (
    Classification,
    CooperationRequest,
    Delivery,
    Feedback,
    HandlingRecord,
    HandlingStep,
    ImprovementMeasure,
    ServiceRequest,
)
from tests.delivery.helpers import HTMX, PNG_DATA_URL, criteria_ids, form_table


def at(hh: int, mm: int, day: int = 1) -> datetime:
    """2025-12-<day> hh:mm in Shanghai (a Monday), as UTC."""
    return datetime(2025, 12, day, hh - 8, mm, tzinfo=UTC)


def ok(resp, status=(200, 302)):
    assert resp.status_code in status, resp.get_data(as_text=True)[:3000]
    return resp


def test_a_request_walks_every_step_of_the_template(app, factory, db_session, make_client):
    s = db_session
    with freeze_time(at(9, 0)) as clock:
        org = factory.organisation(name="客户A")
        factory.category("fault", "database", name_zh="数据库", name_en="Database")
        contact = factory.customer(org, name="李明", phone="13812345678")
        supervisor = factory.staff("supervisor", name="赵静")
        dispatcher = factory.staff("dispatcher", name="黄磊")
        handler = factory.staff("engineer", name="张强")
        customer, boss, disp, eng = (make_client() for _ in range(4))
        customer.login(contact)
        boss.login(supervisor)
        disp.login(dispatcher)
        eng.login(handler)

        # (1) submit
        clock.move_to(at(9, 30))
        resp = ok(
            customer.post(
                "/requests/new",
                data={
                    "type": "fault",
                    "urgency": "P1",
                    "title": "生产系统无法登录",
                    "description": "所有用户登录时提示数据库连接超时。",
                    "contact_name": "李明",
                    "contact_phone": "13812345678",
                    "contact_email": contact.email,
                },
            ),
            (302,),
        )
        sr = s.scalar(select(ServiceRequest).where(ServiceRequest.title == "生产系统无法登录"))
        assert sr.number == "SR-20251201-001" and resp.location.endswith(sr.number)
        assert sr.status == "submitted" and sr.channel == "portal"
        number = sr.number

        # (2) classify
        clock.move_to(at(9, 35))
        ok(
            boss.post(
                f"/staff/requests/{number}/classify",
                data={
                    "classify-action": "classify",
                    "classify-type": "fault",
                    "classify-category": "database",
                    "classify-impact_scope": "core",
                    "classify-urgency": "high",
                    "classify-business_importance": "high",
                    "classify-priority": "P1",
                    "classify-confirmed_details": "电话确认:全部用户无法登录,期望两小时内恢复。",
                },
                headers=HTMX,
            )
        )
        s.expire_all()
        sr = s.get(ServiceRequest, sr.id)
        assert (sr.status, sr.priority, sr.type) == ("pending_assignment", "P1", "fault")
        assert (
            s.scalar(select(Classification.priority).where(Classification.request_id == sr.id))
            == "P1"
        )

        # (3) assign
        clock.move_to(at(9, 40))
        ok(
            disp.post(
                f"/staff/requests/{number}/assign",
                data={
                    "assign-action": "assign",
                    "assign-handler_id": str(handler.id),
                    "assign-reason": "数据库故障经验最丰富",
                },
                headers=HTMX,
            )
        )
        s.expire_all()
        sr = s.get(ServiceRequest, sr.id)
        assert (sr.status, sr.handler_id) == ("in_progress", handler.id)
        record = s.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
        assert record.number == "IR-20251201-001"

        # (4) steps
        def step(hh, mm, operation, hours):
            clock.move_to(at(hh, mm))
            ok(
                eng.post(
                    f"/staff/requests/{number}/steps",
                    data={
                        "step-occurred_at": f"2025-12-01T{hh:02d}:{mm:02d}",
                        "step-operation": operation,
                        "step-hours": hours,
                        "step-visible_to_customer": "y",
                    },
                    headers=HTMX,
                )
            )

        step(9, 45, "接收工单,远程登录系统排查", "0.75")
        step(10, 15, "定位为数据库连接超时", "0.25")

        # (4) ask the customer, who answers
        clock.move_to(at(10, 20))
        ok(
            eng.post(
                f"/staff/requests/{number}/ask",
                data={"ask-what": "请提供数据库服务器的运维账号"},
                headers=HTMX,
            )
        )
        s.expire_all()
        assert s.get(ServiceRequest, sr.id).status == "awaiting_customer"
        clock.move_to(at(10, 25))
        ok(
            customer.post(
                f"/requests/{number}/answer",
                data={"answer-answer": "账号 ops_admin 已通过邮件发送"},
            ),
            (302,),
        )
        s.expire_all()
        assert s.get(ServiceRequest, sr.id).status == "in_progress"
        coop = s.scalar(select(CooperationRequest).where(CooperationRequest.request_id == sr.id))
        assert coop.answer == "账号 ops_admin 已通过邮件发送" and coop.answered_at is not None

        step(10, 30, "协同运维王工重启数据库服务", "0.5")
        step(11, 0, "系统恢复正常", "1.0")

        # (5) deliver, the customer fails it with unmet items
        def deliver(hh, mm):
            clock.move_to(at(hh, mm))
            ok(
                eng.post(
                    f"/staff/requests/{number}/deliver",
                    data={
                        "deliver-service_item": "生产系统故障修复",
                        "deliver-items": "故障原因分析报告\n系统恢复操作记录\n后续维护建议",
                        "deliver-criteria": "系统登录无异常\n故障报告内容完整",
                        "deliver-demo_note": "",
                    },
                    headers=HTMX,
                )
            )
            s.expire_all()
            return s.scalar(
                select(Delivery).where(Delivery.request_id == sr.id).order_by(Delivery.id.desc())
            )

        first = deliver(11, 10)
        assert first.number == "SD-20251201-001"
        assert s.get(ServiceRequest, sr.id).status == "pending_acceptance"
        clock.move_to(at(11, 20))
        met = criteria_ids(s, first)
        ok(
            customer.post(
                f"/requests/{number}/acceptance",
                data={
                    "accept-met": [str(met[0])],
                    "accept-result": "fail",
                    "accept-typed_name": "李明",
                    "accept-content_hash": first.content_hash,
                    "accept-other_unmet": "报告缺少根因时间线",
                    "accept-rectification": "补充数据库连接池耗尽的时间线",
                },
            ),
            (302,),
        )
        s.expire_all()
        sr = s.get(ServiceRequest, sr.id)
        assert (sr.status, sr.rework_count) == ("in_progress", 1)
        assert s.get(Delivery, first.id).result == "fail"

        # rework, deliver again, pass
        step(11, 30, "补充根因时间线:连接池在 09:12 耗尽", "0.5")
        second = deliver(11, 40)
        assert second.number == "SD-20251201-002" and second.round == 2
        clock.move_to(at(11, 50))
        ok(
            customer.post(
                f"/requests/{number}/acceptance",
                data={
                    "accept-met": [str(i) for i in criteria_ids(s, second)],
                    "accept-result": "pass",
                    "accept-typed_name": "李明",
                    "accept-signature": PNG_DATA_URL,
                    "accept-content_hash": second.content_hash,
                },
            ),
            (302,),
        )
        s.expire_all()
        assert s.get(ServiceRequest, sr.id).status == "completed"
        clock.move_to(at(12, 0))
        ok(
            eng.post(
                f"/staff/requests/{number}/countersign",
                data={"countersign-typed_name": "张强", "countersign-signature": PNG_DATA_URL},
                headers=HTMX,
            )
        )

        # (6) feedback with a measure, which closes the request
        clock.move_to(at(14, 0))
        ok(
            customer.post(
                f"/requests/{number}/feedback",
                data={
                    "rate-score_response": "5",
                    "rate-score_effect": "4",
                    "rate-score_attitude": "5",
                    "rate-suggestions": "希望增加故障预警功能",
                },
            ),
            (302,),
        )
        clock.move_to(at(15, 0))
        ok(
            boss.post(
                f"/staff/requests/{number}/measures",
                data={
                    "measure-measure": "记录需求,纳入下一季度产品优化计划",
                    "measure-owner": str(supervisor.id),
                    "measure-deadline": "2026-03-31",
                },
                headers=HTMX,
            )
        )
        s.expire_all()
        sr = s.get(ServiceRequest, sr.id)
        assert sr.status == "closed"
        fb = s.scalar(select(Feedback).where(Feedback.request_id == sr.id))
        assert fb.number == "FB-20251201-001" and str(fb.mean_score) == "4.7"
        measure = s.scalar(
            select(ImprovementMeasure).where(ImprovementMeasure.feedback_id == fb.id)
        )
        assert measure.owner_id == supervisor.id and str(measure.deadline) == "2026-03-31"

        # the forms, printed by the handler
        steps = s.scalars(
            select(HandlingStep)
            .where(HandlingStep.record_id == record.id)
            .order_by(HandlingStep.occurred_at)
        ).all()
        assert [str(x.hours) for x in steps] == ["0.75", "0.25", "0.50", "1.00", "0.50"]
        _h, ir = form_table(eng.get(f"/staff/requests/{number}/print/ir").get_data(as_text=True))
        assert ir[0]["Record number"] == "IR-20251201-001"
        assert ir[0]["Hours spent"] == "3"
        assert "10:15 定位为数据库连接超时" in ir[0]["Steps (time + operation)"]
        _h, sd = form_table(eng.get(f"/staff/requests/{number}/print/sd").get_data(as_text=True))
        # both rounds on the acceptance form: the failed one with its unmet items, then the pass
        assert [row["Delivery number"] for row in sd] == ["SD-20251201-001", "SD-20251201-002"]
        assert sd[0]["Result (pass / fail)"].startswith("Fail")
        assert "报告缺少根因时间线" in sd[0]["Result (pass / fail)"]
        assert "补充数据库连接池耗尽的时间线" in sd[0]["Result (pass / fail)"]
        assert sd[1]["Result (pass / fail)"] == "Pass" and sd[1]["Customer signature"] == "李明"
        _h, fbrow = form_table(eng.get(f"/staff/requests/{number}/print/fb").get_data(as_text=True))
        assert fbrow[0]["Feedback number"] == "FB-20251201-001"
        assert fbrow[0]["Satisfaction (1–5, 5 best)"] == "4.7"
        _h, srrow = form_table(eng.get(f"/staff/requests/{number}/print/sr").get_data(as_text=True))
        assert srrow[0]["Form number"] == number and srrow[0]["Current status"] == "Closed"
        assert srrow[0]["Contact details"] == "13812345678"  # the handler sees it in full
