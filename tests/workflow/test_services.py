"""The workflow services on the database: what each step leaves behind."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.domain.lifecycle import TransitionError
from portal.models import (
    Assignment,
    Classification,
    HandlingRecord,
    Notification,
    ServiceRequest,
    SlaPause,
    VaguePhrase,
    utcnow,
)
from portal.services import record_quality, workflow
from portal.services.audit import Actor

TZ = "Asia/Shanghai"


def _classify(session, desk, sr, now, **kw):
    data = workflow.ClassificationInput(
        type=kw.pop("type", "fault"),
        category=kw.pop("category", "database"),
        impact_scope=kw.pop("impact_scope", "core"),
        urgency=kw.pop("urgency", "high"),
        business_importance=kw.pop("business_importance", "high"),
        confirmed_details="电话确认:所有用户无法登录,期望两小时内恢复。",
        **kw,
    )
    sup = desk["supervisor"]
    return workflow.classify(session, Actor(sup.id), sup, sr, data, now)


def _assigned(session, factory, desk, now):
    sr = factory.request(desk["contact"], now=now - timedelta(hours=1))
    _classify(session, desk, sr, now - timedelta(minutes=50))
    disp = desk["dispatcher"]
    workflow.assign(
        session, Actor(disp.id), disp, sr, desk["eng_db"].id, now - timedelta(minutes=45), TZ
    )
    return sr


def test_classification_records_the_suggestion_or_the_override(factory, db_session, desk):
    now = utcnow()
    sr = factory.request(desk["contact"], urgency="P3", now=now - timedelta(minutes=5))
    rec = _classify(
        db_session,
        desk,
        sr,
        now,
        impact_scope="partial",
        urgency="high",
        business_importance="high",
    )
    assert (sr.status, sr.priority, sr.type, sr.category) == (
        "pending_assignment",
        "P1",
        "fault",
        "database",
    )
    assert sr.classified_at == now and rec.priority == "P1" and rec.impact_scope == "partial"
    later = now + timedelta(hours=1)
    _classify(db_session, desk, sr, later, priority="P3", category="login")
    assert sr.status == "pending_assignment" and sr.priority == "P3" and sr.category == "login"
    history = db_session.scalars(
        select(Classification.priority)
        .where(Classification.request_id == sr.id)
        .order_by(Classification.id)
    ).all()
    assert history == ["P1", "P3"]


def test_candidates_are_ranked_by_skill_load_and_availability(factory, db_session, desk):
    now = utcnow()
    sr = factory.request(desk["contact"], now=now)
    _classify(db_session, desk, sr, now)  # fault · database
    # 王涛 has the higher level but three open requests and is away
    for _ in range(3):
        other = factory.request(desk["contact"], now=now)
        other.handler_id, other.status = desk["eng_db5"].id, "in_progress"
    db_session.flush()
    ranked = workflow.candidates(db_session, sr)
    names = [r.candidate.name for r in ranked]
    assert names.index("王涛") < names.index("张强") < names.index("刘洋")
    wang = ranked[names.index("王涛")]
    assert (wang.level, wang.candidate.open_load, wang.candidate.available) == (5, 3, True)
    desk["eng_db5"].available = False
    db_session.flush()
    ranked = workflow.candidates(db_session, sr)
    names = [r.candidate.name for r in ranked]
    assert names.index("张强") < names.index("刘洋") < names.index("王涛")


def test_candidates_cost_three_queries_whatever_the_staff(factory, db_session, desk, count_queries):
    sr = factory.request(desk["contact"])
    with count_queries() as few:
        workflow.candidates(db_session, sr)
    for n in range(8):
        factory.staff("engineer", name=f"新人{n}")
    with count_queries() as many:
        workflow.candidates(db_session, sr)
    assert len(few) == len(many) == 4  # the setting of who takes requests, the people, skills, load


def test_assignment_notifies_and_reassignment_keeps_history(factory, db_session, desk):
    now = utcnow()
    sr = _assigned(db_session, factory, desk, now)
    assert sr.status == "in_progress" and sr.handler_id == desk["eng_db"].id
    note = db_session.scalar(
        select(Notification).where(Notification.recipient_id == desk["eng_db"].id)
    )
    assert note.kind == "assigned" and note.params["number"] == sr.number
    record = db_session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    assert record.number.startswith("IR-") and record.handler_id == desk["eng_db"].id

    disp = desk["dispatcher"]
    with pytest.raises(workflow.FieldError):  # the same person again
        workflow.assign(db_session, Actor(disp.id), disp, sr, desk["eng_db"].id, now, TZ)
    workflow.assign(
        db_session, Actor(disp.id), disp, sr, desk["eng_db5"].id, now, TZ, reason="数据库专家接手"
    )
    rows = db_session.scalars(
        select(Assignment).where(Assignment.request_id == sr.id).order_by(Assignment.id)
    ).all()
    assert [r.handler_id for r in rows] == [desk["eng_db"].id, desk["eng_db5"].id]
    assert rows[0].ended_at == now and rows[1].ended_at is None
    assert rows[1].reason == "数据库专家接手"
    assert sr.handler_id == desk["eng_db5"].id and sr.status == "in_progress"
    # one IR per request: the same record, now with the new handler
    again = db_session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    assert again.number == record.number and again.handler_id == desk["eng_db5"].id


def test_the_handler_confirms_when_they_can_start(factory, db_session, desk):
    now = utcnow()
    sr = _assigned(db_session, factory, desk, now)
    eng = desk["eng_db"]
    start = now + timedelta(hours=1)
    row = workflow.confirm_assignment(db_session, Actor(eng.id), eng, sr, start, now)
    assert row.confirmed_at == now and row.can_start_at == start
    assert sr.first_response_at == now  # the customer now sees a named engineer has it
    other = desk["eng_db5"]
    with pytest.raises(TransitionError):
        workflow.confirm_assignment(db_session, Actor(other.id), other, sr, start, now)


def test_steps_total_hours_and_refuse_vague_text(factory, db_session, desk):
    now = utcnow()
    sr = _assigned(db_session, factory, desk, now)
    eng = desk["eng_db"]
    for minutes, text, hours in (
        (40, "接收工单,远程登录系统排查", "0.75"),
        (30, "定位为数据库连接超时", "0.25"),
        (20, "协同运维重启数据库服务", "0.5"),
        (10, "系统恢复正常", "1.0"),
    ):
        step = workflow.StepInput(now - timedelta(minutes=minutes), text, Decimal(hours))
        workflow.log_step(db_session, Actor(eng.id), eng, sr, step, now, TZ)
    assert workflow.hours_total(db_session, sr) == Decimal("2.50")
    assert sr.work_started_at == now - timedelta(minutes=40)
    with pytest.raises(workflow.FieldError) as refused:
        workflow.log_step(
            db_session,
            Actor(eng.id),
            eng,
            sr,
            workflow.StepInput(now, "已解决", Decimal("0.1")),
            now,
            TZ,
        )
    assert refused.value.field == "operation" and "Describe the concrete operation" in str(
        refused.value
    )
    with pytest.raises(workflow.FieldError) as future:
        workflow.log_step(
            db_session,
            Actor(eng.id),
            eng,
            sr,
            workflow.StepInput(
                now + timedelta(hours=2), "远程登录服务器检查磁盘空间", Decimal("0.1")
            ),
            now,
            TZ,
        )
    assert future.value.field == "occurred_at"
    with pytest.raises(workflow.FieldError) as final:
        workflow.update_record(
            db_session,
            Actor(eng.id),
            eng,
            sr,
            now,
            TZ,
            problems="",
            workaround="",
            final_result="fixed",
        )
    assert final.value.field == "final_result"
    record = workflow.update_record(
        db_session,
        Actor(eng.id),
        eng,
        sr,
        now,
        TZ,
        problems="连接池耗尽",
        workaround="重启数据库服务",
        final_result="数据库连接已恢复,用户可正常登录",
    )
    assert record.final_result == "数据库连接已恢复,用户可正常登录"


def test_a_collaborator_logs_steps_on_the_same_record(factory, db_session, desk):
    now = utcnow()
    sr = _assigned(db_session, factory, desk, now)
    eng, ops = desk["eng_db"], desk["eng_db5"]
    row = workflow.add_collaborator(
        db_session, Actor(eng.id), eng, sr, ops.id, "运维 王涛", "重启数据库服务并确认主备同步", now
    )
    assert row.department_id == desk["ops"].id
    note = db_session.scalar(
        select(Notification).where(
            Notification.recipient_id == ops.id, Notification.kind == "collaborator_added"
        )
    )
    assert note is not None
    step = workflow.log_step(
        db_session,
        Actor(ops.id),
        ops,
        sr,
        workflow.StepInput(
            now - timedelta(minutes=1), "重启数据库服务,确认主备同步正常", Decimal("0.5")
        ),
        now,
        TZ,
    )
    record = db_session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    assert step.record_id == record.id and step.author_id == ops.id
    with pytest.raises(workflow.FieldError):
        workflow.add_collaborator(db_session, Actor(eng.id), eng, sr, ops.id, "x", "y", now)


def test_asking_the_customer_pauses_and_the_answer_resumes(factory, db_session, desk):
    now = utcnow()
    sr = _assigned(db_session, factory, desk, now)
    eng, contact = desk["eng_db"], desk["contact"]
    asked = workflow.ask_customer(
        db_session, Actor(eng.id), eng, sr, "请提供测试环境管理员账号", now + timedelta(days=1), now
    )
    assert sr.status == "awaiting_customer" and sr.paused_since == now
    assert (
        db_session.scalar(select(Notification.kind).where(Notification.recipient_id == contact.id))
        == "cooperation_requested"
    )
    later = now + timedelta(hours=2)
    workflow.answer_customer(
        db_session, Actor(contact.id), contact, sr, "账号已发到您的邮箱", later
    )
    assert sr.status == "in_progress" and sr.paused_since is None
    assert asked.answer == "账号已发到您的邮箱" and asked.answered_at == later
    pause = db_session.scalar(select(SlaPause).where(SlaPause.request_id == sr.id))
    assert (pause.started_at, pause.ended_at) == (now, later)


def test_a_customer_message_is_not_the_desks_response(factory, db_session, desk):
    now = utcnow()
    sr = factory.request(desk["contact"], now=now - timedelta(minutes=10))
    contact = desk["contact"]
    workflow.post_message(db_session, Actor(contact.id), contact, sr, "补充:错误码 500", now)
    assert sr.first_response_at is None
    with pytest.raises(TransitionError):
        workflow.post_message(
            db_session, Actor(contact.id), contact, sr, "内部", now, internal=True
        )
    agent = factory.staff("agent")
    workflow.post_message(
        db_session, Actor(agent.id), agent, sr, "您好,已收到,正在安排工程师。", now
    )
    assert sr.first_response_at == now


def test_cancel_before_work_only(factory, db_session, desk):
    now = utcnow()
    contact = desk["contact"]
    sr = factory.request(contact, now=now)
    workflow.cancel(db_session, Actor(contact.id), contact, sr, "问题已自行恢复", now)
    assert sr.status == "cancelled" and sr.cancelled_at == now
    busy = _assigned(db_session, factory, desk, now)
    with pytest.raises(TransitionError) as refused:
        workflow.cancel(db_session, Actor(contact.id), contact, busy, "", now)
    assert refused.value.code == "wrong-state"
    assert db_session.get(ServiceRequest, busy.id).status == "in_progress"


def test_vague_phrases_are_configuration(db_session, app):
    assert record_quality.check_text(db_session, "已跟进处理", "en") is not None
    assert record_quality.check_text(db_session, "没有发现异常。", "en") is None
    db_session.add(VaguePhrase(phrase="没有发现异常", locale="zh"))
    db_session.flush()
    message = record_quality.check_text(db_session, "没有发现异常。", "en")
    assert message is not None and "Describe the concrete operation" in message
    assert "搞定" in record_quality.check_text(db_session, "搞定", "zh_CN")
    assert (
        record_quality.check_text(
            db_session, "Restarted the database service; users can log in again.", "en"
        )
        is None
    )
    assert db_session.scalar(select(func.count()).select_from(VaguePhrase)) >= 1
