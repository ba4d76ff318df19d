"""The Alembic migrations build exactly the schema the models describe, on this backend, and
the desk's defaults (SLA policies, calendar) with it."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, select, update

from portal.db import make_engine
from portal.migrate import upgrade
from portal.models import Base, Calendar, SlaPolicy
from portal.services.defaults import ensure_defaults


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_queue_filters_have_composite_indexes(database_url):
    from sqlalchemy import inspect

    engine = make_engine(database_url)
    indexes = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("service_requests")}
    engine.dispose()
    for leading in ("status", "handler_id", "organisation_id", "type", "contact_id"):
        assert any(cols[0] == leading and len(cols) >= 3 for cols in indexes), leading


def _defaults(url: str):
    engine = make_engine(url)
    with engine.connect() as conn:
        calendars = conn.execute(select(Calendar.name, Calendar.timezone, Calendar.country)).all()
        policies = conn.execute(
            select(
                SlaPolicy.priority,
                SlaPolicy.respond_amount,
                SlaPolicy.respond_unit,
                SlaPolicy.resolve_amount,
                SlaPolicy.resolve_unit,
                SlaPolicy.warn_percent,
                SlaPolicy.escalate_after_minutes,
            )
            .where(SlaPolicy.organisation_id.is_(None))
            .order_by(SlaPolicy.priority)
        ).all()
    engine.dispose()
    return [tuple(c) for c in calendars], [tuple(p) for p in policies]


TEMPLATE_POLICIES = [
    ("P1", 2, "hours", 4, "hours", 75, 60),
    ("P2", 4, "hours", 24, "hours", 75, 60),
    ("P3", 8, "working_hours", 3, "working_days", 75, 60),
]


def test_the_migrations_create_the_default_policies_and_calendar(database_url):
    """What every page reads exists from the migration on: no request has to create it."""
    calendars, policies = _defaults(database_url)
    assert policies == TEMPLATE_POLICIES
    assert len(calendars) == 1 and calendars[0][0] == "China" and calendars[0][2] == "CN"


def test_the_default_calendar_is_in_the_desks_time_zone(tmp_path, monkeypatch):
    # PORTAL_TIMEZONE read from the environment, as the app reads it
    monkeypatch.setenv("PORTAL_TIMEZONE", "Europe/Berlin")
    env_url = f"sqlite:///{tmp_path / 'env.db'}"
    upgrade(env_url)
    assert _defaults(env_url) == ([("China", "Europe/Berlin", "CN")], TEMPLATE_POLICIES)
    # `portal db upgrade` passes the app's setting
    url = f"sqlite:///{tmp_path / 'passed.db'}"
    upgrade(url, timezone="America/New_York")
    assert _defaults(url)[0] == [("China", "America/New_York", "CN")]


def test_ensure_defaults_fills_in_what_is_missing_and_nothing_else(tmp_path):
    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url, timezone="Asia/Shanghai")
    engine = make_engine(url)
    with engine.begin() as conn:
        assert ensure_defaults(conn, "Asia/Shanghai") == {"calendars": 0, "sla_policies": 0}
        conn.execute(update(SlaPolicy).where(SlaPolicy.priority == "P1").values(warn_percent=50))
        conn.execute(delete(SlaPolicy).where(SlaPolicy.priority == "P2"))
        conn.execute(update(Calendar).values(name="Shanghai office"))
        assert ensure_defaults(conn, "Asia/Shanghai") == {"calendars": 0, "sla_policies": 1}
    engine.dispose()
    calendars, policies = _defaults(url)
    assert calendars == [("Shanghai office", "Asia/Shanghai", "CN")]  # an edited one stays
    assert [p[0] for p in policies] == ["P1", "P2", "P3"] and policies[0][5] == 50


def test_an_unknown_time_zone_is_refused_with_its_name(tmp_path):
    with pytest.raises(ValueError, match="PORTAL_TIMEZONE 'Mars/Olympus' is not an IANA"):
        upgrade(f"sqlite:///{tmp_path / 'bad.db'}", timezone="Mars/Olympus")
