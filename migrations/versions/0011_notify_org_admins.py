"""organisations: whether their org admins are told of hand-offs, as the contact is

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE on both databases (a batch copy of organisations would trip the foreign
    # keys that point at it on SQLite)
    op.add_column(
        "organisations",
        sa.Column("notify_org_admins", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("organisations", "notify_org_admins")
