"""Every (state × action × actor) combination, through the services: the allowed ones succeed and
move the request where the template says, the rest are refused with the domain error.

The expectation comes from the table below, written from docs/product.md §2 and the issue — not from
portal.domain.lifecycle — so a change to the state machine that the product did not ask for fails
here."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.domain import lifecycle
from portal.domain.vocabulary import Status
from portal.models import (
    Account,
    AccountRole,
    Assignment,
    AuditEvent,
    Collaborator,
    CooperationRequest,
    utcnow,
)
from portal.services import lifecycle as lifecycle_service
from portal.services import workflow
from portal.services.audit import Actor

S = Status
_seq = itertools.count(1)
OPEN = {S.SUBMITTED, S.PENDING_ASSIGNMENT, S.IN_PROGRESS, S.AWAITING_CUSTOMER, S.PENDING_ACCEPTANCE}
WORKING = {S.IN_PROGRESS, S.AWAITING_CUSTOMER}
STAFF_ROLES = {"agent", "supervisor", "dispatcher", "engineer", "admin"}
# who counts as "the customer" of a request: the contact, an org admin, and a colleague only
# where the organisation lets colleagues reply
CUSTOMERS = {"contact", "org_admin", "colleague_may_reply"}

# action: (from which states, who may, target status or None when it stays)
EXPECTED: dict[str, tuple[set, set, Status | None]] = {
    "classify": ({S.SUBMITTED}, {"supervisor"}, S.PENDING_ASSIGNMENT),
    "reclassify": (OPEN - {S.SUBMITTED}, {"supervisor"}, None),
    "plan_classify": ({S.SUBMITTED}, {"system"}, S.PENDING_ASSIGNMENT),
    "plan_assign": ({S.PENDING_ASSIGNMENT}, {"system"}, S.IN_PROGRESS),
    "assign": ({S.PENDING_ASSIGNMENT}, {"dispatcher", "supervisor"}, S.IN_PROGRESS),
    "reassign": (WORKING, {"dispatcher", "supervisor"}, None),
    "confirm_assignment": (WORKING, {"handler"}, None),
    "add_collaborator": (
        WORKING | {S.PENDING_ACCEPTANCE},
        {"dispatcher", "supervisor", "handler"},
        None,
    ),
    "log_step": (WORKING, {"handler", "collaborator"}, None),
    "update_record": (WORKING | {S.PENDING_ACCEPTANCE}, {"handler"}, None),
    "ask_customer": ({S.IN_PROGRESS}, {"handler"}, S.AWAITING_CUSTOMER),
    "answer_customer": ({S.AWAITING_CUSTOMER}, CUSTOMERS, S.IN_PROGRESS),
    "deliver": ({S.IN_PROGRESS}, {"handler"}, S.PENDING_ACCEPTANCE),
    "accept_pass": ({S.PENDING_ACCEPTANCE}, CUSTOMERS, S.COMPLETED),
    "accept_fail": ({S.PENDING_ACCEPTANCE}, CUSTOMERS, S.IN_PROGRESS),
    "countersign": ({S.COMPLETED, S.CLOSED}, {"handler"}, None),
    "give_feedback": ({S.COMPLETED}, CUSTOMERS, S.CLOSED),
    "record_feedback": ({S.COMPLETED}, {"agent", "supervisor"}, S.CLOSED),
    "close_timeout": ({S.COMPLETED}, {"system"}, S.CLOSED),
    "cancel": ({S.SUBMITTED, S.PENDING_ASSIGNMENT}, CUSTOMERS, S.CANCELLED),
    "reply_public": (
        OPEN | {S.COMPLETED},
        CUSTOMERS | {"handler", "collaborator", "agent", "supervisor", "dispatcher"},
        None,
    ),
    "note_internal": (
        OPEN | {S.COMPLETED, S.CLOSED},
        STAFF_ROLES | {"handler", "collaborator"},
        None,
    ),
}

ACTORS = [
    "agent",
    "supervisor",
    "dispatcher",
    "engineer",
    "admin",
    "handler",
    "collaborator",
    "contact",
    "org_admin",
    "colleague",
    "colleague_may_reply",
    "other_org_customer",
    "system",
]


def test_the_table_names_every_action_of_the_state_machine():
    assert set(EXPECTED) == set(lifecycle.TRANSITIONS)


def _expected(action: str, status: Status, actor: str) -> tuple[str, Status | None]:
    sources, allowed, target = EXPECTED[action]
    if status not in sources:
        return "wrong-state", None
    # the handler and collaborator in this test are engineers: they also act as one
    kinds = {actor} | ({"engineer"} if actor in ("handler", "collaborator") else set())
    if not kinds & allowed:
        return "not-allowed", None
    return "ok", target or status


@pytest.fixture
def world(factory, db_session):
    """The people around one request. Rows are added in one flush (no password hashing):
    this fixture runs for each of the ~2,000 combinations."""
    org = factory.organisation()
    open_org = factory.organisation(colleagues_may_reply=True)
    other_org = factory.organisation()
    factory.category("fault", "database")
    n = next(_seq)

    def person(key: str, roles=(), org_=None, admin=False) -> Account:
        kind = "customer" if org_ is not None else "staff"
        return Account(
            kind=kind,
            email=f"sm{n}-{key}@example.com",
            name=f"{key} {n}",
            password_hash="-",
            organisation_id=org_.id if org_ is not None else None,
            is_org_admin=admin,
            roles=[AccountRole(role=r) for r in roles],
        )

    people = {role: person(role, [role]) for role in sorted(STAFF_ROLES)}
    for key in ("handler", "collaborator", "other_engineer"):
        people[key] = person(key, ["engineer"])
    people["contact"] = person("contact", org_=org)
    people["org_admin"] = person("org_admin", org_=org, admin=True)
    people["colleague"] = person("colleague", org_=org)
    people["open_contact"] = person("open_contact", org_=open_org)
    people["colleague_may_reply"] = person("colleague_may_reply", org_=open_org)
    people["other_org_customer"] = person("other", org_=other_org)
    db_session.add_all(people.values())
    db_session.flush()
    people["system"] = None
    return people


def _request(factory, session, world, actor: str, status: Status):
    """A request in ``status`` with a handler, a collaborator, a current assignment and an open
    question to the customer, so every action has what it needs."""
    contact = world["open_contact"] if actor == "colleague_may_reply" else world["contact"]
    now = utcnow()
    sr = factory.request(contact, now=now - timedelta(hours=2))
    handler = world["handler"]
    sr.status = status.value
    sr.handler_id = handler.id
    sr.priority = "P2"
    session.add(
        Assignment(
            request_id=sr.id,
            handler_id=handler.id,
            assigned_by_id=world["dispatcher"].id,
            assigned_at=now - timedelta(hours=1),
        )
    )
    session.add(
        Collaborator(
            request_id=sr.id,
            account_id=world["collaborator"].id,
            interface_person="运维 王工",
            scope="数据库主备切换",
            added_by_id=world["dispatcher"].id,
            added_at=now - timedelta(hours=1),
        )
    )
    if status == S.AWAITING_CUSTOMER:
        sr.paused_since = now - timedelta(minutes=30)
        session.add(
            CooperationRequest(
                request_id=sr.id,
                asked_by_id=handler.id,
                what="请提供测试环境账号",
                asked_at=now - timedelta(minutes=30),
            )
        )
    session.flush()
    return sr, now


def _run(session, action: str, sr, account, world, now, tz: str):
    actor = Actor(account.id if account is not None else None)
    if action in ("classify", "reclassify"):
        data = workflow.ClassificationInput(
            type="fault",
            category="database",
            impact_scope="core",
            urgency="high",
            business_importance="high",
            confirmed_details="电话确认:全部用户无法登录,要求4小时内恢复。",
        )
        return workflow.classify(session, actor, account, sr, data, now, action=action)
    if action in ("assign", "reassign"):
        return workflow.assign(
            session, actor, account, sr, world["other_engineer"].id, now, tz, action=action
        )
    if action == "confirm_assignment":
        return workflow.confirm_assignment(session, actor, account, sr, now, now)
    if action == "add_collaborator":
        return workflow.add_collaborator(
            session, actor, account, sr, world["other_engineer"].id, "测试部 陈工", "回归测试", now
        )
    if action == "log_step":
        step = workflow.StepInput(
            now - timedelta(minutes=5), "远程登录数据库服务器,检查连接池配置", Decimal("0.5")
        )
        return workflow.log_step(session, actor, account, sr, step, now, tz)
    if action == "update_record":
        return workflow.update_record(
            session,
            actor,
            account,
            sr,
            now,
            tz,
            problems="连接池上限过低",
            workaround="临时调大连接池",
            final_result="数据库连接已恢复,用户可正常登录",
        )
    if action == "ask_customer":
        return workflow.ask_customer(
            session, actor, account, sr, "请提供测试环境的管理员账号", now + timedelta(days=1), now
        )
    if action == "answer_customer":
        return workflow.answer_customer(session, actor, account, sr, "账号已通过邮件发送", now)
    if action in ("reply_public", "note_internal"):
        return workflow.post_message(
            session,
            actor,
            account,
            sr,
            "已收到,正在排查数据库日志。",
            now,
            internal=action == "note_internal",
        )
    if action == "cancel":
        return workflow.cancel(session, actor, account, sr, "问题已自行恢复", now)
    # delivery, acceptance, feedback and closing: their own services build on the same
    # lifecycle service; the transition itself is what is under test here
    caps = lifecycle_service.capacities(session, sr, account)
    return lifecycle_service.apply(session, actor, caps, sr, action, now)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("status", list(Status), ids=[s.value for s in Status])
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_every_state_action_and_actor(action, status, actor, factory, db_session, world, app):
    sr, now = _request(factory, db_session, world, actor, status)
    outcome, target = _expected(action, status, actor)
    tz = app.config["PORTAL_TIMEZONE"]
    if outcome == "ok":
        _run(db_session, action, sr, world[actor], world, now, tz)
        assert sr.status == target.value
        event = db_session.scalar(
            select(AuditEvent.action).where(
                AuditEvent.object_id == sr.number, AuditEvent.action == f"request.{action}"
            )
        )
        assert event == f"request.{action}"
    else:
        with pytest.raises(lifecycle.TransitionError) as refused:
            _run(db_session, action, sr, world[actor], world, now, tz)
        assert refused.value.code == outcome
        assert sr.status == status.value
