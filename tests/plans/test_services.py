"""Plans through their services: created and changed (audited, refused at a field), paused and
resumed, and their requests opened once each, numbered, classified and assigned, late ones with
a note. On both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.domain import plans as rules
from portal.models import AuditEvent, DeliveryCriterion, PlanOccurrence, ServiceRequest
from portal.services import audit, plan_opener
from portal.services import plans as plan_service
from tests.plans.helpers import CHECKLIST, make_plan, plan_input

CST = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CST).astimezone(UTC)


@pytest.fixture
def people(factory):
    org = factory.organisation()
    return {
        "contact": factory.customer(org),
        "author": factory.staff("supervisor"),
        "handler": factory.staff("engineer"),
    }


def _open(session, now, app):
    return plan_opener.open_due(session, now, app.config["PORTAL_TIMEZONE"])


def _requests(session, plan):
    return list(
        session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.service_plan_id == plan.id)
            .order_by(ServiceRequest.id)
        )
    )


def test_a_created_plan_is_audited_and_previews_twelve_dates(db_session, people):
    plan = make_plan(
        db_session,
        people["author"],
        people["contact"],
        at(2026, 9, 1, 10),
        handler_id=people["handler"].id,
    )
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "service_plan.created", AuditEvent.object_id == str(plan.id)
        )
    )
    assert event.after["rule"] == "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=1"
    assert event.after["handler"] == people["handler"].name
    assert event.after["contact"] != people["contact"].name  # masked
    preview = plan_service.preview(db_session, plan, at(2026, 9, 1, 10))
    assert len(preview) == 12
    assert (preview[1].occurs_on, preview[1].due_on) == (date(2026, 10, 1), date(2026, 10, 8))


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"title": "  "}, "title", "missing"),
        ({"checklist": "检查日志\n-\n核对补丁"}, "checklist", "empty-item"),
        ({"ends_on": date(2025, 12, 1)}, "end", "before-start"),
        (
            {"rule": rules.RuleChoice(rules.WEEKLY, weekday="MO"), "lead_days": 5},
            "lead_days",
            "longer-than-interval",
        ),
        (
            {"rule": rules.RuleChoice(rules.ADVANCED, advanced="FREQ=MONTHLY;COUNT=1")},
            "rule",
            "no-future",
        ),
        (
            {"rule": rules.RuleChoice(rules.ADVANCED, advanced="FREQ=SECONDLY")},
            "advanced",
            "frequency",
        ),
        ({"priority": "P9"}, "priority", "unknown"),
        ({"contact_id": None}, "contact_id", "unknown"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_writes_nothing(
    db_session, people, changes, field, code
):
    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(plan_service.PlanInputError) as refused:
        make_plan(db_session, people["author"], people["contact"], at(2026, 9, 1, 10), **changes)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_the_opener_opens_each_occurrence_once_numbered_classified_and_assigned(
    db_session, people, app
):
    plan = make_plan(
        db_session,
        people["author"],
        people["contact"],
        at(2026, 9, 20, 10),
        handler_id=people["handler"].id,
        priority="P2",
    )
    db_session.commit()
    assert _open(db_session, at(2026, 10, 8, 8, 59), app)["opened"] == 0  # not yet
    result = _open(db_session, at(2026, 10, 8, 9, 0, 30), app)
    assert result == {"due": 1, "opened": 1, "late": 0}
    assert _open(db_session, at(2026, 10, 8, 9, 5), app)["opened"] == 0  # once
    (sr,) = _requests(db_session, plan)
    assert sr.number.startswith("SR-20261008-")
    assert (sr.type, sr.channel, sr.priority, sr.status) == (
        "delivery",
        "plan",
        "P2",
        "in_progress",
    )
    assert sr.handler_id == people["handler"].id
    assert sr.contact_id == people["contact"].id
    assert sr.expected_completion_at == at(2026, 10, 8, 18)
    for item in CHECKLIST.splitlines():
        assert item in sr.description
    assert "10-01 → 10-08: National Day" in sr.description
    row = db_session.scalar(select(PlanOccurrence).where(PlanOccurrence.plan_id == plan.id))
    assert (row.occurs_on, row.due_on, row.status, row.request_id) == (
        date(2026, 10, 1),
        date(2026, 10, 8),
        "opened",
        sr.id,
    )
    actions = set(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == sr.number))
    )
    assert {"request.submitted", "request.plan_classify", "request.plan_assign"} <= actions


def test_workers_down_for_weeks_open_every_missed_occurrence_once_marked_late(
    db_session, people, app
):
    plan = make_plan(
        db_session,
        people["author"],
        people["contact"],
        at(2026, 9, 20, 10),
        rule=rules.RuleChoice(rules.WEEKLY, weekday="WE"),
        handler_id=people["handler"].id,
    )
    db_session.commit()
    # nothing ran from 20 September until 16 October: the Wednesdays 23 Sep, 30 Sep, 7 Oct
    # (National Day: moved to the 8th) and 14 Oct are all due
    result = _open(db_session, at(2026, 10, 16, 11), app)
    assert result == {"due": 4, "opened": 4, "late": 4}
    rows = list(
        db_session.scalars(
            select(PlanOccurrence)
            .where(PlanOccurrence.plan_id == plan.id)
            .order_by(PlanOccurrence.occurs_on)
        )
    )
    assert [r.occurs_on for r in rows] == [
        date(2026, 9, 23),
        date(2026, 9, 30),
        date(2026, 10, 7),
        date(2026, 10, 14),
    ]
    assert [r.due_on for r in rows][2] == date(2026, 10, 8)
    assert all(r.status == "opened_late" and "Opened late" in r.note for r in rows)
    assert all("Opened late" in sr.description for sr in _requests(db_session, plan))
    assert _open(db_session, at(2026, 10, 16, 12), app)["opened"] == 0


def test_a_change_applies_to_future_occurrences_only(db_session, people, app):
    plan = make_plan(db_session, people["author"], people["contact"], at(2026, 9, 20, 10))
    db_session.commit()
    _open(db_session, at(2026, 10, 8, 10), app)
    (first,) = _requests(db_session, plan)
    changed = plan_service.update(
        db_session,
        audit.Actor(people["author"].id),
        plan,
        plan_input(
            people["contact"],
            rule=rules.RuleChoice(rules.MONTHLY_DAY, day=15),
            title="月度巡检(新)",
        ),
        at(2026, 10, 9, 10),
    )
    assert changed
    db_session.commit()
    db_session.refresh(first)
    assert first.title.startswith("月度系统巡检")  # the opened request stays
    assert _open(db_session, at(2026, 10, 15, 10), app)["opened"] == 1
    titles = [sr.title for sr in _requests(db_session, plan)]
    assert titles[1] == "月度巡检(新) · 2026-10-15"


def test_a_paused_plan_opens_nothing_and_resumes_from_today(db_session, people, app):
    plan = make_plan(db_session, people["author"], people["contact"], at(2026, 9, 20, 10))
    actor = audit.Actor(people["author"].id)
    assert plan_service.pause(db_session, actor, plan, at(2026, 9, 25, 10))
    db_session.commit()
    assert _open(db_session, at(2026, 10, 8, 10), app)["due"] == 0
    assert plan_service.resume(db_session, actor, plan, at(2026, 10, 20, 10))
    db_session.commit()
    # October's occurrence fell in the pause: not opened late; November's opens on time
    assert _open(db_session, at(2026, 10, 21, 10), app)["due"] == 0
    assert _open(db_session, at(2026, 11, 2, 10), app) == {"due": 1, "opened": 1, "late": 0}
    actions = list(
        db_session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_id == str(plan.id))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["service_plan.created", "service_plan.paused", "service_plan.resumed"]


def test_a_plan_without_a_handler_waits_for_the_dispatcher(db_session, people, app, factory):
    dept = factory.department()
    plan = make_plan(
        db_session, people["author"], people["contact"], at(2026, 9, 20, 10), department_id=dept.id
    )
    db_session.commit()
    _open(db_session, at(2026, 10, 8, 10), app)
    (sr,) = _requests(db_session, plan)
    assert (sr.status, sr.handler_id) == ("pending_assignment", None)


def test_the_lead_time_opens_the_request_working_days_ahead(db_session, people, app):
    make_plan(db_session, people["author"], people["contact"], at(2026, 9, 20, 10), lead_days=2)
    db_session.commit()
    # due 10-08; two working days before: 09-29 (the holiday week does not count)
    assert _open(db_session, at(2026, 9, 28, 17), app)["opened"] == 0
    assert _open(db_session, at(2026, 9, 29, 9, 1), app)["opened"] == 1


def test_an_occurrence_read_before_the_plan_changed_is_not_opened(db_session, people, app):
    plan = make_plan(db_session, people["author"], people["contact"], at(2026, 9, 20, 10))
    db_session.commit()
    items = plan_opener.due(db_session, at(2026, 10, 8, 10))
    assert [i.occurrence.occurs_on for i in items] == [date(2026, 10, 1)]
    # meanwhile the plan moved to the 15th: what was read no longer holds
    plan_service.update(
        db_session,
        audit.Actor(people["author"].id),
        plan,
        plan_input(people["contact"], rule=rules.RuleChoice(rules.MONTHLY_DAY, day=15)),
        at(2026, 10, 8, 10),
    )
    db_session.commit()
    assert (
        plan_opener.open_occurrence(db_session, items[0], at(2026, 10, 8, 10), "Asia/Shanghai")
        is None
    )
    assert _requests(db_session, plan) == []


def _deliver(db_session, sr, handler, when, app):
    from portal.services import delivery as delivery_service

    return delivery_service.deliver(
        db_session,
        audit.Actor(handler.id),
        handler,
        sr,
        when,
        app.config["PORTAL_TIMEZONE"],
        service_item="系统巡检服务",
        items=["《月度巡检报告》已上传,共检查服务器12台,发现2项需处理"],
        criteria=CHECKLIST.splitlines(),
        folder=app.config["UPLOAD_FOLDER"],
        max_bytes=1024,
    )


def test_occurrences_read_delivered_on_time_late_open_and_upcoming(db_session, people, app):
    from portal.services import delivery as delivery_service
    from portal.services import plan_pages

    plan = make_plan(
        db_session,
        people["author"],
        people["contact"],
        at(2026, 9, 20, 10),
        handler_id=people["handler"].id,
    )
    db_session.commit()
    _open(db_session, at(2026, 10, 8, 10), app)
    _open(db_session, at(2026, 11, 2, 10), app)
    _open(db_session, at(2026, 12, 1, 10), app)
    october, november, december = _requests(db_session, plan)
    # October delivered on its due day, November the day after its due day
    _deliver(db_session, october, people["handler"], at(2026, 10, 8, 17), app)
    _deliver(db_session, november, people["handler"], at(2026, 11, 3, 10), app)
    db_session.commit()
    # the customer accepts October's like any delivery: with its checklist as the criteria
    dlv = delivery_service.latest(db_session, october.id)
    criteria = db_session.scalars(
        select(DeliveryCriterion.id).where(DeliveryCriterion.delivery_id == dlv.id)
    ).all()
    delivery_service.accept(
        db_session,
        audit.Actor(people["contact"].id),
        people["contact"],
        october,
        at(2026, 10, 9, 10),
        result="pass",
        met_ids=set(criteria),
        typed_name=people["contact"].name,
        shown_hash=dlv.content_hash,
    )
    db_session.commit()
    assert october.status == "completed"
    page = plan_pages.plan_page(db_session, plan, at(2026, 12, 1, 11))
    assert [(o.due_on, o.status) for o in page.occurrences] == [
        (date(2026, 12, 1), "open"),
        (date(2026, 11, 2), "late"),
        (date(2026, 10, 8), "on_time"),
    ]
    assert page.preview[0].occurrence.due_on == date(2026, 12, 1)
    assert page.preview[0].number == december.number  # already opened: the preview links it
    assert page.preview[1].number is None  # January: upcoming
