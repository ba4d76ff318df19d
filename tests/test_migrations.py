"""The Alembic migrations build exactly the schema the models describe, on this backend, and
the desk's defaults (SLA policies, calendar) with it."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, select, update

from portal.db import make_engine
from portal.migrate import upgrade
from portal.models import Base, Calendar, SlaPolicy, SlaPolicyVersion, SlaTarget
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
    """The calendars, and the targets of the built-in policy's current version."""
    engine = make_engine(url)
    with engine.connect() as conn:
        calendars = conn.execute(select(Calendar.name, Calendar.timezone, Calendar.country)).all()
        current = (
            select(SlaPolicyVersion.id)
            .join(SlaPolicy, SlaPolicy.id == SlaPolicyVersion.policy_id)
            .where(SlaPolicy.builtin.is_(True))
            .order_by(SlaPolicyVersion.number.desc())
            .limit(1)
            .scalar_subquery()
        )
        policies = conn.execute(
            select(
                SlaTarget.priority,
                SlaTarget.respond_amount,
                SlaTarget.respond_unit,
                SlaTarget.resolve_amount,
                SlaTarget.resolve_unit,
                SlaTarget.warn_percent,
                SlaTarget.escalate_after_minutes,
            )
            .where(SlaTarget.version_id == current)
            .order_by(SlaTarget.priority)
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
    nothing = {"calendars": 0, "sla_policies": 0, "sla_targets": 0}
    with engine.begin() as conn:
        assert ensure_defaults(conn, "Asia/Shanghai") == nothing
        conn.execute(update(SlaTarget).where(SlaTarget.priority == "P1").values(warn_percent=50))
        conn.execute(delete(SlaTarget).where(SlaTarget.priority == "P2"))
        conn.execute(update(Calendar).values(name="Shanghai office"))
        assert ensure_defaults(conn, "Asia/Shanghai") == {**nothing, "sla_targets": 1}
    engine.dispose()
    calendars, policies = _defaults(url)
    assert calendars == [("Shanghai office", "Asia/Shanghai", "CN")]  # an edited one stays
    assert [p[0] for p in policies] == ["P1", "P2", "P3"] and policies[0][5] == 50
    # with no built-in policy at all: the policy, its version 1 and the three targets
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(SlaPolicy))
        assert ensure_defaults(conn, "Asia/Shanghai") == {
            **nothing,
            "sla_policies": 1,
            "sla_targets": 3,
        }
        assert conn.execute(select(SlaPolicy.name, SlaPolicy.builtin)).all() == [("标准", True)]
    engine.dispose()
    assert _defaults(url)[1] == TEMPLATE_POLICIES


def test_an_unknown_time_zone_is_refused_with_its_name(tmp_path):
    with pytest.raises(ValueError, match="PORTAL_TIMEZONE 'Mars/Olympus' is not an IANA"):
        upgrade(f"sqlite:///{tmp_path / 'bad.db'}", timezone="Mars/Olympus")


def _old_desk(conn) -> None:
    """A desk as it stood at 0007: the desk's rows (P2 edited), one organisation with a P1 row of
    its own, another without, and a request of each."""
    from sqlalchemy import text

    conn.execute(
        text(
            "UPDATE sla_policies SET respond_amount = 3 "
            "WHERE organisation_id IS NULL AND priority = 'P2'"
        )
    )
    conn.execute(
        text(
            "INSERT INTO organisations (id, name, code, colleagues_may_view, colleagues_may_reply,"
            " active, created_at, feedback_window_days) VALUES "
            "(1, 'Gold org', 'GOLD', false, false, true, '2026-01-01 00:00:00', 3),"
            "(2, 'Plain org', 'PLAIN', false, false, true, '2026-01-01 00:00:00', 3)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO sla_policies (organisation_id, priority, respond_amount, respond_unit, "
            "resolve_amount, resolve_unit, warn_percent, escalate_after_minutes) VALUES "
            "(1, 'P1', 1, 'hours', 2, 'hours', 50, 30)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO accounts (id, kind, email, name, password_hash, active, organisation_id,"
            " is_org_admin, available, created_at, password_changed_at, locale) VALUES "
            "(1, 'customer', 'c@example.com', '李客户', 'x', true, 1, false, true,"
            " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'en')"
        )
    )
    for n, org in ((1, 1), (2, 2)):
        conn.execute(
            text(
                "INSERT INTO service_requests (number, organisation_id, contact_id, created_by_id,"
                " channel, contact_name, title, description, type, proposed_urgency, status,"
                " submitted_at, updated_at, paused_seconds, escalation_level, rework_count) "
                f"VALUES ('SR-20260101-00{n}', {org}, 1, 1, 'portal', '李客户', 't', 'd', 'fault',"
                " 'P1', 'submitted', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, 0, 0)"
            )
        )


def test_0008_turns_the_rows_into_named_policies_and_stamps_the_requests(tmp_path):
    from sqlalchemy import text

    from portal.models import Organisation, ServiceRequest

    url = f"sqlite:///{tmp_path / 'convert.db'}"
    upgrade(url, "0007", timezone="Asia/Shanghai")
    engine = make_engine(url)
    with engine.begin() as conn:
        _old_desk(conn)
    engine.dispose()
    upgrade(url, timezone="Asia/Shanghai")

    engine = make_engine(url)
    with engine.connect() as conn:
        policies = conn.execute(
            select(SlaPolicy.id, SlaPolicy.name, SlaPolicy.builtin).order_by(SlaPolicy.id)
        ).all()
        assert [(p.name, p.builtin) for p in policies] == [("标准", True), ("GOLD", False)]
        builtin_id, gold_id = policies[0].id, policies[1].id
        targets = {
            (row.name, row.priority): (row.respond_amount, row.resolve_amount, row.warn_percent)
            for row in conn.execute(
                select(SlaPolicy.name, SlaTarget.priority, SlaTarget.respond_amount,
                       SlaTarget.resolve_amount, SlaTarget.warn_percent)
                .join(SlaPolicyVersion, SlaPolicyVersion.policy_id == SlaPolicy.id)
                .join(SlaTarget, SlaTarget.version_id == SlaPolicyVersion.id)
                .where(SlaPolicyVersion.number == 1)
            )
        }  # fmt: skip
        assert targets == {
            ("标准", "P1"): (2, 4, 75),
            ("标准", "P2"): (3, 24, 75),  # the desk's edit kept
            ("标准", "P3"): (8, 3, 75),
            ("GOLD", "P1"): (1, 2, 50),  # the organisation's own row
            ("GOLD", "P2"): (3, 24, 75),  # filled from the built-in
            ("GOLD", "P3"): (8, 3, 75),
        }
        orgs = dict(conn.execute(select(Organisation.code, Organisation.sla_policy_id)).all())
        assert orgs == {"GOLD": gold_id, "PLAIN": None}
        stamped = dict(
            conn.execute(
                select(ServiceRequest.organisation_id, SlaPolicyVersion.policy_id).join(
                    SlaPolicyVersion, SlaPolicyVersion.id == ServiceRequest.sla_policy_version_id
                )
            ).all()
        )
        assert stamped == {1: gold_id, 2: builtin_id}
    engine.dispose()

    # downgrade (lossy: the current versions back into rows) and up again
    from alembic import command

    from portal.migrate import alembic_config

    command.downgrade(alembic_config(url, "Asia/Shanghai"), "0007")
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT organisation_id, priority, respond_amount FROM sla_policies "
                "ORDER BY organisation_id IS NOT NULL, organisation_id, priority"
            )
        ).all()
        assert [tuple(r) for r in rows] == [
            (None, "P1", 2),
            (None, "P2", 3),
            (None, "P3", 8),
            (1, "P1", 1),
            (1, "P2", 3),
            (1, "P3", 8),
        ]
    engine.dispose()
    upgrade(url, timezone="Asia/Shanghai")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SlaPolicy)) == 2
        assert (
            conn.scalar(
                select(func.count())
                .select_from(ServiceRequest)
                .where(ServiceRequest.sla_policy_version_id.is_(None))
            )
            == 0
        )
    engine.dispose()
