"""SLA timers in-process (rolled back per test): which deadlines a request has, one job per
deadline scheduled after commit under a deterministic id, each event recorded once with its
notifications, e-mails and audit entry, stale jobs doing nothing, and the sweep reading only what
is due. The real-worker cases are in test_timers_live.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from portal import jobs_sla
from portal.models import (
    AuditEvent,
    Calendar,
    EmailOutbox,
    Feedback,
    ImprovementMeasure,
    Notification,
    Organisation,
    ServiceRequest,
    SlaEvent,
    utcnow,
)
from portal.services import escalation, sla_policies, timers
from portal.services.audit import SYSTEM

TZ = "Asia/Shanghai"


@pytest.fixture
def queue(redis_url):
    return Queue("default", connection=Redis.from_url(redis_url))


@pytest.fixture
def people(factory):
    return {
        "supervisor": factory.staff("supervisor"),
        "admin": factory.staff("admin"),
        "dispatcher": factory.staff("dispatcher"),
        "engineer": factory.staff("engineer"),
        "customer": factory.customer(),
    }


def _request(factory, contact, *, due, submitted=None, status="pending_assignment", **fields):
    sr = factory.request(contact, now=submitted or due - timedelta(hours=4))
    sr.priority = "P2"
    sr.status = status
    sr.response_due_at = None
    sr.first_response_at = sr.submitted_at
    sr.resolution_due_at = due
    for k, v in fields.items():
        setattr(sr, k, v)
    factory.session.flush()  # the SLA service stores the warning instants for these due times
    return sr


def _events(session, request_id, kind=None):
    stmt = select(SlaEvent.kind).where(SlaEvent.request_id == request_id)
    if kind:
        stmt = stmt.where(SlaEvent.kind == kind)
    return sorted(session.scalars(stmt))


def _fire_now(session, sr, kind):
    """Run the deadline's job as a worker would, at a moment when it is due."""
    policy = timers.policy_of(timers.load_policies(session), sr)
    [dl] = [d for d in timers.deadlines_for(sr, policy, TZ) if d.kind == kind]
    return jobs_sla.run_deadline(sr.id, kind, dl.due_epoch), dl


# --- which deadlines ---------------------------------------------------------------------------


def test_deadlines_of_a_running_request_warn_at_75_percent_then_escalate_twice(factory, people):
    due = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
    sr = _request(factory, people["customer"], due=due, submitted=due - timedelta(hours=24))
    found = {d.kind: d for d in timers.deadlines_for(sr, timers.Policy(75, 60), TZ)}
    assert set(found) == {"resolution_warn", "resolution_breach", "resolution_escalation"}
    # P2 resolves in 24 h on the 24x7 clock: the warning at 75 % of it, as stored on the request
    assert found["resolution_warn"].fire_at == sr.submitted_at + timedelta(hours=18)
    assert found["resolution_warn"].fire_at == sr.resolution_warn_at
    assert found["resolution_warn"].due_at == due
    assert found["resolution_breach"].fire_at == due
    assert found["resolution_escalation"].fire_at == due + timedelta(minutes=60)
    assert (
        found["resolution_breach"].job_id == f"sla-{sr.id}-resolution_breach-{int(due.timestamp())}"
    )


def test_paused_or_delivered_requests_have_no_resolution_deadlines(factory, people):
    due = utcnow() + timedelta(hours=1)
    paused = _request(factory, people["customer"], due=due, status="awaiting_customer")
    paused.paused_since = utcnow()
    delivered = _request(factory, people["customer"], due=due, status="pending_acceptance")
    for sr in (paused, delivered):
        assert timers.deadlines_for(sr, timers.Policy(), TZ) == []


def test_assigned_without_a_step_is_overdue_not_started_after_the_response_span(factory, people):
    now = utcnow()
    sr = _request(factory, people["customer"], due=now + timedelta(days=1), status="in_progress")
    sr.submitted_at = now - timedelta(hours=1)
    sr.response_due_at = sr.submitted_at + timedelta(hours=4)
    sr.handler_id = people["engineer"].id
    sr.assigned_at = now - timedelta(minutes=30)
    kinds = {d.kind: d for d in timers.deadlines_for(sr, timers.Policy(), TZ)}
    assert kinds["not_started"].fire_at == sr.assigned_at + timedelta(hours=4)
    sr.work_started_at = now  # a step was logged
    assert "not_started" not in {d.kind for d in timers.deadlines_for(sr, timers.Policy(), TZ)}


def test_a_completed_request_has_its_feedback_invitation_reminder_and_closing(factory, people):
    # completed Friday 2026-02-13 16:00 Shanghai: the window counts working days (make-up
    # Saturday 2026-02-14 is a working day; the Spring Festival holiday follows)
    completed = datetime(2026, 2, 13, 8, 0, tzinfo=UTC)
    sr = _request(factory, people["customer"], due=completed, status="completed")
    sr.completed_at = completed
    kinds = {d.kind: d for d in timers.deadlines_for(sr, timers.Policy(), TZ)}
    assert kinds["feedback_invite"].fire_at == completed
    reminder, end = kinds["feedback_reminder"].fire_at, kinds["feedback_close"].fire_at
    assert completed < reminder < end
    assert end - completed >= timedelta(days=3)  # never shorter than three calendar days


# --- scheduling after commit -------------------------------------------------------------------


def test_timers_are_scheduled_after_commit_under_deterministic_ids(
    db_session, factory, people, queue
):
    # P2: 24 h to resolve, the warning at 18 h (14 h from now), the breach in 20 h
    due = utcnow() + timedelta(hours=20)
    sr = _request(factory, people["customer"], due=due, submitted=due - timedelta(hours=24))
    assert queue.scheduled_job_registry.get_job_ids() == []  # not before the commit
    db_session.commit()
    ids = set(queue.scheduled_job_registry.get_job_ids())
    epoch = int(due.timestamp())
    assert {
        f"sla-{sr.id}-resolution_warn-{epoch}",
        f"sla-{sr.id}-resolution_breach-{epoch}",
        f"sla-{sr.id}-resolution_escalation-{epoch}",
    } <= ids

    # the same change committed again schedules the same jobs, not more
    timers.reschedule(db_session, sr)
    db_session.commit()
    assert set(queue.scheduled_job_registry.get_job_ids()) == ids

    # a new due time: new ids; the old jobs find their deadline gone (see the stale test)
    sr.resolution_due_at = due + timedelta(hours=1)
    db_session.commit()
    assert f"sla-{sr.id}-resolution_breach-{epoch + 3600}" in (
        queue.scheduled_job_registry.get_job_ids()
    )


def test_a_rolled_back_change_schedules_nothing(db_session, factory, people, queue):
    _request(factory, people["customer"], due=utcnow() + timedelta(hours=2))
    db_session.rollback()
    factory.organisation()
    db_session.commit()
    assert queue.scheduled_job_registry.get_job_ids() == []


# --- firing once -------------------------------------------------------------------------------


def test_breach_escalates_to_supervisors_once_with_mail_and_audit(db_session, factory, people):
    sup2 = factory.staff("supervisor", "dispatcher", locale="zh_CN")
    sr = _request(factory, people["customer"], due=utcnow() - timedelta(seconds=5))
    db_session.commit()

    outcome, dl = _fire_now(db_session, sr, "resolution_breach")
    assert outcome == "fired"
    assert _events(db_session, sr.id, "resolution_breach") == ["resolution_breach"]
    told = db_session.execute(
        select(Notification.recipient_id).where(Notification.kind == "resolution_breach")
    ).all()
    assert sorted(r for (r,) in told) == sorted([people["supervisor"].id, sup2.id])
    mails = db_session.scalars(select(EmailOutbox).order_by(EmailOutbox.to_address)).all()
    assert sorted(m.to_address for m in mails) == sorted([people["supervisor"].email, sup2.email])
    english = next(m for m in mails if m.to_address == people["supervisor"].email)
    assert "escalation level 1" in english.subject and sr.number in english.subject
    assert people["customer"].phone not in english.body_text
    db_session.refresh(sr)
    assert sr.escalation_level == 1
    audits = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sla.resolution_breach")
    ).all()
    assert len(audits) == 1 and audits[0].after["escalation_level"] == 1

    # again, as a retry or a second worker would: nothing more
    assert jobs_sla.run_deadline(sr.id, "resolution_breach", dl.due_epoch) == "done"
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 2
    assert db_session.scalar(select(func.count()).select_from(EmailOutbox)) == 2


def test_level_two_goes_to_admins_after_the_further_interval(db_session, factory, people):
    # the built-in policy's P2 escalates one level up 30 minutes after the breach
    builtin = sla_policies.builtin_policy(db_session)
    targets = sla_policies.current_targets(db_session, builtin)
    targets[1] = sla_policies.Targets("P2", 4, "hours", 24, "hours", 75, 30)
    sla_policies.update_targets(db_session, SYSTEM, utcnow(), builtin, targets)
    sr = _request(factory, people["customer"], due=utcnow() - timedelta(minutes=31))
    db_session.commit()
    assert _fire_now(db_session, sr, "resolution_breach")[0] == "fired"
    assert _fire_now(db_session, sr, "resolution_escalation")[0] == "fired"
    db_session.refresh(sr)
    assert sr.escalation_level == 2
    admins = db_session.scalars(
        select(Notification.recipient_id).where(Notification.kind == "resolution_escalation")
    ).all()
    assert admins == [people["admin"].id]


def test_warning_goes_to_handler_and_dispatcher_and_not_after_the_due_time(
    db_session, factory, people
):
    now = utcnow()
    sr = _request(
        factory,
        people["customer"],
        due=now + timedelta(hours=1),
        submitted=now - timedelta(hours=4),
        handler_id=people["engineer"].id,
    )
    db_session.commit()
    assert _fire_now(db_session, sr, "resolution_warn")[0] == "fired"
    told = db_session.scalars(
        select(Notification.recipient_id).where(Notification.kind == "resolution_warn")
    ).all()
    assert sorted(told) == sorted([people["engineer"].id, people["dispatcher"].id])

    late = _request(factory, people["customer"], due=now - timedelta(minutes=1))
    db_session.commit()
    assert _fire_now(db_session, late, "resolution_warn")[0] == "done"  # the breach speaks
    assert _events(db_session, late.id) == []


def test_a_job_for_a_moved_deadline_is_stale_and_does_nothing(db_session, factory, people):
    due = utcnow() - timedelta(seconds=1)
    sr = _request(factory, people["customer"], due=due)
    db_session.commit()
    old_epoch = int(due.timestamp())
    sr.resolution_due_at = due + timedelta(hours=3)  # e.g. the priority changed
    db_session.commit()
    assert jobs_sla.run_deadline(sr.id, "resolution_breach", old_epoch) == "stale"
    assert _events(db_session, sr.id) == []


def test_a_job_that_starts_early_waits_for_its_due_time(db_session, factory, people, monkeypatch):
    """RQ rounds scheduled times to whole seconds: a job may start up to a second early. It
    waits for its due time, then fires (on a clock of the test's own: however long the set-up
    took, the job starts 0.6 s early)."""
    due = utcnow() + timedelta(hours=1)
    sr = _request(factory, people["customer"], due=due)
    db_session.commit()
    clock = [due - timedelta(seconds=0.6)]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    monkeypatch.setattr(jobs_sla, "_now", lambda: clock[0])
    monkeypatch.setattr(jobs_sla, "time", SimpleNamespace(sleep=sleep))
    assert _fire_now(db_session, sr, "resolution_breach")[0] == "fired"
    assert slept == [pytest.approx(0.6)]
    fired_at = db_session.scalar(select(SlaEvent.fired_at).where(SlaEvent.request_id == sr.id))
    assert fired_at >= sr.resolution_due_at


def test_the_event_unique_key_refuses_a_second_row(db_session, factory, people):
    sr = _request(factory, people["customer"], due=utcnow() - timedelta(seconds=1))
    db_session.commit()
    dl = next(
        d for d in timers.deadlines_for(sr, timers.Policy(), TZ) if d.kind == "resolution_breach"
    )
    assert escalation.fire(db_session, sr, dl, utcnow()) is True
    assert escalation.fire(db_session, sr, dl, utcnow()) is False
    assert _events(db_session, sr.id) == ["resolution_breach"]


def test_a_worker_runs_the_scheduled_job(db_session, factory, people, queue):
    sr = _request(factory, people["customer"], due=utcnow() - timedelta(seconds=1))
    db_session.commit()
    # due already: enqueued at once, not scheduled
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert "resolution_breach" in _events(db_session, sr.id)


# --- the other timers --------------------------------------------------------------------------


def _on_calendar(db_session, contact, name, timezone, hours, country=""):
    """The contact's organisation counts its working time on a calendar of its own."""
    row = Calendar(name=name, timezone=timezone, country=country, working_hours=hours)
    db_session.add(row)
    db_session.flush()
    db_session.get(Organisation, contact.organisation_id).calendar_id = row.id
    db_session.flush()
    return row


def _feedback_notices(db_session, contact):
    told = db_session.scalars(
        select(Notification.kind).where(
            Notification.recipient_id == contact.id, Notification.kind.startswith("feedback")
        )
    ).all()
    mails = db_session.scalars(
        select(EmailOutbox.subject).where(EmailOutbox.to_address == contact.email)
    ).all()
    return sorted(told), mails


def test_the_feedback_window_counts_on_the_organisations_calendar(
    db_session, factory, people, monkeypatch
):
    """Berlin office hours 08:00–16:00, German holidays: accepted Wednesday 23 Dec 2026 at
    14:00, the three working days are Wed 2 h, Thu 24 Dec 8 h, (Christmas, the weekend) Mon 28
    8 h and Tue 29 6 h. The desk's default calendar (Shanghai) would end it on Mon 28 at 11:00
    Berlin time."""
    customer = people["customer"]
    _on_calendar(
        db_session,
        customer,
        "Berlin office",
        "Europe/Berlin",
        {str(d): [["08:00", "16:00"]] for d in range(5)},
        "DE",
    )
    be = ZoneInfo("Europe/Berlin")
    completed = datetime(2026, 12, 23, 14, 0, tzinfo=be)
    sr = _request(factory, customer, due=completed, status="completed")
    sr.completed_at = completed
    db_session.commit()
    kinds = {d.kind: d for d in timers.deadlines_for(sr, timers.Policy(), TZ)}
    assert kinds["feedback_reminder"].fire_at == datetime(2026, 12, 28, 14, 0, tzinfo=be)
    end = datetime(2026, 12, 29, 14, 0, tzinfo=be)
    assert kinds["feedback_close"].fire_at == end

    # Monday 28 Dec 14:30 in Berlin: the invitation (late) and the reminder go out, both
    # saying when the window ends on the organisation's calendar
    monkeypatch.setattr(jobs_sla, "_now", lambda: datetime(2026, 12, 28, 14, 30, tzinfo=be))
    for kind in ("feedback_invite", "feedback_reminder"):
        assert _fire_now(db_session, sr, kind)[0] == "fired"
    notes = db_session.scalars(
        select(Notification).where(Notification.recipient_id == customer.id)
    ).all()
    assert sorted(n.kind for n in notes) == ["feedback_invite", "feedback_reminder"]
    assert {datetime.fromisoformat(n.params["due"]) for n in notes} == {end}
    db_session.refresh(sr)
    assert sr.status == "completed"  # the window is still open

    # and it closes when the window ends there
    monkeypatch.setattr(jobs_sla, "_now", lambda: end + timedelta(seconds=1))
    assert _fire_now(db_session, sr, "feedback_close")[0] == "fired"
    db_session.refresh(sr)
    assert sr.status == "closed"


def test_a_late_invitation_or_reminder_after_the_window_sends_nothing(db_session, factory, people):
    sr = _request(factory, people["customer"], due=utcnow(), status="completed")
    sr.completed_at = utcnow() - timedelta(days=20)
    db_session.commit()
    for kind in ("feedback_invite", "feedback_reminder"):
        assert _fire_now(db_session, sr, kind)[0] == "done"
    assert _fire_now(db_session, sr, "feedback_close")[0] == "fired"
    # no invitation nor reminder: only the closing is told
    assert _feedback_notices(db_session, people["customer"]) == (
        [],
        [f"[{sr.number}] Your request is closed"],
    )
    assert _events(db_session, sr.id) == ["feedback_close"]
    db_session.refresh(sr)
    assert sr.status == "closed"


def test_a_window_that_ended_while_the_worker_was_down_closes_without_a_reminder(
    db_session, factory, people, queue
):
    """The sweep at start-up finds a completed request whose feedback window ended meanwhile
    (its organisation works around the clock: the window is 72 hours, ended a day ago). It
    closes it as the rule says; it neither invites nor reminds the customer."""
    customer = people["customer"]
    _on_calendar(
        db_session,
        customer,
        "Around the clock",
        "UTC",
        {str(d): [["00:00", "24:00"]] for d in range(7)},
    )
    sr = _request(factory, customer, due=utcnow(), status="completed")
    sr.completed_at = utcnow() - timedelta(days=4)
    db_session.commit()
    queue.connection.flushdb()  # the worker was down: no timer ran, Redis lost them

    jobs_sla.sweep()
    db_session.refresh(sr)
    assert sr.status == "closed"
    assert _events(db_session, sr.id) == ["feedback_close"]
    # neither invited nor reminded: only told it closed
    assert _feedback_notices(db_session, customer) == (
        [],
        [f"[{sr.number}] Your request is closed"],
    )
    assert jobs_sla.sweep()["fired"] == 0


def test_no_feedback_timers_once_feedback_was_given(db_session, factory, people):
    sr = _request(factory, people["customer"], due=utcnow(), status="completed")
    sr.completed_at = utcnow() - timedelta(days=20)
    db_session.commit()
    ids, _policies = timers.sweep_candidates(
        db_session, utcnow(), timedelta(seconds=30), timedelta(days=30)
    )
    assert sr.id in ids
    db_session.add(
        Feedback(
            number=f"FB-T-{sr.id}",
            request_id=sr.id,
            customer_id=people["customer"].id,
            channel="portal",
            recorded_by_id=people["customer"].id,
            score_response=5,
            score_effect=4,
            score_attitude=5,
            mean_score=4.7,
        )
    )
    db_session.flush()
    ids, _policies = timers.sweep_candidates(
        db_session, utcnow(), timedelta(seconds=30), timedelta(days=30)
    )
    assert sr.id not in ids


def test_an_overdue_improvement_measure_tells_its_owner_and_the_supervisors(
    db_session, factory, people
):
    sr = _request(factory, people["customer"], due=utcnow(), status="closed")
    fb = Feedback(
        number=f"FB-M-{sr.id}",
        request_id=sr.id,
        customer_id=people["customer"].id,
        channel="portal",
        recorded_by_id=people["customer"].id,
        score_response=2,
        score_effect=2,
        score_attitude=3,
        mean_score=2.3,
    )
    db_session.add(fb)
    db_session.flush()
    measure = ImprovementMeasure(
        feedback_id=fb.id,
        measure="Reply within the hour",
        owner_id=people["engineer"].id,
        deadline=date.today() - timedelta(days=2),
    )
    db_session.add(measure)
    db_session.commit()
    result = jobs_sla.sweep()
    assert result["fired"] >= 1
    told = db_session.scalars(
        select(Notification.recipient_id).where(
            Notification.kind == f"measure_overdue:{measure.id}"
        )
    ).all()
    assert sorted(told) == sorted([people["engineer"].id, people["supervisor"].id])
    assert jobs_sla.sweep()["fired"] == 0  # once


# --- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_fires_what_is_due_and_schedules_what_comes_next(
    app, db_session, factory, people, queue
):
    now = utcnow()
    overdue = _request(factory, people["customer"], due=now - timedelta(minutes=5))
    soon = _request(factory, people["customer"], due=now + timedelta(seconds=20))
    later = _request(factory, people["customer"], due=now + timedelta(days=10), submitted=now)
    db_session.commit()
    queue.connection.flushdb()  # Redis lost every timer

    result = jobs_sla.sweep()
    assert _events(db_session, overdue.id, "resolution_breach") == ["resolution_breach"]
    assert _events(db_session, soon.id) == ["resolution_warn"]  # its warning time has passed
    assert _events(db_session, later.id) == []
    scheduled = queue.scheduled_job_registry.get_job_ids()
    assert f"sla-{soon.id}-resolution_breach-{int(soon.resolution_due_at.timestamp())}" in (
        scheduled
    )
    assert not any(f"sla-{later.id}-" in j for j in scheduled)
    assert result["fired"] >= 2
    assert timers.last_sweep(queue.connection) is not None

    again = jobs_sla.sweep()
    assert again["fired"] == 0


def test_the_sweep_reads_only_what_is_due(app, db_session, factory, people, count_queries):
    now = utcnow()
    for i in range(5):
        _request(factory, people["customer"], due=now + timedelta(days=5 + i), submitted=now)
    db_session.commit()
    with count_queries() as few:
        ids, _p = timers.sweep_candidates(db_session, now, timedelta(seconds=60), timedelta(days=7))
    for i in range(20):
        _request(factory, people["customer"], due=now + timedelta(days=5 + i), submitted=now)
    db_session.commit()
    with count_queries() as many:
        ids, _p = timers.sweep_candidates(db_session, now, timedelta(seconds=60), timedelta(days=7))
    assert ids == set()
    assert len(few) == len(many)


def test_health_shows_the_last_sweep(app, client, db_session):
    assert client.get("/healthz/sla").get_json()["sla_last_sweep"] is None
    jobs_sla.sweep()
    shown = client.get("/healthz/sla").get_json()["sla_last_sweep"]
    assert datetime.fromisoformat(shown) <= datetime.now(UTC)


def test_the_sweep_keeper_enqueues_one_sweep_per_slot(redis_url, queue):
    conn = queue.connection
    assert jobs_sla.ensure_sweep(conn, 3600) is True
    assert jobs_sla.ensure_sweep(conn, 3600) is False  # the same slot: already there
    assert [j.func_name for j in queue.jobs] == ["portal.jobs_sla.sweep"]


def test_a_request_moving_on_is_not_swept(db_session, factory, people):
    sr = _request(factory, people["customer"], due=utcnow() - timedelta(minutes=1))
    sr.status = "pending_acceptance"
    db_session.commit()
    assert jobs_sla.sweep()["fired"] == 0
    assert db_session.get(ServiceRequest, sr.id).escalation_level == 0


def test_an_organisation_with_a_five_day_feedback_window_is_reminded_at_four_and_closed_at_five(
    db_session, factory, people, monkeypatch
):
    """The desk's default calendar (Shanghai, 09:00–12:00 and 13:00–18:00 on weekdays): done on
    Monday 4 March 2030 at 10:00, the organisation's five working days remind on Friday 8 March
    (four days) and end on Monday 11 March at 10:00, not on Thursday 7 as the template's three
    would."""
    customer = people["customer"]
    db_session.get(Organisation, customer.organisation_id).feedback_window_days = 5
    sh = ZoneInfo(TZ)
    completed = datetime(2030, 3, 4, 10, 0, tzinfo=sh)
    sr = _request(factory, customer, due=completed, status="completed")
    sr.completed_at = completed
    db_session.commit()
    kinds = {d.kind: d for d in timers.deadlines_for(sr, timers.Policy(), TZ)}
    assert kinds["feedback_reminder"].fire_at == datetime(2030, 3, 8, 10, 0, tzinfo=sh)
    end = datetime(2030, 3, 11, 10, 0, tzinfo=sh)
    assert kinds["feedback_close"].fire_at == end

    # on Friday the reminder goes out and names Monday as the end; the request stays open
    monkeypatch.setattr(jobs_sla, "_now", lambda: datetime(2030, 3, 8, 10, 5, tzinfo=sh))
    assert _fire_now(db_session, sr, "feedback_reminder")[0] == "fired"
    [note] = db_session.scalars(
        select(Notification).where(
            Notification.recipient_id == customer.id, Notification.kind == "feedback_reminder"
        )
    ).all()
    assert datetime.fromisoformat(note.params["due"]) == end
    db_session.refresh(sr)
    assert sr.status == "completed"

    monkeypatch.setattr(jobs_sla, "_now", lambda: end + timedelta(seconds=1))
    assert _fire_now(db_session, sr, "feedback_close")[0] == "fired"
    db_session.refresh(sr)
    assert sr.status == "closed"


def test_without_an_organisation_setting_the_window_is_the_templates_three_days(db_session):
    from portal.services import calendars

    calendar = calendars.builtin_default(TZ)
    sh = ZoneInfo(TZ)
    done = datetime(2030, 3, 4, 10, 0, tzinfo=sh)
    reminder, end = timers.feedback_window(done, calendar)
    assert (reminder, end) == (
        datetime(2030, 3, 6, 10, 0, tzinfo=sh),
        datetime(2030, 3, 7, 10, 0, tzinfo=sh),
    )
    assert timers.feedback_window(done, calendar, 5)[1] == datetime(2030, 3, 11, 10, 0, tzinfo=sh)
