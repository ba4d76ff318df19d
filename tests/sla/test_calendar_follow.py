"""A change of a calendar — the yearly notice imported, an override added or removed, the working
hours changed — moves the due and warning times of the open requests on that calendar, in the
same transaction; their timers are rescheduled after the commit, and each moved request says so
in the audit log and on its SLA panel."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal.models import AuditEvent, Calendar
from portal.services import calendars, sla
from portal.services import lifecycle as lifecycle_service
from portal.services.audit import SYSTEM

NOTICE_2027 = (Path(__file__).parent / "notice_2027.txt").read_text(encoding="utf-8")
HX = {"HX-Request": "true"}
SH = ZoneInfo("Asia/Shanghai")
MOVED = "request.sla_calendar_moved"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def queue(redis_url):
    return Queue("default", connection=Redis.from_url(redis_url))


@pytest.fixture
def admin(factory):
    return factory.staff("admin")


def _logged_in(make_client, account):
    client = make_client()
    client.login(account)  # inside the test: at its frozen time
    return client


@pytest.fixture
def china(db_session):
    return calendars.default_calendar(db_session)


@pytest.fixture
def contact(factory):
    return factory.customer(factory.organisation())


def _moves(session, sr) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "service_request",
                AuditEvent.object_id == sr.number,
                AuditEvent.action == MOVED,
            )
            .order_by(AuditEvent.id)
        )
    )


def _sla_panel(make_client, factory, sr) -> str:
    client = make_client()
    client.login(factory.staff("supervisor"))
    html = client.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    m = re.search(r'<section[^>]*id="panel-sla".*?</section>', html, re.S)
    assert m, "the SLA panel is not on the page"
    return re.sub(r"\s+", " ", m.group(0))


def _scheduled_at(queue, job_id: str) -> datetime:
    return queue.scheduled_job_registry.get_scheduled_time(job_id)


def _snapshot(sr) -> tuple:
    return (
        sr.response_due_at,
        sr.response_warn_at,
        sr.resolution_due_at,
        sr.resolution_warn_at,
    )


@freeze_time("2027-02-04 09:30:00")  # Thursday 17:30 in Shanghai
def test_importing_the_2027_notice_moves_a_p3_off_the_new_holiday(
    admin, china, contact, factory, db_session, queue, make_client
):
    admin_client = _logged_in(make_client, admin)
    sr = factory.request(contact, urgency="P3", now=at(2027, 2, 4, 17))
    # 2027 has no official schedule: the fallback has 5–10 February off, Thursday 11th worked
    assert sr.response_due_at == at(2027, 2, 11, 17)
    assert sr.resolution_due_at == at(2027, 2, 15, 17)
    db_session.commit()
    old_breach = f"sla-{sr.id}-response_breach-{int(at(2027, 2, 11, 17).timestamp())}"
    assert old_breach in queue.scheduled_job_registry.get_job_ids()

    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/notice",
        data={"year": "2027", "text": NOTICE_2027},
        headers=HX,
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert "28 days off, 5 make-up working days" in resp.get_data(as_text=True)

    db_session.refresh(sr)
    # the notice gives 5–12 February off: the response is due on Monday 15th, the 8th working
    # hour after Thursday 17:00; resolution three working days after, on Wednesday 17th
    assert sr.response_due_at == at(2027, 2, 15, 17)
    assert sr.resolution_due_at == at(2027, 2, 17, 17)
    assert sr.response_warn_at == at(2027, 2, 15, 15)  # 75 % of 8 working hours
    assert sr.resolution_warn_at == at(2027, 2, 17, 10)  # 75 % of 24 working hours

    # the timers point at the new instants
    ids = set(queue.scheduled_job_registry.get_job_ids())
    for kind, due, fire in (
        ("response_warn", sr.response_due_at, sr.response_warn_at),
        ("response_breach", sr.response_due_at, sr.response_due_at),
        ("resolution_warn", sr.resolution_due_at, sr.resolution_warn_at),
        ("resolution_breach", sr.resolution_due_at, sr.resolution_due_at),
    ):
        job_id = f"sla-{sr.id}-{kind}-{int(due.timestamp())}"
        assert job_id in ids, kind
        assert _scheduled_at(queue, job_id) == fire, kind

    # the audit log says who moved what, from what to what
    [entry] = _moves(db_session, sr)
    assert entry.actor_id == admin.id
    assert entry.before["response_due_at"] == at(2027, 2, 11, 17).isoformat()
    assert entry.after["response_due_at"] == at(2027, 2, 15, 17).isoformat()
    assert entry.before["resolution_due_at"] == at(2027, 2, 15, 17).isoformat()
    assert entry.after["resolution_due_at"] == at(2027, 2, 17, 17).isoformat()
    assert entry.after["calendar"] == china.name

    # and so does the request's SLA panel, in the desk's time
    panel = _sla_panel(make_client, factory, sr)
    assert "Due times moved by a calendar change" in panel
    assert "Response due 2027-02-11 17:00 CST → 2027-02-15 17:00 CST" in panel
    assert "Resolution due 2027-02-15 17:00 CST → 2027-02-17 17:00 CST" in panel


@freeze_time("2026-11-25 10:00:00")  # Wednesday 18:00 in Shanghai
def test_an_override_moves_the_open_requests_and_its_removal_moves_them_back(
    admin, china, contact, factory, db_session, make_client
):
    admin_client = _logged_in(make_client, admin)
    # Wednesday 17:00: response due Thursday 17:00, resolution Monday 30th 17:00
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 25, 17))
    assert (sr.response_due_at, sr.resolution_due_at) == (
        at(2026, 11, 26, 17),
        at(2026, 11, 30, 17),
    )
    responded = factory.request(contact, urgency="P3", now=at(2026, 11, 25, 17))
    responded.first_response_at = at(2026, 11, 25, 17, 30)
    closed = factory.request(contact, urgency="P3", now=at(2026, 11, 25, 17))
    closed.status, closed.closed_at = "closed", at(2026, 11, 25, 17, 45)
    paused = factory.request(contact, urgency="P3", now=at(2026, 11, 25, 17))
    paused.status = "in_progress"
    db_session.flush()
    lifecycle_service.apply(
        db_session, SYSTEM, {"handler"}, paused, "ask_customer", at(2026, 11, 25, 17, 30)
    )
    elsewhere_row = Calendar(
        name="Elsewhere", timezone="Asia/Shanghai", country="CN", working_hours=china.working_hours
    )
    db_session.add(elsewhere_row)
    db_session.flush()
    other_org = factory.organisation(calendar_id=elsewhere_row.id)
    elsewhere = factory.request(factory.customer(other_org), urgency="P3", now=at(2026, 11, 25, 17))
    db_session.commit()
    before = {r.id: _snapshot(r) for r in (responded, closed, elsewhere)}

    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/overrides",
        data={"day": "2026-11-26", "kind": "holiday", "note": "office move"},
        headers=HX,
    )
    assert resp.status_code == 200
    for r in (sr, responded, closed, paused, elsewhere):
        db_session.refresh(r)
    # Thursday is off now: everything due from Thursday on moves one working day later
    assert (sr.response_due_at, sr.resolution_due_at) == (at(2026, 11, 27, 17), at(2026, 12, 1, 17))
    # the met response keeps its instants; its resolution moves
    assert responded.response_due_at == before[responded.id][0] == at(2026, 11, 26, 17)
    assert responded.response_warn_at is None
    assert responded.resolution_due_at == at(2026, 12, 1, 17)
    # the paused clock moves too (the pause is added on when it ends)
    assert paused.resolution_due_at == at(2026, 12, 1, 17)
    # a closed request and a request on another calendar are left alone
    assert _snapshot(closed) == before[closed.id] and _moves(db_session, closed) == []
    assert _snapshot(elsewhere) == before[elsewhere.id] and _moves(db_session, elsewhere) == []
    assert len(_moves(db_session, sr)) == 1
    [moved] = _moves(db_session, responded)
    assert "response_due_at" not in moved.after  # only what moved is recorded

    [override] = calendars.overrides(db_session, china.id, 2026)
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/overrides/{override.id}/delete",
        data={"year": "2026"},
        headers=HX,
    )
    assert resp.status_code == 200
    for r in (sr, responded, paused):
        db_session.refresh(r)
    assert (sr.response_due_at, sr.resolution_due_at) == (
        at(2026, 11, 26, 17),
        at(2026, 11, 30, 17),
    )
    assert sr.response_warn_at == at(2026, 11, 26, 15)
    assert responded.resolution_due_at == at(2026, 11, 30, 17)
    assert paused.resolution_due_at == at(2026, 11, 30, 17)
    assert len(_moves(db_session, sr)) == 2
    panel = _sla_panel(make_client, factory, sr)
    assert "Response due 2026-11-26 17:00 CST → 2026-11-27 17:00 CST" in panel
    assert "Response due 2026-11-27 17:00 CST → 2026-11-26 17:00 CST" in panel


@freeze_time("2026-11-25 10:00:00")
def test_an_override_on_a_day_nobody_is_due_moves_nothing(china, contact, factory, db_session):
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 25, 17))
    before = _snapshot(sr)
    calendars.set_override(
        db_session, SYSTEM, at(2026, 11, 25, 18), china.id, date(2026, 12, 24), "holiday"
    )
    assert _snapshot(sr) == before and _moves(db_session, sr) == []


@freeze_time("2026-11-25 10:00:00")
def test_changed_working_hours_move_the_open_requests(
    admin, china, contact, factory, db_session, make_client
):
    admin_client = _logged_in(make_client, admin)
    sr = factory.request(contact, urgency="P3", now=at(2026, 11, 25, 17))
    assert sr.response_due_at == at(2026, 11, 26, 17)
    seven = "09:00-12:00 13:00-17:00"
    resp = admin_client.post(
        "/staff/admin/calendars/save",
        data={
            "calendar_id": str(china.id),
            "name": china.name,
            "timezone": "Asia/Shanghai",
            "country": "CN",
            **{d: seven for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": "",
            "sun": "",
        },
    )
    assert resp.status_code == 302
    db_session.refresh(sr)
    # Wednesday 17:00 is after hours now: 7 h on Thursday, the 8th on Friday morning
    assert sr.response_due_at == at(2026, 11, 27, 10)
    assert len(_moves(db_session, sr)) == 1


@freeze_time("2026-11-25 10:00:00")
def test_the_requests_are_moved_in_batches(china, contact, factory, db_session, monkeypatch):
    monkeypatch.setattr(sla, "CALENDAR_BATCH", 2)
    requests = [factory.request(contact, urgency="P3", now=at(2026, 11, 25, 17)) for _ in range(5)]
    calendars.set_override(
        db_session, SYSTEM, at(2026, 11, 25, 18), china.id, date(2026, 11, 26), "holiday"
    )
    assert {r.response_due_at for r in requests} == {at(2026, 11, 27, 17)}
    assert all(len(_moves(db_session, r)) == 1 for r in requests)


@freeze_time("2026-11-25 02:00:00")  # Wednesday 10:00 in Shanghai
def test_only_the_requests_the_change_can_touch_are_read(
    china, contact, factory, db_session, monkeypatch
):
    # the office was closed yesterday, Tuesday 24th: the admin says so afterwards
    spanning = factory.request(contact, urgency="P3", now=at(2026, 11, 23, 17))
    assert spanning.response_due_at == at(2026, 11, 24, 17)  # breached yesterday
    assert spanning.resolution_due_at == at(2026, 11, 26, 17)
    today = factory.request(contact, urgency="P3", now=at(2026, 11, 25, 9))
    finished = factory.request(contact, urgency="P1", now=at(2026, 11, 23, 9))
    today_before, finished_before = _snapshot(today), _snapshot(finished)
    read: list[int] = []
    follow = sla._follow

    def spy(session, actor, now, sr, *args):
        read.append(sr.id)
        return follow(session, actor, now, sr, *args)

    monkeypatch.setattr(sla, "_follow", spy)
    calendars.set_override(
        db_session, SYSTEM, at(2026, 11, 25, 10), china.id, date(2026, 11, 24), "holiday"
    )
    assert read == [spanning.id]
    # the breach stays where it happened; the resolution still ahead moves a day later
    assert spanning.response_due_at == at(2026, 11, 24, 17)
    assert spanning.resolution_due_at == at(2026, 11, 27, 17)
    assert _snapshot(today) == today_before and _snapshot(finished) == finished_before
