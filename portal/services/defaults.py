"""The desk's defaults (docs/product.md §4): an SLA policy per priority from the template, and the default
business calendar in the desk's time zone (PORTAL_TIMEZONE).

``ensure_defaults`` is the one place that creates them. It runs in the data migration 0006 (so
`portal db upgrade`, the demo, the tests and bench/seed_bulk.py get them with the schema) and in
`portal demo --reset` after the wipe; never from a page. Code that reads a policy or the default
calendar and finds none falls back to the same values in memory, without writing
(``portal.services.sla.policy_for_priority``, ``portal.services.calendars.for_organisation``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from portal.domain import calendar as cal
from portal.domain import sla as rules

DEFAULT_CALENDAR_NAME = "China"
DEFAULT_CALENDAR_COUNTRY = "CN"
DEFAULT_ESCALATE_AFTER_MINUTES = 60

# plain table constructs with only the columns written here, not the models: the migration
# that calls this keeps working when the models gain columns later
_calendars = sa.table(
    "calendars",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("timezone", sa.String),
    sa.column("country", sa.String),
    sa.column("working_hours", sa.JSON),
)
_policies = sa.table(
    "sla_policies",
    sa.column("organisation_id", sa.Integer),
    sa.column("priority", sa.String),
    sa.column("respond_amount", sa.Integer),
    sa.column("respond_unit", sa.String),
    sa.column("resolve_amount", sa.Integer),
    sa.column("resolve_unit", sa.String),
    sa.column("warn_percent", sa.Integer),
    sa.column("escalate_after_minutes", sa.Integer),
)


def policy_values(priority: str) -> dict:
    """The template's default policy of ``priority`` (the desk's: no organisation)."""
    ra, ru, sa_, su = rules.DEFAULT_TARGETS[priority]
    return {
        "organisation_id": None,
        "priority": priority,
        "respond_amount": ra,
        "respond_unit": ru,
        "resolve_amount": sa_,
        "resolve_unit": su,
        "warn_percent": rules.DEFAULT_WARN_PERCENT,
        "escalate_after_minutes": DEFAULT_ESCALATE_AFTER_MINUTES,
    }


def calendar_values(timezone: str) -> dict:
    """The default calendar: China's working days (Monday to Friday 09:00–12:00 and
    13:00–18:00, the State Council's holidays) in the desk's time zone."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"PORTAL_TIMEZONE {timezone!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from None
    return {
        "name": DEFAULT_CALENDAR_NAME,
        "timezone": timezone,
        "country": DEFAULT_CALENDAR_COUNTRY,
        "working_hours": cal.DEFAULT_WORKING_HOURS,
    }


def ensure_defaults(connection: Connection, timezone: str) -> dict[str, int]:
    """Create the defaults that are missing, in the caller's transaction: the default calendar
    when there is no calendar at all, and the desk's policy of each priority that has none.
    Returns how many rows it added per table; safe to run again."""
    added = {"calendars": 0, "sla_policies": 0}
    if connection.scalar(sa.select(_calendars.c.id).limit(1)) is None:
        connection.execute(sa.insert(_calendars).values(**calendar_values(timezone)))
        added["calendars"] = 1
    have = set(
        connection.scalars(
            sa.select(_policies.c.priority).where(_policies.c.organisation_id.is_(None))
        )
    )
    missing = [policy_values(p) for p in rules.DEFAULT_TARGETS if p not in have]
    if missing:
        connection.execute(sa.insert(_policies), missing)
        added["sla_policies"] = len(missing)
    return added
