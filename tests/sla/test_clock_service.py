"""The SLA clock of a request in the database (portal/services/sla.py, calendars.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update

from portal.models import (
    AuditEvent,
    Calendar,
    CalendarOverride,
    Organisation,
    SlaPause,
    SlaPolicy,
)
from portal.services import calendars, sla, sla_policies, timers
from portal.services import lifecycle as lifecycle_service
from portal.services.audit import SYSTEM

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def rescheduled(monkeypatch):
    calls: list[int] = []
    original = timers.reschedule

    def spy(session, sr):
        calls.append(sr.id)
        return original(session, sr)

    monkeypatch.setattr(timers, "reschedule", spy)
    return calls


@pytest.fixture
def contact(factory):
    return factory.customer(factory.organisation())


def _apply(session, sr, action, now, *caps):
    return lifecycle_service.apply(session, SYSTEM, set(caps), sr, action, now)


def test_submission_sets_both_due_times_from_the_proposed_urgency(
    factory, contact, db_session, rescheduled
):
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 30, 17))
    assert sr.response_due_at == at(2026, 10, 8, 17)
    assert sr.resolution_due_at == at(2026, 10, 10, 17)  # make-up Saturday
    assert sr.id in rescheduled
    # the defaults of docs/product.md §4 exist (created with the schema) as the built-in
    # policy, the request is stamped with its current version, and there is a calendar
    builtin = sla_policies.builtin_policy(db_session)
    assert sr.sla_policy_version_id == sla_policies.current_version(db_session, builtin.id).id
    defaults = sla_policies.current_targets(db_session, builtin)
    assert [
        (p.priority, p.respond_amount, p.respond_unit, p.resolve_amount, p.resolve_unit)
        for p in defaults
    ] == [
        ("P1", 2, "hours", 4, "hours"),
        ("P2", 4, "hours", 24, "hours"),
        ("P3", 8, "working_hours", 3, "working_days"),
    ]
    assert db_session.scalar(select(Calendar.country).order_by(Calendar.id).limit(1)) == "CN"


def test_with_the_defaults_deleted_a_submission_counts_on_the_templates_values_unwritten(
    factory, contact, db_session
):
    """A database whose default policies and calendar are gone (deleted by hand, or filled
    before they existed) degrades to the template's values in memory; nothing recreates them
    behind the admins' backs."""
    db_session.execute(delete(SlaPolicy))
    db_session.execute(update(Organisation).values(calendar_id=None))
    db_session.execute(delete(CalendarOverride))
    db_session.execute(delete(Calendar))
    db_session.flush()
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 30, 17))
    # the same due times as on the default calendar (National Day, the make-up Saturday)
    assert (sr.response_due_at, sr.resolution_due_at) == (at(2026, 10, 8, 17), at(2026, 10, 10, 17))
    assert sla.policy_for(db_session, sr).respond_unit == "working_hours"
    db_session.flush()
    assert db_session.scalar(select(func.count()).select_from(SlaPolicy)) == 0
    assert db_session.scalar(select(func.count()).select_from(Calendar)) == 0


def test_spring_festival_submission(factory, contact):
    sr = factory.request(contact, urgency="P3", now=at(2026, 2, 13, 16))
    assert (sr.response_due_at, sr.resolution_due_at) == (at(2026, 2, 14, 16), at(2026, 2, 25, 16))


def test_p1_runs_around_the_clock(factory, contact):
    sr = factory.request(contact, urgency="P1", now=at(2026, 11, 28, 10))  # a Saturday
    assert (sr.response_due_at, sr.resolution_due_at) == (
        at(2026, 11, 28, 12),
        at(2026, 11, 28, 14),
    )


def test_a_2027_submission_uses_the_fallback_without_crashing(factory, contact):
    sr = factory.request(contact, urgency="P3", now=at(2027, 2, 4, 17))
    assert (sr.response_due_at, sr.resolution_due_at) == (at(2027, 2, 11, 17), at(2027, 2, 15, 17))


def test_confirmed_priority_recomputes_from_submission(factory, contact, db_session, rescheduled):
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 30, 17))
    rescheduled.clear()
    # the classification service sets the priority after the transition: both orders work
    _apply(db_session, sr, "classify", at(2026, 9, 30, 17, 30), "supervisor")
    sr.priority = "P1"
    db_session.flush()
    assert (sr.response_due_at, sr.resolution_due_at) == (at(2026, 9, 30, 19), at(2026, 9, 30, 21))
    assert sr.id in rescheduled
    # a change back to P3 (priority set before the transition this time)
    sr.priority = "P3"
    _apply(db_session, sr, "reclassify", at(2026, 9, 30, 18), "supervisor")
    assert (sr.response_due_at, sr.resolution_due_at) == (at(2026, 10, 8, 17), at(2026, 10, 10, 17))
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == sr.number)
    ).all()
    assert actions.count("request.sla_recomputed") == 2


def test_an_organisation_has_its_own_policy_and_calendar(factory, db_session):
    berlin = Calendar(
        name="Berlin office",
        timezone="Europe/Berlin",
        country="DE",
        working_hours={str(d): [["08:00", "16:00"]] for d in range(5)},
    )
    db_session.add(berlin)
    db_session.flush()
    org = factory.organisation(calendar_id=berlin.id)
    policy = sla_policies.create(db_session, SYSTEM, at(2026, 12, 1), "Berlin", None)
    targets = sla_policies.current_targets(db_session, policy)
    targets[2] = sla_policies.Targets("P3", 4, "working_hours", 2, "working_days", 75, 60)
    sla_policies.update_targets(db_session, SYSTEM, at(2026, 12, 1), policy, targets)
    sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 12, 1), org, policy)
    contact = factory.customer(org)
    be = ZoneInfo("Europe/Berlin")
    # Thu 24 Dec 2026 15:00 Berlin: 1 h that day, 25 Dec and the weekend off, Mon 28 Dec
    sr = factory.request(contact, urgency="P3", now=datetime(2026, 12, 24, 15, tzinfo=be))
    assert sr.response_due_at == datetime(2026, 12, 28, 11, tzinfo=be)
    assert sr.resolution_due_at == datetime(2026, 12, 29, 15, tzinfo=be)
    # its other priorities are the built-in policy's, copied when the policy was made
    p1 = sla.policy_for_priority(db_session, org.id, "P1")
    assert (p1.respond_amount, p1.respond_unit, p1.resolve_amount) == (2, "hours", 4)
    assert p1.version_id == sr.sla_policy_version_id


def test_an_override_moves_due_times(factory, contact, db_session):
    china = calendars.default_calendar(db_session)
    calendars.set_override(
        db_session, SYSTEM, at(2026, 9, 1), china.id, date(2026, 10, 8), "holiday", "office move"
    )
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 30, 17))
    assert sr.response_due_at == at(2026, 10, 9, 17)
    assert sr.resolution_due_at == at(2026, 10, 12, 17)


def test_awaiting_the_customer_pauses_and_the_answer_moves_the_due_time(
    factory, contact, db_session, rescheduled
):
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 30, 17))
    sr.status = "in_progress"
    db_session.flush()
    _apply(db_session, sr, "ask_customer", at(2026, 10, 8, 16), "handler")
    assert sr.paused_since == at(2026, 10, 8, 16) and sr.first_response_at == at(2026, 10, 8, 16)
    assert sr.resolution_due_at == at(2026, 10, 10, 17)  # unchanged while paused
    rescheduled.clear()
    _apply(db_session, sr, "answer_customer", at(2026, 10, 9, 10), "customer")
    # 3 working hours paused (16–18 and 09–10); the night did not count
    assert sr.resolution_due_at == at(2026, 10, 12, 11)
    assert sr.paused_since is None and sr.paused_seconds == 18 * 3600
    pause = db_session.scalars(select(SlaPause).where(SlaPause.request_id == sr.id)).one()
    assert (pause.reason, pause.started_at, pause.ended_at) == (
        "awaiting_customer",
        at(2026, 10, 8, 16),
        at(2026, 10, 9, 10),
    )
    assert sr.id in rescheduled
    # a later change of priority keeps the paused time
    sr.priority = "P3"
    _apply(db_session, sr, "reclassify", at(2026, 10, 9, 11), "supervisor")
    assert sr.resolution_due_at == at(2026, 10, 12, 11)


def test_a_p1_pause_moves_the_due_time_by_the_wall_clock(factory, contact, db_session):
    sr = factory.request(contact, urgency="P1", now=at(2026, 11, 28, 10))
    sr.status = "in_progress"
    _apply(db_session, sr, "ask_customer", at(2026, 11, 28, 11), "handler")
    _apply(db_session, sr, "answer_customer", at(2026, 11, 28, 12, 30), "customer")
    assert sr.resolution_due_at == at(2026, 11, 28, 15, 30)


def test_acceptance_pauses_a_failed_one_resumes_a_passed_one_stops(factory, contact, db_session):
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 23, 9))  # Monday
    assert sr.resolution_due_at == at(2026, 11, 25, 18)
    sr.status = "in_progress"
    _apply(db_session, sr, "deliver", at(2026, 11, 24, 9), "handler")
    assert sr.paused_since == at(2026, 11, 24, 9)
    _apply(db_session, sr, "accept_fail", at(2026, 11, 24, 15), "customer")
    # 5 working hours (09–12, 13–15) waited for the customer
    assert sr.paused_since is None
    assert sr.resolution_due_at == at(2026, 11, 26, 15)
    _apply(db_session, sr, "deliver", at(2026, 11, 25, 10), "handler")
    _apply(db_session, sr, "accept_pass", at(2026, 11, 27, 10), "customer")
    assert sr.paused_since is None and sr.status == "completed"
    assert sr.resolution_due_at == at(2026, 11, 26, 15)  # met at delivery: not moved
    pauses = db_session.scalars(select(SlaPause).where(SlaPause.request_id == sr.id)).all()
    assert [(p.reason, p.ended_at) for p in pauses] == [
        ("pending_acceptance", at(2026, 11, 24, 15)),
        ("pending_acceptance", at(2026, 11, 27, 10)),
    ]


def test_warn_times_for_the_timers(factory, contact, db_session):
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 30, 17))
    policy = sla.policy_for(db_session, sr)
    assert policy.warn_percent == 75
    warn = sla.warn_at(sr, policy)
    # 75 % of 8 working hours = 6 h: 1 h on Sep 30, then Oct 8 09–12, 13–15
    assert warn.response == at(2026, 10, 8, 15)
    assert warn.resolution == at(2026, 10, 10, 10)
    sr.paused_since = at(2026, 10, 8, 9)
    assert sla.warn_at(sr, policy).resolution is None


# --- the calendar service --------------------------------------------------------------------


def test_missing_schedule_years(db_session):
    china = calendars.default_calendar(db_session)
    assert calendars.missing_schedule_years(db_session, date(2026, 5, 1)) == []
    assert calendars.missing_schedule_years(db_session, date(2026, 11, 26)) == [2027]
    assert calendars.missing_schedule_years(db_session, date(2027, 3, 1)) == [2027]
    # an admin's own override does not count as the official schedule
    calendars.set_override(
        db_session, SYSTEM, at(2026, 11, 26), china.id, date(2027, 1, 4), "holiday"
    )
    assert calendars.missing_schedule_years(db_session, date(2026, 11, 26)) == [2027]
    calendars.import_notice(
        db_session, SYSTEM, at(2026, 11, 26), china.id, "2027-01-01 holiday 元旦\n", 2027
    )
    assert calendars.missing_schedule_years(db_session, date(2026, 11, 26)) == []


def test_importing_a_notice_replaces_the_earlier_import_and_keeps_own_overrides(db_session):
    china = calendars.default_calendar(db_session)
    now = at(2026, 11, 26)
    calendars.set_override(
        db_session, SYSTEM, now, china.id, date(2027, 3, 8), "holiday", "our day"
    )
    first = calendars.import_notice(
        db_session,
        SYSTEM,
        now,
        china.id,
        "2027-02-05..2027-02-11 holiday 春节\n2027-02-13 workday 春节\n2027-02-14 workday 春节",
        2027,
    )
    assert (first.holidays, first.workdays) == (7, 2)
    calendars.import_notice(
        db_session,
        SYSTEM,
        now,
        china.id,
        "二、春节:2月6日至12日放假调休,共7天。2月20日(周六)上班。",
        2027,
    )
    rows = {
        o.day: o.kind
        for o in db_session.scalars(
            select(CalendarOverride).where(CalendarOverride.calendar_id == china.id)
        )
    }
    assert date(2027, 2, 5) not in rows and date(2027, 2, 13) not in rows  # replaced
    assert rows[date(2027, 2, 12)] == "holiday" and rows[date(2027, 2, 20)] == "workday"
    assert rows[date(2027, 3, 8)] == "holiday"  # the admin's own override stays
    domain = calendars.load(db_session, china)
    assert domain.day(date(2027, 2, 20)).kind == "makeup"
    assert domain.day(date(2027, 2, 20)).name == "春节"
    audit = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "calendar")
    ).all()
    assert audit.count("calendar.notice_imported") == 2


def test_an_unreadable_notice_is_refused(db_session):
    china = calendars.default_calendar(db_session)
    with pytest.raises(calendars.NoticeError) as exc:
        calendars.import_notice(
            db_session, SYSTEM, at(2026, 11, 26), china.id, "2027-13-01 off", 2027
        )
    assert [str(e) for e in exc.value.errors] == ["line 1: 2027-13-01 is not a date"]
    with pytest.raises(calendars.NoticeError):
        calendars.import_notice(db_session, SYSTEM, at(2026, 11, 26), china.id, "hello", 2027)
