"""the desk's default SLA policies and business calendar, created with the schema

Until now they were created on first use, by whatever read them first — including pages (a GET
that wrote, then threw the rows away). From here on they exist from the migration on: the
template's policy per priority (P1 2 h / 4 h, P2 4 h / 24 h, P3 8 working hours / 3 working
days) and, when there is no calendar at all, the "China" calendar in the desk's time zone
(PORTAL_TIMEZONE, passed by `portal db upgrade`, else read from the environment as the app
does). Rows that exist are left alone.

The logic is frozen here as it stood at this revision, on the table as it was then (one row per
organisation or NULL and priority): migration 0008 replaced that table by named, versioned
policies, and portal/services/defaults.py now writes those.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import context, op

from portal.config import desk_timezone
from portal.migrate import TIMEZONE_ATTRIBUTE

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# the template's targets as they were at this revision: (respond, unit, resolve, unit)
TARGETS = {
    "P1": (2, "hours", 4, "hours"),
    "P2": (4, "hours", 24, "hours"),
    "P3": (8, "working_hours", 3, "working_days"),
}
WARN_PERCENT = 75
ESCALATE_AFTER_MINUTES = 60
WORKING_HOURS = {
    str(day): [["09:00", "12:00"], ["13:00", "18:00"]] for day in range(5)
}  # Monday "0" to Friday "4"

calendars = sa.table(
    "calendars",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("timezone", sa.String),
    sa.column("country", sa.String),
    sa.column("working_hours", sa.JSON),
)
policies = sa.table(
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


def upgrade() -> None:
    timezone = context.config.attributes.get(TIMEZONE_ATTRIBUTE) or desk_timezone()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"PORTAL_TIMEZONE {timezone!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from None
    bind = op.get_bind()
    if bind.scalar(sa.select(calendars.c.id).limit(1)) is None:
        bind.execute(
            sa.insert(calendars).values(
                name="China", timezone=timezone, country="CN", working_hours=WORKING_HOURS
            )
        )
    have = set(
        bind.scalars(sa.select(policies.c.priority).where(policies.c.organisation_id.is_(None)))
    )
    missing = [
        {
            "organisation_id": None,
            "priority": priority,
            "respond_amount": ra,
            "respond_unit": ru,
            "resolve_amount": sa_,
            "resolve_unit": su,
            "warn_percent": WARN_PERCENT,
            "escalate_after_minutes": ESCALATE_AFTER_MINUTES,
        }
        for priority, (ra, ru, sa_, su) in TARGETS.items()
        if priority not in have
    ]
    if missing:
        bind.execute(sa.insert(policies), missing)


def downgrade() -> None:
    # the defaults may have been edited and are referenced by organisations: they stay
    pass
