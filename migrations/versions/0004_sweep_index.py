"""index for the SLA sweep's "assigned, not started" read

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sr_status_assigned", "service_requests", ["status", "assigned_at"])


def downgrade() -> None:
    op.drop_index("ix_sr_status_assigned", table_name="service_requests")
