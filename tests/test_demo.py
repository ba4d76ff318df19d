"""The demo seed (portal.demo): every request walked through the services the pages use, so that
its audit trail, notifications and SLA timers are what real use would have left."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal import demo
from portal.demo import course
from portal.demo.scenario import DayAt, HoursAgo, Scenario
from portal.demo.scenarios import SCENARIOS
from portal.domain import lifecycle
from portal.domain.vocabulary import RequestType, Status
from portal.models import (
    Assignment,
    AuditEvent,
    Delivery,
    Feedback,
    Notification,
    PlanOccurrence,
    ServicePlan,
    ServiceRequest,
    Signature,
)
from portal.services import audit, timers

# a Wednesday morning on the desk's clock, with no public holiday in the ten days before it
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"


@pytest.fixture
def seeded(db_session):
    result = demo.seed(db_session, NOW, TZ)
    assert result.created
    return db_session


def _replay(events: list[AuditEvent]) -> str:
    """The status a request's audit trail leads to, each lifecycle event checked against the
    state machine (portal.domain.lifecycle) from the state the events before it left."""
    assert events[0].action == "request.submitted", events[0].action
    status = events[0].after["status"]
    for e in events[1:]:
        action = e.action.removeprefix("request.")
        transition = lifecycle.TRANSITIONS.get(action)
        if transition is None:  # the SLA clock's own entries (recomputed, resumed)
            continue
        assert Status(status) in transition.sources, (e.object_id, action, status)
        assert e.before["status"] == status, (e.object_id, action)
        status = (transition.target or Status(status)).value
        assert e.after["status"] == status, (e.object_id, action)
    return status


def test_every_demo_request_got_its_status_through_the_services(seeded):
    session = seeded
    assert audit.verify(session) is None  # the chain is whole

    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    times = [e.occurred_at for e in events]
    assert times == sorted(times), "the demo's actions happened in time order"
    assert times[-1] <= NOW

    requests = {
        sr.title: sr
        for sr in session.scalars(
            select(ServiceRequest).where(ServiceRequest.service_plan_id.is_(None))
        )
    }
    assert sorted(requests) == sorted(s.title for s in SCENARIOS)
    for s in SCENARIOS:
        sr = requests[s.title]
        assert sr.status == s.outcome, s.title
        trail = [
            e for e in events if e.object_type == "service_request" and e.object_id == sr.number
        ]
        assert _replay(trail) == sr.status, sr.number

    # every form has the events of its making: the delivery, each signature, the feedback
    for dlv in session.scalars(select(Delivery)):
        own = [
            e.action for e in events if e.object_type == "delivery" and e.object_id == dlv.number
        ]
        signatures = session.scalars(select(Signature).where(Signature.delivery_id == dlv.id)).all()
        assert own == ["delivery.delivered"] + ["delivery.signed"] * len(signatures), dlv.number
    for fb in session.scalars(select(Feedback)):
        assert [e.action for e in events if e.object_id == fb.number] == ["feedback.given"]


def test_the_demo_has_a_monthly_and_a_quarterly_plan_whose_due_request_was_opened(seeded):
    session = seeded
    plans = {p.title: p for p in session.scalars(select(ServicePlan))}
    assert plans["月度系统巡检"].rule == "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=1"
    assert plans["季度功能优化"].rule == "FREQ=YEARLY;BYMONTH=1,4,7,10;BYDAY=+1MO"
    # 1 November 2026 is a Sunday: due Monday the 2nd, opened two working days before, on time
    (occ,) = session.scalars(select(PlanOccurrence)).all()
    assert (occ.occurs_on, occ.due_on, occ.status) == (
        date(2026, 11, 1),
        date(2026, 11, 2),
        "opened",
    )
    sr = session.get(ServiceRequest, occ.request_id)
    assert (sr.type, sr.channel, sr.status) == ("delivery", "plan", "in_progress")
    assert sr.submitted_at == datetime(2026, 10, 29, 1, 0, tzinfo=UTC)  # 09:00 desk time
    trail = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == sr.number).order_by(AuditEvent.id)
    ).all()
    assert _replay(list(trail)) == "in_progress"


def test_the_desk_has_no_timer_to_catch_up_on_and_notifications_carry_their_time(seeded):
    session = seeded
    # the SLA timers fired while the demo's days went by: none is left overdue for the worker,
    # so the requests stay as seeded when the desk starts (completed ones still await feedback)
    policies = timers.load_policies(session)
    overdue = [
        d
        for sr in session.scalars(select(ServiceRequest))
        for d in timers.deadlines_for(sr, timers.policy_of(policies, sr), TZ)
        if d.fire_at <= NOW
    ]
    assert timers.drop_fired(session, overdue) == []

    # a notification is dated when it was sent, not when the demo was seeded
    for assignment in session.scalars(select(Assignment)):
        sent = session.scalars(
            select(Notification.created_at).where(
                Notification.kind == "assigned",
                Notification.dedupe_key == f"assigned:{assignment.id}",
            )
        ).one()
        assert sent == assignment.assigned_at
    assert max(session.scalars(select(Notification.created_at))) <= NOW


def test_a_scenario_that_would_run_past_now_is_refused():
    late = Scenario(
        contact="li",
        title="Late",
        description="…",
        type=RequestType.FAULT,
        category="login",
        urgency="P2",
        submitted=HoursAgo(1),
        outcome=Status.CLOSED,
        priority="P2",
        handler="eng1",
        steps=(("检查登录服务日志", "0.5"),),
        scores=(5, 5, 5),
    )
    with pytest.raises(ValueError, match="Late"):
        course.plan([late], NOW, TZ)
    # the same request submitted a week earlier has its whole course behind it
    early = Scenario(**{**late.__dict__, "submitted": DayAt(7, "10:00")})
    _ordered, actions = course.plan([early], NOW, TZ)
    assert actions[-1].action == "feedback" and actions[-1].at <= NOW


def test_the_retail_group_is_on_its_gold_policy_made_through_the_service(seeded):
    from datetime import timedelta

    from portal.models import Organisation
    from portal.services import sla_policies

    session = seeded
    star = session.scalar(select(Organisation).where(Organisation.code == "STAR"))
    builtin = sla_policies.builtin_policy(session)
    assert star.sla_policy_id is not None and star.sla_policy_id != builtin.id
    p1 = session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.organisation_id == star.id, ServiceRequest.priority == "P1"
        )
    ).all()
    assert p1
    for sr in p1:
        assert sr.response_due_at - sr.submitted_at == timedelta(hours=1)
        assert sr.resolution_due_at - sr.submitted_at >= timedelta(hours=2)
    changes = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "organisation.updated", AuditEvent.object_id == str(star.id)
        )
    ).all()
    assert [(e.before, e.after) for e in changes] == [
        ({"sla_policy": "标准"}, {"sla_policy": "金牌"})
    ]
    assert all(e.actor_id is not None for e in changes)  # the demo's admin did it
