"""The admins' calendar page: the warning for a year without official schedule, overrides and
the import of the yearly notice; admins only."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, func, select, update

from portal.models import AuditEvent, Calendar, CalendarOverride, Organisation
from portal.services import calendars

NOTICE_2026 = (Path(__file__).parent / "notice_2026.txt").read_text(encoding="utf-8")
HX = {"HX-Request": "true"}


@pytest.fixture
def admin_client(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    return client


@pytest.fixture
def china(db_session):
    return calendars.default_calendar(db_session)


def test_only_admins_reach_the_calendar_page(make_client, factory, china):
    for roles in (("supervisor",), ("dispatcher", "engineer"), ("agent",)):
        client = make_client()
        client.login(factory.staff(*roles))
        assert client.get("/staff/admin/calendars").status_code == 403
        assert (
            client.post(
                f"/staff/admin/calendars/{china.id}/overrides",
                data={"day": "2027-01-04", "kind": "holiday"},
            ).status_code
            == 403
        )
    customer = make_client()
    customer.login(factory.customer(factory.organisation()))
    assert customer.get("/staff/admin/calendars").status_code == 403


@freeze_time("2026-11-26 03:00:00")
def test_a_year_without_official_schedule_shows_the_warning_until_the_notice_is_imported(
    make_client, factory, china, db_session
):
    admin_client = make_client()
    admin_client.login(factory.staff("admin"))
    page = admin_client.get("/staff/admin/calendars").get_data(as_text=True)
    assert 'data-missing-year="2027"' in page
    assert "No official holiday schedule for 2027" in page
    assert "without make-up working days" in page
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/notice",
        data={
            "year": "2027",
            "text": "一、元旦:1月1日(周五)至3日(周日)放假,共3天。\n"
            "二、春节:2月6日(周六)至12日放假调休,共7天。2月20日(周六)上班。",
        },
    )
    assert resp.status_code == 302
    page = admin_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Notice for 2027 imported: 10 days off, 1 make-up working days." in page
    assert "data-missing-year" not in page
    assert re.search(r'data-day="2027-02-20">\s*<td>2027-02-20</td>\s*<td>Working day', page)
    # a 2027 due time now follows the notice: Sat 20 Feb is worked
    db_session.info.pop("portal_calendars", None)
    assert calendars.load(db_session, china).day(date(2027, 2, 20)).kind == "makeup"


@freeze_time("2026-05-01 03:00:00")
def test_no_warning_when_the_year_is_known(make_client, factory, china):
    admin_client = make_client()
    admin_client.login(factory.staff("admin"))
    page = admin_client.get("/staff/admin/calendars").get_data(as_text=True)
    assert "data-missing-year" not in page
    assert "Official schedule known for 2004–2026." in page


def test_overrides_are_added_and_removed_in_place(admin_client, china, db_session):
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/overrides",
        data={"day": "2026-12-31", "kind": "holiday", "note": "year-end close"},
        headers=HX,
    )
    assert resp.status_code == 200
    fragment = resp.get_data(as_text=True)
    assert fragment.startswith('<section class="panel" id="panel-calendar"') or (
        'id="panel-calendar"' in fragment and "<html" not in fragment
    )
    assert 'data-day="2026-12-31"' in fragment and "year-end close" in fragment
    row = db_session.scalars(
        select(CalendarOverride).where(CalendarOverride.calendar_id == china.id)
    ).one()
    assert (row.kind, row.note) == ("holiday", "year-end close")
    # the calendar page's year list shows it as a holiday from the override
    assert re.search(r"2026-12-31.*?Holiday.*?override", fragment, re.S)
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/overrides/{row.id}/delete",
        data={"year": "2026"},
        headers=HX,
    )
    assert resp.status_code == 200 and 'data-day="2026-12-31"' not in resp.get_data(as_text=True)
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "calendar")
    ).all()
    assert actions == ["calendar.override_set", "calendar.override_removed"]


def test_invalid_input_comes_back_with_the_errors_and_what_was_typed(admin_client, china):
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/overrides",
        data={"day": "", "kind": "holiday", "note": "kept note"},
        headers=HX,
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert 'class="field-error"' in body and 'value="kept note"' in body
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/notice",
        data={"year": "2027", "text": "2027-02-30 holiday 春节"},
        headers=HX,
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "The text could not be read" in body and "line 1: 2027-02-30 is not a date" in body
    assert "2027-02-30 holiday 春节" in body
    # without JavaScript: the whole page with the errors
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/notice", data={"year": "2027", "text": "nonsense"}
    )
    assert resp.status_code == 422 and "<html" in resp.get_data(as_text=True)


def test_the_2026_notice_imports_through_the_page(admin_client, china, db_session):
    resp = admin_client.post(
        f"/staff/admin/calendars/{china.id}/notice",
        data={"year": "2026", "text": NOTICE_2026},
        headers=HX,
    )
    assert resp.status_code == 200
    assert "33 days off, 6 make-up working days" in resp.get_data(as_text=True)
    count = db_session.scalars(
        select(CalendarOverride).where(CalendarOverride.calendar_id == china.id)
    ).all()
    assert len(count) == 39


def test_admin_changes_working_hours_and_due_times_follow(admin_client, china, factory, db_session):
    resp = admin_client.post(
        "/staff/admin/calendars/save",
        data={
            "calendar_id": str(china.id),
            "name": "China",
            "timezone": "Asia/Shanghai",
            "country": "CN",
            "mon": "08:30-12:00 13:00-17:30",
            "tue": "08:30-12:00 13:00-17:30",
            "wed": "08:30-12:00 13:00-17:30",
            "thu": "08:30-12:00 13:00-17:30",
            "fri": "08:30-12:00 13:00-17:30",
            "sat": "",
            "sun": "",
        },
    )
    assert resp.status_code == 302
    db_session.refresh(china)
    assert china.working_hours["0"] == [["08:30", "12:00"], ["13:00", "17:30"]]
    assert "5" not in china.working_hours
    db_session.info.pop("portal_calendars", None)
    contact = factory.customer(factory.organisation())
    from zoneinfo import ZoneInfo

    sh = ZoneInfo("Asia/Shanghai")
    sr = factory.request(contact, urgency="P3", now=datetime(2026, 11, 25, 17, tzinfo=sh))
    # 0.5 h on Wednesday, then 7.5 h on Thursday: 08:30–12:00, 13:00–17:00
    assert sr.response_due_at == datetime(2026, 11, 26, 17, tzinfo=sh)


def test_a_new_calendar_is_checked(admin_client, china, db_session):
    base = {f"new-{d}": "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    resp = admin_client.post(
        "/staff/admin/calendars/save",
        data={
            **base,
            "new-name": "Berlin",
            "new-timezone": "Europe/Berlin",
            "new-country": "DE",
            "new-sat": "9-12",
        },
    )
    assert resp.status_code == 422
    assert "is not a period like 09:00-12:00" in resp.get_data(as_text=True)
    resp = admin_client.post(
        "/staff/admin/calendars/save",
        data={**base, "new-name": "Berlin", "new-timezone": "Mars/Olympus", "new-country": "DE"},
    )
    assert resp.status_code == 422 and "Not a time zone" in resp.get_data(as_text=True)
    resp = admin_client.post(
        "/staff/admin/calendars/save",
        data={**base, "new-name": "Berlin", "new-timezone": "Europe/Berlin", "new-country": "DE"},
    )
    assert resp.status_code == 302
    calendar_id = re.search(r"calendar=(\d+)", resp.headers["Location"]).group(1)
    page = admin_client.get(f"/staff/admin/calendars?calendar={calendar_id}&year=2026")
    page = page.get_data(as_text=True)
    assert "Berlin in 2026" in page and "Europe/Berlin" in page
    assert re.search(r"2026-12-25.*?Holiday.*?holidays library", page, re.S)


def test_without_any_calendar_the_page_offers_a_new_one_and_writes_nothing(
    admin_client, db_session
):
    db_session.execute(update(Organisation).values(calendar_id=None))
    db_session.execute(delete(CalendarOverride))
    db_session.execute(delete(Calendar))
    db_session.commit()
    page = admin_client.get("/staff/admin/calendars")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "There is no calendar: working time is counted on the built-in default" in html
    assert 'name="new-name"' in html
    assert db_session.scalar(select(func.count()).select_from(Calendar)) == 0  # not created
    resp = admin_client.post(
        "/staff/admin/calendars/save",
        data={
            "new-name": "Shanghai office",
            "new-timezone": "Asia/Shanghai",
            "new-country": "CN",
            **{f"new-{d}": "09:00-12:00 13:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    html = admin_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Shanghai office" in html and "There is no calendar" not in html
