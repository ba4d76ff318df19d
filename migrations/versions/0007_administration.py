"""administration: managed categories, desk settings, staged contact imports, staff level and
leave, invitations, the feedback window per organisation, and deactivating departments, skills
and built-in vague phrases

Categories were free text until now; each (request type, category) pair already used by a skill
or a request becomes a category of that type, named by its code until an admin renames it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("request_type", "code", name=op.f("uq_categories_request_type_code")),
    )
    op.create_table(
        "desk_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["accounts.id"], name=op.f("fk_desk_settings_updated_by_id_accounts")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_desk_settings")),
    )
    op.create_table(
        "contact_imports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["accounts.id"],
            name=op.f("fk_contact_imports_created_by_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_imports")),
    )
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("staff_level", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("on_leave_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column("feedback_window_days", sa.Integer(), server_default="3", nullable=False)
        )
    with op.batch_alter_table("departments") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("skills") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("vague_phrases") as batch:
        batch.add_column(
            sa.Column("removed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    bind = op.get_bind()
    pairs = set()
    for table, type_col in (("skills", "request_type"), ("service_requests", "type")):
        t = sa.table(table, sa.column(type_col, sa.String), sa.column("category", sa.String))
        rows = bind.execute(
            sa.select(t.c[type_col], t.c.category)
            .where(t.c[type_col].is_not(None), t.c.category.is_not(None), t.c.category != "")
            .distinct()
        )
        pairs.update((r[0], r[1].strip()) for r in rows if r[1].strip())
    if pairs:
        categories = sa.table(
            "categories",
            sa.column("request_type", sa.String),
            sa.column("code", sa.String),
            sa.column("name_zh", sa.String),
            sa.column("name_en", sa.String),
            sa.column("position", sa.Integer),
            sa.column("active", sa.Boolean),
        )
        bind.execute(
            sa.insert(categories),
            [
                {
                    "request_type": rt,
                    "code": code[:60],
                    "name_zh": code[:100],
                    "name_en": code[:100],
                    "position": i,
                    "active": True,
                }
                for i, (rt, code) in enumerate(sorted(pairs))
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("vague_phrases") as batch:
        batch.drop_column("removed")
    with op.batch_alter_table("skills") as batch:
        batch.drop_column("active")
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("active")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("feedback_window_days")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("invited_at")
        batch.drop_column("on_leave_until")
        batch.drop_column("staff_level")
    op.drop_table("contact_imports")
    op.drop_table("desk_settings")
    op.drop_table("categories")
