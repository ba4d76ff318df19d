"""The desk's defaults (docs/product.md §4): the built-in SLA policy with the template's targets
per priority, and the default business calendar in the desk's time zone (PORTAL_TIMEZONE).

``ensure_defaults`` is the one place that creates them. It runs in the data migration 0008 (so
`portal db upgrade`, the demo, the tests and bench/seed_bulk.py get them with the schema; 0006
keeps its own frozen copy for the table as it was then) and in `portal demo --reset` after the
wipe; never from a page. Code that reads a policy or the default calendar and finds none falls
back to the same values in memory, without writing (``portal.services.sla.policy_for_priority``,
``portal.services.calendars.for_organisation``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from portal.domain import calendar as cal
from portal.domain import sla as rules
from portal.models import utcnow

DEFAULT_CALENDAR_NAME = "China"
DEFAULT_CALENDAR_COUNTRY = "CN"
DEFAULT_ESCALATE_AFTER_MINUTES = 60
# the stored name of the built-in policy; pages show it as "标准" / "Standard"
BUILTIN_POLICY_NAME = "标准"

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
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("builtin", sa.Boolean),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_versions = sa.table(
    "sla_policy_versions",
    sa.column("id", sa.Integer),
    sa.column("policy_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("created_by_id", sa.Integer),
)
_targets = sa.table(
    "sla_targets",
    sa.column("version_id", sa.Integer),
    sa.column("priority", sa.String),
    sa.column("respond_amount", sa.Integer),
    sa.column("respond_unit", sa.String),
    sa.column("resolve_amount", sa.Integer),
    sa.column("resolve_unit", sa.String),
    sa.column("warn_percent", sa.Integer),
    sa.column("escalate_after_minutes", sa.Integer),
)


def target_values(priority: str) -> dict:
    """The template's targets of ``priority`` (those of the built-in policy's first version)."""
    ra, ru, sa_, su = rules.DEFAULT_TARGETS[priority]
    return {
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


def _free_name(connection: Connection, name: str) -> str:
    taken = set(connection.scalars(sa.select(_policies.c.name)))
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name} {n}"
    return candidate


def ensure_defaults(connection: Connection, timezone: str) -> dict[str, int]:
    """Create the defaults that are missing, in the caller's transaction: the default calendar
    when there is no calendar at all; the built-in SLA policy with its version 1 when there is
    none; and in the built-in policy's current version, the template's targets of each priority
    that has none. Returns how many rows it added per table; safe to run again."""
    added = {"calendars": 0, "sla_policies": 0, "sla_targets": 0}
    if connection.scalar(sa.select(_calendars.c.id).limit(1)) is None:
        connection.execute(sa.insert(_calendars).values(**calendar_values(timezone)))
        added["calendars"] = 1
    now = utcnow()
    policy_id = connection.scalar(
        sa.select(_policies.c.id).where(_policies.c.builtin.is_(True)).order_by(_policies.c.id)
    )
    if policy_id is None:
        policy_id = connection.execute(
            sa.insert(_policies)
            .values(
                name=_free_name(connection, BUILTIN_POLICY_NAME),
                builtin=True,
                active=True,
                created_at=now,
            )
            .returning(_policies.c.id)
        ).scalar_one()
        added["sla_policies"] = 1
    version_id = connection.scalar(
        sa.select(_versions.c.id)
        .where(_versions.c.policy_id == policy_id)
        .order_by(_versions.c.number.desc())
        .limit(1)
    )
    if version_id is None:
        version_id = connection.execute(
            sa.insert(_versions)
            .values(policy_id=policy_id, number=1, created_at=now, created_by_id=None)
            .returning(_versions.c.id)
        ).scalar_one()
    have = set(
        connection.scalars(
            sa.select(_targets.c.priority).where(_targets.c.version_id == version_id)
        )
    )
    missing = [
        {"version_id": version_id, **target_values(p)}
        for p in rules.DEFAULT_TARGETS
        if p not in have
    ]
    if missing:
        connection.execute(sa.insert(_targets), missing)
        added["sla_targets"] = len(missing)
    return added
