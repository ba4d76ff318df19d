"""notification preferences per person and category, and the daily digests sent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_notification_preferences_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "account_id", "category", name=op.f("uq_notification_preferences_account_id_category")
        ),
    )
    op.create_table(
        "digest_watermarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_notification_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_digest_watermarks_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_watermarks")),
        sa.UniqueConstraint("account_id", "day", name=op.f("uq_digest_watermarks_account_id_day")),
    )


def downgrade() -> None:
    op.drop_table("digest_watermarks")
    op.drop_table("notification_preferences")
