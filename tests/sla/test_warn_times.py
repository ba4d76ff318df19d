"""The SLA warnings fire at the stored warning instants, computed in WORKING time on the request's
calendar (portal.services.sla.warn_at), never at a share of the wall-clock span: the job and the
sweep read ``response_warn_at`` / ``resolution_warn_at``. A pause removes the warning; the answer
brings it back, moved like the due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal import demo, jobs_sla
from portal.models import Notification, ServiceRequest, SlaEvent, utcnow
from portal.services import lifecycle as lifecycle_service
from portal.services import sla, timers
from portal.services.audit import SYSTEM

SH = ZoneInfo("Asia/Shanghai")
TZ = "Asia/Shanghai"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def contact(factory):
    return factory.customer(factory.organisation())


@pytest.fixture
def dispatcher(factory):
    return factory.staff("dispatcher")


@pytest.fixture
def clock(monkeypatch):
    """The jobs' and the sweep's idea of now."""
    state = {"now": utcnow()}
    monkeypatch.setattr(jobs_sla, "_now", lambda: state["now"])

    def set_now(when: datetime) -> None:
        state["now"] = when

    return set_now


def _apply(session, sr, action, now, *caps):
    return lifecycle_service.apply(session, SYSTEM, set(caps), sr, action, now)


def _events(session, sr):
    return sorted(
        (kind, due)
        for kind, due in session.execute(
            select(SlaEvent.kind, SlaEvent.due_at).where(SlaEvent.request_id == sr.id)
        )
    )


def _deadline(session, sr, kind):
    policy = timers.policy_of(timers.load_policies(session), sr)
    found = [d for d in timers.deadlines_for(sr, policy, TZ) if d.kind == kind]
    return found[0] if found else None


def _candidates(session, now):
    ids, _policies = timers.sweep_candidates(
        session, now, timedelta(seconds=60), timedelta(hours=168)
    )
    return ids


def test_a_p3_warning_counts_working_hours_over_the_weekend(
    db_session, factory, contact, dispatcher, clock
):
    # Friday 16:00: 2 working hours that day, then Monday 09–12 and 13–14 → 6 h = 75 % of 8
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 27, 16))
    assert sr.response_due_at == at(2026, 11, 30, 16)
    assert sr.response_warn_at == at(2026, 11, 30, 14)
    # resolution: 18 of 24 working hours = Friday 2 h, Monday 8 h, Tuesday 8 h
    assert sr.resolution_warn_at == at(2026, 12, 1, 18)
    db_session.commit()
    warn = _deadline(db_session, sr, "response_warn")
    assert (warn.fire_at, warn.due_at) == (at(2026, 11, 30, 14), sr.response_due_at)

    # 75 % of the wall-clock span (72 h) was Sunday 22:00: nothing fires then, nor just before
    for moment in (at(2026, 11, 29, 22, 30), at(2026, 11, 30, 13, 50)):
        assert sr.id not in _candidates(db_session, moment)
        clock(moment)
        assert jobs_sla.sweep()["fired"] == 0
        assert jobs_sla.run_deadline(sr.id, "response_warn", warn.due_epoch) == "early"
        assert _events(db_session, sr) == []

    # the warning instant: the job fires it, once
    clock(at(2026, 11, 30, 14, 0, 30))
    assert jobs_sla.run_deadline(sr.id, "response_warn", warn.due_epoch) == "fired"
    assert _events(db_session, sr) == [("response_warn", sr.response_due_at)]
    told = db_session.scalars(
        select(Notification.recipient_id).where(Notification.kind == "response_warn")
    ).all()
    assert told == [dispatcher.id]
    assert jobs_sla.sweep()["fired"] == 0


def test_the_sweep_fires_a_p3_warning_once_its_working_time_has_come(
    db_session, factory, contact, clock
):
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 27, 16))
    db_session.commit()
    clock(at(2026, 11, 30, 12, 30))  # 5.5 working hours used
    jobs_sla.sweep()
    assert _events(db_session, sr) == []
    clock(at(2026, 11, 30, 14, 1))
    assert sr.id in _candidates(db_session, at(2026, 11, 30, 14, 1))
    jobs_sla.sweep()
    assert _events(db_session, sr) == [("response_warn", at(2026, 11, 30, 16))]


def test_a_p1_warning_is_at_75_percent_of_the_wall_clock_target(
    db_session, factory, contact, clock
):
    submitted = at(2026, 11, 28, 10)  # a Saturday: P1 runs around the clock
    sr = factory.request(contact, urgency="P1", now=submitted)
    assert sr.response_warn_at == submitted + timedelta(hours=1, minutes=30)  # 75 % of 2 h
    assert sr.resolution_warn_at == submitted + timedelta(hours=3)  # 75 % of 4 h
    db_session.commit()
    warn = _deadline(db_session, sr, "response_warn")
    clock(submitted + timedelta(hours=1, minutes=29))
    assert jobs_sla.run_deadline(sr.id, "response_warn", warn.due_epoch) == "early"
    assert _events(db_session, sr) == []
    clock(submitted + timedelta(hours=1, minutes=31))
    assert jobs_sla.run_deadline(sr.id, "response_warn", warn.due_epoch) == "fired"
    assert _events(db_session, sr) == [("response_warn", submitted + timedelta(hours=2))]


def test_no_warning_while_paused_and_a_shifted_one_after_the_answer(
    db_session, factory, contact, clock
):
    submitted = at(2026, 11, 28, 10)
    sr = factory.request(contact, urgency="P1", now=submitted)
    sr.status = "in_progress"
    db_session.flush()
    old_warn = _deadline(db_session, sr, "resolution_warn")
    assert old_warn.fire_at == submitted + timedelta(hours=3)

    _apply(db_session, sr, "ask_customer", submitted + timedelta(minutes=30), "handler")
    # the question is the first response: no response warning any more; the clock is paused
    assert sr.response_warn_at is None and sr.resolution_warn_at is None
    db_session.commit()
    assert _deadline(db_session, sr, "response_warn") is None
    assert _deadline(db_session, sr, "resolution_warn") is None
    moment = old_warn.fire_at + timedelta(minutes=1)
    assert sr.id not in _candidates(db_session, moment)
    clock(moment)
    assert jobs_sla.run_deadline(sr.id, "resolution_warn", old_warn.due_epoch) == "stale"
    jobs_sla.sweep()
    assert _events(db_session, sr) == []

    # answered two hours later: due time and warning both move two hours on
    _apply(
        db_session, sr, "answer_customer", submitted + timedelta(hours=2, minutes=30), "customer"
    )
    assert sr.resolution_due_at == submitted + timedelta(hours=6)
    assert sr.resolution_warn_at == submitted + timedelta(hours=5)
    db_session.commit()
    assert sr.id not in _candidates(db_session, submitted + timedelta(hours=4, minutes=58))
    clock(submitted + timedelta(hours=5, minutes=1))
    jobs_sla.sweep()
    assert _events(db_session, sr) == [("resolution_warn", submitted + timedelta(hours=6))]


def test_a_p3_pause_moves_the_warning_by_working_time(db_session, factory, contact):
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 27, 16))
    sr.status = "in_progress"
    db_session.flush()
    _apply(db_session, sr, "ask_customer", at(2026, 11, 30, 17), "handler")
    assert sr.resolution_warn_at is None
    # answered Tuesday 10:00: 2 working hours paused (Mon 17–18, Tue 09–10), not the night
    _apply(db_session, sr, "answer_customer", at(2026, 12, 1, 10), "customer")
    assert sr.resolution_due_at == at(2026, 12, 2, 18)  # was Wed 16:00, + 2 working hours
    assert sr.resolution_warn_at == at(2026, 12, 2, 11)  # was Tue 18:00, + 2 working hours


def test_a_priority_change_recomputes_the_warning(db_session, factory, contact):
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 27, 16))
    sr.priority = "P1"
    db_session.flush()  # any code path: the flush listener recomputes due and warning times
    assert sr.response_warn_at == at(2026, 11, 27, 17, 30)
    assert sr.resolution_warn_at == at(2026, 11, 27, 19)


def test_a_due_time_set_directly_gets_its_warning_recomputed(db_session, factory, contact):
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 27, 16))
    sr.response_due_at = at(2026, 11, 30, 17)  # e.g. a bulk correction, one working hour later
    db_session.flush()
    assert sr.response_warn_at == at(2026, 11, 30, 15)  # still 2 working hours before due


def test_demo_requests_have_consistent_warning_instants(db_session, app):
    demo.seed(db_session, utcnow(), app.config["PORTAL_TIMEZONE"])
    requests = db_session.scalars(select(ServiceRequest)).all()
    warned = 0
    for sr in requests:
        expected = sla.warn_at(sr, sla.policy_for(db_session, sr))
        response, resolution = expected.response, expected.resolution
        if response is not None and response >= sr.response_due_at:
            response = None
        if resolution is not None and resolution >= sr.resolution_due_at:
            resolution = None
        assert (sr.response_warn_at, sr.resolution_warn_at) == (response, resolution), sr.number
        if sr.first_response_at is not None:
            assert sr.response_warn_at is None, sr.number
        if sr.paused_since is not None or sr.status not in timers.RUNNING:
            assert sr.resolution_warn_at is None, sr.number
        warned += sr.resolution_warn_at is not None
    assert warned > 0
