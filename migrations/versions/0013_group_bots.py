"""group bots (WeCom, DingTalk, Feishu) and the outbox's channel

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_bots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_bots")),
        sa.UniqueConstraint("name", name=op.f("uq_group_bots_name")),
    )
    with op.batch_alter_table("email_outbox") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=10), server_default="email", nullable=False)
        )
        batch.add_column(sa.Column("bot_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_email_outbox_bot_id_group_bots"), "group_bots", ["bot_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("email_outbox") as batch:
        batch.drop_constraint(op.f("fk_email_outbox_bot_id_group_bots"), type_="foreignkey")
        batch.drop_column("bot_id")
        batch.drop_column("channel")
    op.drop_table("group_bots")
