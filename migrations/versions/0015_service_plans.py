"""periodic service plans: the plan's schedule and the occurrences it opened

The empty service_plans table of 0001 (nothing ever wrote to it) gets its real columns.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("service_plans") as batch:
        batch.drop_index("ix_service_plans_due")
        batch.drop_column("request_type")
        batch.drop_column("recurrence")
        batch.drop_column("next_run_at")
        batch.drop_column("active")
        batch.add_column(sa.Column("service_item", sa.String(length=200), nullable=False))
        batch.add_column(sa.Column("handler_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rule", sa.String(length=300), nullable=False))
        batch.add_column(sa.Column("shift", sa.String(length=10), nullable=False))
        batch.add_column(sa.Column("lead_days", sa.Integer(), nullable=False))
        batch.add_column(sa.Column("priority", sa.String(length=2), nullable=False))
        batch.add_column(sa.Column("sla_policy_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=False))
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("paused_at", UTC, nullable=True))
        batch.add_column(sa.Column("effective_from", UTC, nullable=False))
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=False))
        batch.add_column(sa.Column("updated_at", UTC, nullable=False))
        batch.create_foreign_key(
            op.f("fk_service_plans_handler_id_accounts"), "accounts", ["handler_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_service_plans_department_id_departments"),
            "departments",
            ["department_id"],
            ["id"],
        )
        batch.create_foreign_key(
            op.f("fk_service_plans_sla_policy_id_sla_policies"),
            "sla_policies",
            ["sla_policy_id"],
            ["id"],
        )
        batch.create_foreign_key(
            op.f("fk_service_plans_created_by_id_accounts"), "accounts", ["created_by_id"], ["id"]
        )
        batch.create_index("ix_service_plans_organisation", ["organisation_id", "id"])
    op.create_table(
        "plan_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("occurs_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("open_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["service_plans.id"],
            name=op.f("fk_plan_occurrences_plan_id_service_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_plan_occurrences_request_id_service_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_occurrences")),
        sa.UniqueConstraint(
            "plan_id", "occurs_on", name=op.f("uq_plan_occurrences_plan_id_occurs_on")
        ),
        sa.UniqueConstraint("request_id", name=op.f("uq_plan_occurrences_request_id")),
    )
    op.create_index("ix_plan_occurrences_due", "plan_occurrences", ["due_on"])


def downgrade() -> None:
    op.drop_index("ix_plan_occurrences_due", table_name="plan_occurrences")
    op.drop_table("plan_occurrences")
    with op.batch_alter_table("service_plans") as batch:
        batch.drop_index("ix_service_plans_organisation")
        for name in ("handler_id", "department_id", "sla_policy_id", "created_by_id"):
            batch.drop_constraint(op.f(f"fk_service_plans_{name}_{_target(name)}"), "foreignkey")
        for name in (
            "service_item", "handler_id", "department_id", "rule", "shift", "lead_days",
            "priority", "sla_policy_id", "starts_on", "ends_on", "paused_at", "effective_from",
            "created_by_id", "updated_at",
        ):  # fmt: skip
            batch.drop_column(name)
        batch.add_column(sa.Column("request_type", sa.String(length=20), nullable=False))
        batch.add_column(sa.Column("recurrence", sa.String(length=16), nullable=False))
        batch.add_column(sa.Column("next_run_at", UTC, nullable=False))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False))
        batch.create_index("ix_service_plans_due", ["active", "next_run_at"])


def _target(column: str) -> str:
    return {
        "handler_id": "accounts",
        "department_id": "departments",
        "sla_policy_id": "sla_policies",
        "created_by_id": "accounts",
    }[column]
