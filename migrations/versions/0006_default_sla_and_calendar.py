"""the desk's default SLA policies and business calendar, created with the schema

Until now they were created on first use, by whatever read them first — including pages (a GET
that wrote, then threw the rows away). From here on they exist from the migration on: the
template's policy per priority (P1 2 h / 4 h, P2 4 h / 24 h, P3 8 working hours / 3 working
days) and, when there is no calendar at all, the "China" calendar in the desk's time zone
(PORTAL_TIMEZONE, passed by `portal db upgrade`, else read from the environment as the app
does). Rows that exist are left alone. See portal/services/defaults.py.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import context, op

from portal.config import desk_timezone
from portal.migrate import TIMEZONE_ATTRIBUTE
from portal.services.defaults import ensure_defaults

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timezone = context.config.attributes.get(TIMEZONE_ATTRIBUTE) or desk_timezone()
    ensure_defaults(op.get_bind(), timezone)


def downgrade() -> None:
    # the defaults may have been edited and are referenced by organisations: they stay
    pass
