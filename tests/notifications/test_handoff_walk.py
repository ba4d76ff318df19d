"""The template's example walked through the pages, asserting every hand-off's notification and
mail (docs/product.md §9): who is told, in their language, with contact data masked, linking to
where they act, and each mail delivered over a real SMTP server (aiosmtpd).

The customer organisation asks for its org admin to be told too; the contact and the handler
read Chinese, the org admin, supervisor and dispatcher English."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from flask_babel import force_locale
from freezegun import freeze_time
from sqlalchemy import select

from portal import jobs_sla
from portal.models import Delivery, EmailOutbox, Notification, ServiceRequest
from portal.presentation.notice_links import notice_link
from portal.presentation.notices import describe
from tests.delivery.helpers import HTMX, PNG_DATA_URL, criteria_ids
from tests.mail_server import body_text
from tests.notifications.conftest import BASE_URL


def at(hh: int, mm: int, day: int = 1) -> datetime:
    """2025-12-<day> hh:mm in Shanghai (a Monday), as UTC."""
    return datetime(2025, 12, day, hh - 8, mm, tzinfo=UTC)


def ok(resp, status=(200, 302)):
    assert resp.status_code in status, resp.get_data(as_text=True)[:3000]
    return resp


def _told(s, since_id: int) -> Counter:
    """(recipient id, kind) of the notifications added after ``since_id``."""
    return Counter(
        (n.recipient_id, n.kind)
        for n in s.scalars(select(Notification).where(Notification.id > since_id))
    )


def _last_id(s) -> int:
    return max(s.scalars(select(Notification.id)).all() or [0])


def test_every_hand_off_of_the_template_example_is_told_and_mailed(
    app, factory, db_session, make_client, smtp, mail_config
):
    s = db_session
    with freeze_time(at(9, 0)) as clock:
        org = factory.organisation(name="客户A", notify_org_admins=True)
        factory.category("fault", "database", name_zh="数据库", name_en="Database")
        contact = factory.customer(org, name="李明", phone="13812345678", locale="zh_CN")
        org_admin = factory.customer(org, admin=True, name="王芳", locale="en")
        colleague = factory.customer(org, name="陈晨", locale="en")  # not on the request
        supervisor = factory.staff("supervisor", name="赵静")
        dispatcher = factory.staff("dispatcher", name="黄磊")
        handler = factory.staff("engineer", name="张强", locale="zh_CN")
        customer, boss, disp, eng = (make_client() for _ in range(4))
        customer.login(contact)
        boss.login(supervisor)
        disp.login(dispatcher)
        eng.login(handler)
        CUSTOMER_SIDE = (contact.id, org_admin.id)
        OVERSIGHT = (supervisor.id, dispatcher.id)

        ok(
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
        number = sr.number
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

        # assignment: the handler
        mark = _last_id(s)
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
        assert _told(s, mark) == Counter({(handler.id, "assigned"): 1})

        # 需客户配合: the customer side is asked; the answer goes to the handler
        mark = _last_id(s)
        clock.move_to(at(10, 20))
        ok(
            eng.post(
                f"/staff/requests/{number}/ask",
                data={"ask-what": "请提供数据库服务器的运维账号"},
                headers=HTMX,
            )
        )
        assert _told(s, mark) == Counter({(p, "cooperation_requested"): 1 for p in CUSTOMER_SIDE})
        mark = _last_id(s)
        clock.move_to(at(10, 25))
        ok(
            customer.post(
                f"/requests/{number}/answer",
                data={"answer-answer": "账号 ops_admin 已通过邮件发送"},
            ),
            (302,),
        )
        assert _told(s, mark) == Counter({(handler.id, "customer_answered"): 1})

        # a public reply each way
        mark = _last_id(s)
        clock.move_to(at(10, 30))
        ok(
            eng.post(
                f"/staff/requests/{number}/messages",
                data={"msg-kind": "reply", "msg-body": "已重启数据库服务,请确认能否登录。"},
                headers=HTMX,
            )
        )
        assert _told(s, mark) == Counter({(p, "reply"): 1 for p in CUSTOMER_SIDE})
        mark = _last_id(s)
        clock.move_to(at(10, 40))
        ok(customer.post(f"/requests/{number}/reply", data={"reply-body": "已可以登录,谢谢"}))
        assert _told(s, mark) == Counter({(handler.id, "customer_reply"): 1})
        ok(
            eng.post(
                f"/staff/requests/{number}/steps",
                data={
                    "step-occurred_at": "2025-12-01T10:45",
                    "step-operation": "系统恢复正常",
                    "step-hours": "1.0",
                    "step-visible_to_customer": "y",
                },
                headers=HTMX,
            )
        )

        def deliver(hh, mm) -> Delivery:
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

        # delivery ready: the customer side; the failed acceptance: handler and oversight
        mark = _last_id(s)
        first = deliver(11, 10)
        assert _told(s, mark) == Counter({(p, "delivery_ready"): 1 for p in CUSTOMER_SIDE})
        mark = _last_id(s)
        clock.move_to(at(11, 20))
        ok(
            customer.post(
                f"/requests/{number}/acceptance",
                data={
                    "accept-met": [str(criteria_ids(s, first)[0])],
                    "accept-result": "fail",
                    "accept-typed_name": "李明",
                    "accept-content_hash": first.content_hash,
                    "accept-other_unmet": "报告缺少根因时间线",
                    "accept-rectification": "补充数据库连接池耗尽的时间线",
                },
            ),
            (302,),
        )
        assert _told(s, mark) == Counter(
            {(p, "acceptance_failed"): 1 for p in (handler.id, *OVERSIGHT)}
        )
        failed = s.scalar(
            select(Notification).where(
                Notification.recipient_id == supervisor.id,
                Notification.kind == "acceptance_failed",
            )
        )
        with force_locale("en"):
            assert describe(failed.kind, failed.params) == (
                f"李*'s acceptance of {first.number} failed: 故障报告内容完整; 报告缺少根因时间线"
                " not met."
            )

        # again, and passed: the handler countersigns
        second = deliver(11, 40)
        mark = _last_id(s)
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
        assert _told(s, mark) == Counter({(handler.id, "acceptance_passed"): 1})
        clock.move_to(at(12, 0))
        ok(
            eng.post(
                f"/staff/requests/{number}/countersign",
                data={"countersign-typed_name": "张强", "countersign-signature": PNG_DATA_URL},
                headers=HTMX,
            )
        )

        # feedback with a low score closes it: the handler reads the scores, oversight the low
        # score, the org admin that it closed (the contact closed it: not told)
        mark = _last_id(s)
        clock.move_to(at(14, 0))
        ok(
            customer.post(
                f"/requests/{number}/feedback",
                data={
                    "rate-score_response": "5",
                    "rate-score_effect": "2",
                    "rate-score_attitude": "5",
                    "rate-suggestions": "希望增加故障预警功能",
                },
            ),
            (302,),
        )
        assert _told(s, mark) == Counter(
            {
                (handler.id, "feedback_received"): 1,
                (supervisor.id, "low_score"): 1,
                (dispatcher.id, "low_score"): 1,
                (org_admin.id, "request_closed"): 1,
            }
        )

        # a measure for the dispatcher, added by the supervisor
        mark = _last_id(s)
        clock.move_to(at(15, 0))
        ok(
            boss.post(
                f"/staff/requests/{number}/measures",
                data={
                    "measure-measure": "记录需求,纳入下一季度产品优化计划",
                    "measure-owner": str(dispatcher.id),
                    "measure-deadline": "2026-03-31",
                },
                headers=HTMX,
            )
        )
        assert _told(s, mark) == Counter({(dispatcher.id, "measure_assigned"): 1})

    # nobody off the request heard of it
    everyone = s.scalars(select(Notification).where(Notification.request_id == sr.id)).all()
    assert colleague.id not in {n.recipient_id for n in everyone}

    # every mail: to its recipient, in their language, masked, linking where they act
    people = {a.id: a for a in (contact, org_admin, colleague, supervisor, dispatcher, handler)}
    rows = s.scalars(select(EmailOutbox).order_by(EmailOutbox.id)).all()
    by_notification = {r.meta.get("notification_id"): r for r in rows if r.meta}
    for row in rows:
        assert jobs_sla.send_mail(row.id) == "sent"
    checked = 0
    for n in everyone:
        reader = people[n.recipient_id]
        staff = reader.kind == "staff"
        if n.kind == "assigned":
            continue  # the assignment has its own, fuller mail (tests/workflow)
        row = by_notification[n.id]
        message = smtp.wait_for(
            lambda m, row=row: f".{row.id}@" in (m["Message-ID"] or ""), timeout=10
        )
        assert message["To"] == reader.email
        assert message["Subject"].startswith(f"[{number}] ")
        text = body_text(message)
        with force_locale(reader.locale):
            sentence = describe(n.kind, n.params)
        other = "en" if reader.locale == "zh_CN" else "zh_CN"
        with force_locale(other):
            foreign = describe(n.kind, n.params)
        assert sentence in text and foreign not in text, (n.kind, reader.locale)
        with app.app_context():
            link = notice_link(n.kind, number, staff=staff, base_url=BASE_URL)
        assert link in text
        assert "13812345678" not in text
        if reader.id != contact.id:
            assert "李明" not in text, (n.kind, reader.name)
        checked += 1
    # every notification but the assignment's mailed (all readers chose instant mail)
    assert checked == len(everyone) - 1 == 19
