"""privacy and records: contact reveals; the audit chain made whole and append-only

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "contact_reveals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_contact_reveals_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_contact_reveals_request_id_service_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_reveals")),
    )
    with op.batch_alter_table("contact_reveals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_reveals_lookup", ["request_id", "account_id", "expires_at"], unique=False
        )
        batch_op.create_index("ix_contact_reveals_revealed", ["revealed_at", "id"], unique=False)

    _chain_existing_rows()

    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()"
        )


def _chain_existing_rows() -> None:
    """Rows written before the chain existed get their hashes, in id order."""
    from portal.services.audit import row_hash

    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer),
        sa.column("occurred_at", UTCDateTime()),
        sa.column("actor_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("object_type", sa.String),
        sa.column("object_id", sa.String),
        sa.column("before", sa.JSON),
        sa.column("after", sa.JSON),
        sa.column("ip", sa.String),
        sa.column("http_request_id", sa.String),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    conn = op.get_bind()
    prev = None
    for row in conn.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        fields = SimpleNamespace(**{**row, "prev_hash": prev})
        digest = row_hash(fields)
        conn.execute(
            events.update().where(events.c.id == row["id"]).values(prev_hash=prev, hash=digest)
        )
        prev = digest


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")
    with op.batch_alter_table("contact_reveals", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_reveals_revealed")
        batch_op.drop_index("ix_contact_reveals_lookup")
    op.drop_table("contact_reveals")
