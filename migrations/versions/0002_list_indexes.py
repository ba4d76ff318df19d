"""indexes for the all-status lists and the queue's priority and due-time sorts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_sr_org_updated": ["organisation_id", "updated_at", "id"],
    "ix_sr_contact_updated": ["contact_id", "updated_at", "id"],
    "ix_sr_priority_updated": ["priority", "updated_at", "id"],
    "ix_sr_resolution_due_id": ["resolution_due_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "service_requests", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="service_requests")
