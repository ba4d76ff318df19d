"""``PORTAL_TIMEZONE`` and the default calendar's zone (README: Settings): the default calendar is
created in the desk's zone, on a fresh install (by its migration, see tests/test_migrations.py)
and by the demo alike (one function, portal.services.defaults), so both count the same; a later
change of the setting leaves an existing calendar as it is."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update

from portal import demo
from portal.models import Calendar, CalendarOverride, Organisation, SlaPolicy, utcnow
from portal.services import calendars, defaults

BERLIN = ZoneInfo("Europe/Berlin")
# Friday 27 March 2026, 16:00 CET; summer time starts on Sunday 29th
SUBMITTED = datetime(2026, 3, 27, 16, tzinfo=BERLIN)
# 8 working hours on the Berlin day: Friday 16–18, Monday 09–12 and 13–16 (CEST)
RESPONSE_DUE = datetime(2026, 3, 30, 16, tzinfo=BERLIN)


@pytest.fixture
def berlin_desk(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_TIMEZONE", "Europe/Berlin")


def _no_calendar_yet(session) -> None:
    """The database as a fresh install has it before its data migration (or as
    `portal demo --reset` leaves it): no calendar, no default policies."""
    session.execute(update(Organisation).values(calendar_id=None))
    session.execute(delete(CalendarOverride))
    session.execute(delete(Calendar))
    session.execute(update(Organisation).values(sla_policy_id=None))
    session.execute(delete(SlaPolicy))
    session.flush()
    assert session.scalar(select(func.count()).select_from(Calendar)) == 0


def test_a_fresh_install_creates_the_default_calendar_in_the_desk_zone(
    berlin_desk, app, factory, db_session
):
    _no_calendar_yet(db_session)
    # what the migration does with the desk's PORTAL_TIMEZONE
    defaults.ensure_defaults(db_session.connection(), app.config["PORTAL_TIMEZONE"])
    contact = factory.customer(factory.organisation())
    sr = factory.request(contact, urgency="P3", now=SUBMITTED)
    [row] = db_session.scalars(select(Calendar)).all()
    assert row.timezone == "Europe/Berlin"
    assert sr.response_due_at == RESPONSE_DUE  # not Monday 12:00, the end of a Shanghai day

    # a later change of the setting does not move the existing calendar
    app.config["PORTAL_TIMEZONE"] = "Asia/Shanghai"
    assert calendars.default_calendar(db_session).timezone == "Europe/Berlin"


def test_the_demo_makes_the_same_default_calendar(berlin_desk, app, factory, db_session):
    _no_calendar_yet(db_session)
    demo.seed(db_session, utcnow(), app.config["PORTAL_TIMEZONE"])
    [row] = db_session.scalars(select(Calendar)).all()
    assert (row.name, row.timezone) == (calendars.DEFAULT_NAME, "Europe/Berlin")
    org = db_session.scalar(select(Organisation).where(Organisation.code == demo.MARKER_ORG))
    assert org.calendar_id == row.id
    sr = factory.request(factory.customer(org), urgency="P3", now=SUBMITTED)
    assert sr.response_due_at == RESPONSE_DUE


def test_the_new_calendar_form_starts_in_the_desk_zone(berlin_desk, make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    page = client.get("/staff/admin/calendars").get_data(as_text=True)
    assert 'name="new-timezone" required type="text" value="Europe/Berlin"' in page


def test_a_calendars_own_zone_drives_its_arithmetic_not_the_desks(app, monkeypatch, factory):
    """The desk's zone (PORTAL_TIMEZONE) names the zone of new calendars and of the times shown;
    an existing calendar counts in its own zone. The default calendar is in Asia/Shanghai here:
    with the desk set to New York, 8 working hours from Friday 16:00 Shanghai still end on
    Monday 16:00 Shanghai (Friday 16–18, Monday 09–12 and 13–16), not on a New York day."""
    monkeypatch.setitem(app.config, "PORTAL_TIMEZONE", "America/New_York")
    shanghai = ZoneInfo("Asia/Shanghai")
    assert calendars.default_calendar(factory.session).timezone == "Asia/Shanghai"
    contact = factory.customer(factory.organisation())
    sr = factory.request(contact, urgency="P3", now=datetime(2026, 11, 20, 16, tzinfo=shanghai))
    assert sr.response_due_at == datetime(2026, 11, 23, 16, tzinfo=shanghai)
