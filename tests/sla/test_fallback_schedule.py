"""One answer to "does this calendar have an official schedule for the year": an override added
by hand does not make one (the rest of the year is still counted with the fallback), an imported
notice does; the request page's SLA panel and the admins' calendar page say the same."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from portal.services import calendars

HX = {"HX-Request": "true"}
FALLBACK_ON_REQUEST = (
    "2027 has no official holiday schedule yet: counted with the fallback calendar."
)
FALLBACK_ON_PANEL = "2027 has no official schedule: fallback in use unless a notice is imported."


def at(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def _sla_panel(client, number: str) -> str:
    html = client.get(f"/staff/requests/{number}").get_data(as_text=True)
    return re.search(r'<section[^>]*id="panel-sla".*?</section>', html, re.S).group(0)


def _admin_page(client) -> str:
    return client.get("/staff/admin/calendars?year=2027").get_data(as_text=True)


@pytest.fixture
def china(db_session):
    return calendars.default_calendar(db_session)


@freeze_time("2027-01-05 02:00:00")
def test_an_override_alone_does_not_make_an_official_schedule(make_client, factory, china):
    admin = make_client()
    admin.login(factory.staff("admin"))
    sr = factory.request(factory.customer(factory.organisation()), urgency="P3", now=at(2027, 1, 4))
    assert FALLBACK_ON_REQUEST in _sla_panel(admin, sr.number)

    resp = admin.post(
        f"/staff/admin/calendars/{china.id}/overrides",
        data={"day": "2027-01-08", "kind": "holiday", "note": "desk closed"},
        headers=HX,
    )
    assert resp.status_code == 200
    # one hand-made 2027 day: the request page still warns, and the admin page agrees
    assert FALLBACK_ON_REQUEST in _sla_panel(admin, sr.number)
    page = _admin_page(admin)
    assert 'data-missing-year="2027"' in page and FALLBACK_ON_PANEL in page

    # the State Council's notice imported: neither page warns any longer
    resp = admin.post(
        f"/staff/admin/calendars/{china.id}/notice",
        data={"year": "2027", "text": "一、元旦:1月1日(周五)至3日(周日)放假,共3天。"},
        headers=HX,
    )
    assert resp.status_code == 200
    assert FALLBACK_ON_PANEL not in resp.get_data(as_text=True)
    assert "no official holiday schedule" not in _sla_panel(admin, sr.number)
    page = _admin_page(admin)
    assert "data-missing-year" not in page and FALLBACK_ON_PANEL not in page
