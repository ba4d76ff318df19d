"""stored SLA warning instants on the request, indexed for the sweep

The warning times are computed in working time on the request's calendar
(portal.services.sla.warn_at) and kept by the SLA service; the timers and the sweep read them.
Rows of requests already open stay NULL until their clock next changes (then the service fills
them in): run ``sla.refresh_warn_times`` over the open requests to fill them at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("response_warn_at", "resolution_warn_at"):
        op.add_column(
            "service_requests", sa.Column(name, sa.DateTime(timezone=True), nullable=True)
        )
    op.create_index("ix_sr_response_warn", "service_requests", ["response_warn_at"])
    op.create_index("ix_sr_resolution_warn", "service_requests", ["resolution_warn_at"])


def downgrade() -> None:
    op.drop_index("ix_sr_resolution_warn", table_name="service_requests")
    op.drop_index("ix_sr_response_warn", table_name="service_requests")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("resolution_warn_at")
        batch.drop_column("response_warn_at")
