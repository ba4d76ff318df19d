"""The staff request page's workflow panels: shown by role and state, errors inline with what
was typed kept (htmx gets the panel alone), success swaps the page's article in place, plain
forms work without JavaScript."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select

from portal.models import Assignment, HandlingStep, Message, Notification, utcnow
from portal.services import workflow
from portal.services.audit import Actor

from .helpers import HTMX, panel, text

CLASSIFY = {
    "classify-action": "classify",
    "classify-type": "fault",
    "classify-category": "database",
    "classify-impact_scope": "core",
    "classify-urgency": "high",
    "classify-business_importance": "medium",
    "classify-priority": "",
    "classify-confirmed_details": "电话确认:全部用户无法登录,要求尽快恢复。",
}


def _in_progress(factory, db_session, desk):
    now = utcnow()
    sr = factory.request(desk["contact"], now=now - timedelta(hours=1))
    sup, disp = desk["supervisor"], desk["dispatcher"]
    data = workflow.ClassificationInput(
        "fault", "database", "core", "high", "high", "电话确认影响范围"
    )
    workflow.classify(db_session, Actor(sup.id), sup, sr, data, now - timedelta(minutes=50))
    workflow.assign(
        db_session,
        Actor(disp.id),
        disp,
        sr,
        desk["eng_db"].id,
        now - timedelta(minutes=40),
        "Asia/Shanghai",
    )
    return sr


def test_panels_follow_role_and_state(make_client, factory, desk):
    sr = factory.request(desk["contact"])
    url = f"/staff/requests/{sr.number}"
    sup = make_client()
    sup.login(desk["supervisor"])
    page = text(sup.get(url))
    assert panel(page, "classify") and not panel(page, "assign") and not panel(page, "step")
    disp = make_client()
    disp.login(desk["dispatcher"])
    page = text(disp.get(url))
    assert not panel(page, "classify") and not panel(page, "assign")
    eng = make_client()
    eng.login(desk["eng_db"])
    page = text(eng.get(url))
    # an engineer not on the request may only add an internal note
    composer = panel(page, "composer")
    assert composer and 'value="note"' in composer and 'value="reply"' not in composer
    assert not panel(page, "step")


def test_classify_error_swaps_the_panel_alone_and_keeps_what_was_typed(make_client, factory, desk):
    sr = factory.request(desk["contact"])
    client = make_client()
    client.login(desk["supervisor"])
    data = dict(CLASSIFY, **{"classify-confirmed_details": "", "classify-category": "fault:login"})
    resp = client.post(f"/staff/requests/{sr.number}/classify", data=data, headers=HTMX)
    assert resp.status_code == 422
    body = text(resp)
    assert body.lstrip().startswith('<section class="panel wf-panel" id="panel-classify"')
    assert "<html" not in body
    assert "Record what was confirmed with the customer." in body
    assert '<option selected value="fault:login">Login</option>' in body  # kept
    assert '<input checked id="classify-impact_scope-0"' in body  # "core", as chosen


def test_classify_success_swaps_the_article_and_customer_sees_priority(
    make_client, factory, desk, db_session
):
    sr = factory.request(desk["contact"], urgency="P3")
    client = make_client()
    client.login(desk["supervisor"])
    resp = client.post(f"/staff/requests/{sr.number}/classify", data=CLASSIFY, headers=HTMX)
    assert resp.status_code == 200
    assert resp.headers["HX-Retarget"] == "article.request-page"
    assert resp.headers["HX-Reselect"] == "article.request-page"
    body = text(resp)
    assert "Pending assignment" in body and "Classified: Fault, P1 urgent." in body
    customer = make_client()
    customer.login(desk["contact"])
    page = text(customer.get(f"/requests/{sr.number}"))
    assert "P1 urgent" in page and "(proposed)" not in page and "Fault" in page


def test_classify_without_javascript_redirects_back(make_client, factory, desk):
    sr = factory.request(desk["contact"])
    client = make_client()
    client.login(desk["supervisor"])
    resp = client.post(f"/staff/requests/{sr.number}/classify", data=CLASSIFY)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(sr.number)
    page = text(client.get(resp.headers["Location"]))
    assert "Classified: Fault, P1 urgent." in page and "Pending assignment" in page
    # plain POST with an error: the whole page again, the panel's error inline
    again = client.post(
        f"/staff/requests/{sr.number}/classify",
        data=dict(CLASSIFY, **{"classify-action": "reclassify", "classify-impact_scope": ""}),
    )
    assert again.status_code == 422 and "<html" in text(again)
    assert "Choose the impact scope." in panel(text(again), "classify")


def test_suggestion_endpoint_follows_the_three_answers(make_client, factory, desk):
    client = make_client()
    client.login(desk["supervisor"])
    args = {
        "classify-impact_scope": "none",
        "classify-urgency": "high",
        "classify-business_importance": "high",
    }
    assert "P2 important" in text(client.get("/staff/classification/suggestion", query_string=args))
    args["classify-impact_scope"] = "core"
    assert "P1 urgent" in text(client.get("/staff/classification/suggestion", query_string=args))


def test_assign_panel_ranks_with_reasons_and_notifies(make_client, factory, desk, db_session):
    sr = factory.request(desk["contact"])
    sup = desk["supervisor"]
    workflow.classify(
        db_session,
        Actor(sup.id),
        sup,
        sr,
        workflow.ClassificationInput(
            "fault", "database", "partial", "medium", "medium", "电话确认"
        ),
        utcnow(),
    )
    client = make_client()
    client.login(desk["dispatcher"])
    page = text(client.get(f"/staff/requests/{sr.number}"))
    assign = panel(page, "assign")
    assert "王涛" in assign and "Skill Database faults level 5 · 0 open · available" in assign
    assert assign.index("王涛") < assign.index("张强") < assign.index("刘洋")
    resp = client.post(
        f"/staff/requests/{sr.number}/assign",
        data={"assign-action": "assign", "assign-handler_id": str(desk["eng_db"].id)},
        headers=HTMX,
    )
    assert resp.status_code == 200 and "In progress" in text(resp)
    row = db_session.scalar(select(Assignment).where(Assignment.request_id == sr.id))
    assert row.handler_id == desk["eng_db"].id and "level 4" in row.reason
    assert (
        db_session.scalar(
            select(Notification.kind).where(Notification.recipient_id == desk["eng_db"].id)
        )
        == "assigned"
    )


def test_refused_transition_is_a_message_not_a_500(make_client, factory, desk, db_session):
    sr = _in_progress(factory, db_session, desk)
    client = make_client()
    client.login(desk["dispatcher"])
    # the page offered "assign" while the request waited; someone assigned it meanwhile
    resp = client.post(
        f"/staff/requests/{sr.number}/assign",
        data={"assign-action": "assign", "assign-handler_id": str(desk["eng_db5"].id)},
        headers=HTMX,
    )
    assert resp.status_code == 422
    assert "This request is not in a state for that (currently: In progress)." in text(resp)
    agent = make_client()
    agent.login(factory.staff("agent"))
    resp = agent.post(
        f"/staff/requests/{sr.number}/steps",
        data={
            "step-occurred_at": "2024-01-01T10:00",
            "step-operation": "远程登录服务器排查日志",
            "step-hours": "1",
        },
        headers=HTMX,
    )
    # not the handler: refused before the form is read (403), the page is shown again
    assert resp.status_code == 403 and "You may not do that on this request." in text(resp)
    assert resp.headers["HX-Redirect"] == f"/staff/requests/{sr.number}"


def test_vague_step_is_refused_inline_and_a_concrete_one_is_added(
    make_client, factory, desk, db_session
):
    sr = _in_progress(factory, db_session, desk)
    client = make_client()
    client.login(desk["eng_db"])
    local = (utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # Asia/Shanghai
    data = {
        "step-occurred_at": local,
        "step-operation": "已处理",
        "step-hours": "0.5",
        "step-visible_to_customer": "y",
    }
    resp = client.post(f"/staff/requests/{sr.number}/steps", data=data, headers=HTMX)
    assert resp.status_code == 422
    body = html.unescape(text(resp))
    assert "“已处理” alone does not say what was done." in body
    assert "Describe the concrete operation and its result" in body
    assert "已处理</textarea>" in body  # kept to edit
    data["step-operation"] = "远程登录数据库服务器,调大连接池上限到200"
    resp = client.post(f"/staff/requests/{sr.number}/steps", data=data, headers=HTMX)
    assert resp.status_code == 200
    assert "远程登录数据库服务器,调大连接池上限到200" in text(resp)
    assert "Total hours: 0.50" in text(resp)
    assert db_session.scalar(select(HandlingStep.operation)).startswith("远程登录")


def test_internal_note_never_reaches_the_customer(make_client, factory, desk, db_session):
    sr = _in_progress(factory, db_session, desk)
    eng = make_client()
    eng.login(desk["eng_db"])
    resp = eng.post(
        f"/staff/requests/{sr.number}/messages",
        data={"msg-kind": "note", "msg-body": "内部:怀疑客户防火墙拦截了数据库端口"},
        headers=HTMX,
    )
    assert resp.status_code == 200
    resp = eng.post(
        f"/staff/requests/{sr.number}/messages",
        data={"msg-kind": "reply", "msg-body": "您好,已远程登录排查,正在处理。"},
    )
    assert resp.status_code == 302
    notes = db_session.scalars(select(Message).where(Message.request_id == sr.id)).all()
    assert sorted(m.internal for m in notes) == [False, True]
    customer = make_client()
    customer.login(desk["contact"])
    for url in (f"/requests/{sr.number}", "/"):
        page = text(customer.get(url))
        assert "防火墙" not in page and "内部" not in page
    assert "您好,已远程登录排查,正在处理。" in text(customer.get(f"/requests/{sr.number}"))
    # the customer's own fragment requests (htmx) never carry it either
    page = text(customer.get(f"/requests/{sr.number}", headers=HTMX))
    assert "防火墙" not in page
    assert (
        db_session.scalar(
            select(Notification.kind).where(
                Notification.recipient_id == desk["contact"].id, Notification.kind == "reply"
            )
        )
        == "reply"
    )


def test_ask_customer_pauses_and_shows_on_both_sides(make_client, factory, desk, db_session):
    sr = _in_progress(factory, db_session, desk)
    eng = make_client()
    eng.login(desk["eng_db"])
    resp = eng.post(
        f"/staff/requests/{sr.number}/ask", data={"ask-what": "", "ask-needed_by": ""}, headers=HTMX
    )
    assert resp.status_code == 422 and "Say what the customer should provide." in text(resp)
    resp = eng.post(
        f"/staff/requests/{sr.number}/ask",
        data={"ask-what": "请提供测试环境管理员账号", "ask-needed_by": ""},
        headers=HTMX,
    )
    assert resp.status_code == 200 and "Awaiting customer" in text(resp)
    db_session.refresh(sr)
    assert sr.status == "awaiting_customer" and sr.paused_since is not None


def test_confirm_and_collaborator_panels(make_client, factory, desk, db_session):
    sr = _in_progress(factory, db_session, desk)
    eng = make_client()
    eng.login(desk["eng_db"])
    page = text(eng.get(f"/staff/requests/{sr.number}"))
    assert panel(page, "confirm") and panel(page, "collaborator")
    local = (utcnow() + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")
    resp = eng.post(
        f"/staff/requests/{sr.number}/confirm", data={"confirm-can_start_at": local}, headers=HTMX
    )
    assert resp.status_code == 200
    row = db_session.scalar(select(Assignment).where(Assignment.request_id == sr.id))
    db_session.refresh(row)
    assert row.confirmed_at is not None and row.can_start_at is not None
    resp = eng.post(
        f"/staff/requests/{sr.number}/collaborators",
        data={
            "collab-person_id": str(desk["eng_db5"].id),
            "collab-department_id": "",
            "collab-interface_person": "",
            "collab-scope": "重启数据库服务",
        },
        headers=HTMX,
    )
    assert resp.status_code == 422 and "Name the interface person." in text(resp)
    assert "重启数据库服务</textarea>" in text(resp)
    resp = eng.post(
        f"/staff/requests/{sr.number}/collaborators",
        data={
            "collab-person_id": str(desk["eng_db5"].id),
            "collab-department_id": "",
            "collab-interface_person": "运维 王涛",
            "collab-scope": "重启数据库服务",
        },
        headers=HTMX,
    )
    assert resp.status_code == 200 and "王涛 now collaborates on this request." in text(resp)
    # the collaborator can now log steps
    ops = make_client()
    ops.login(desk["eng_db5"])
    assert panel(text(ops.get(f"/staff/requests/{sr.number}")), "step")
