"""reports: the time each SLA target took, the monthly feedback analysis report, review meetings

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy on SQLite: 0008's downgrade drops its column in place)
    op.add_column("service_requests", sa.Column("response_seconds", sa.Integer(), nullable=True))
    op.add_column("service_requests", sa.Column("resolution_seconds", sa.Integer(), nullable=True))
    op.add_column(
        "service_requests",
        sa.Column(
            "hours_logged", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False
        ),
    )
    op.create_index("ix_sr_submitted", "service_requests", ["submitted_at", "id"])
    # the hours the steps logged so far (portal/services/workflow/hours.py keeps them from now on)
    op.execute(
        "UPDATE service_requests SET hours_logged = COALESCE(("
        "SELECT SUM(s.hours) FROM handling_steps s JOIN handling_records r ON r.id = s.record_id "
        "WHERE r.request_id = service_requests.id), 0)"
    )
    op.create_table(
        "feedback_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["generated_by_id"],
            ["accounts.id"],
            name=op.f("fk_feedback_reports_generated_by_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_feedback_reports_number")),
        sa.UniqueConstraint("month", name=op.f("uq_feedback_reports_month")),
    )
    op.create_table(
        "review_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["feedback_reports.id"],
            name=op.f("fk_review_meetings_report_id_feedback_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["accounts.id"],
            name=op.f("fk_review_meetings_recorded_by_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_meetings")),
    )
    op.create_index(
        op.f("ix_review_meetings_report_id"), "review_meetings", ["report_id"], unique=False
    )
    # an improvement measure from a review meeting's decision has no feedback
    with op.batch_alter_table("improvement_measures") as batch:
        batch.alter_column("feedback_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("review_meeting_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_improvement_measures_review_meeting_id_review_meetings"),
            "review_meetings",
            ["review_meeting_id"],
            ["id"],
        )
        batch.create_index(
            op.f("ix_improvement_measures_review_meeting_id"), ["review_meeting_id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM improvement_measures WHERE feedback_id IS NULL")
    with op.batch_alter_table("improvement_measures") as batch:
        batch.drop_index(op.f("ix_improvement_measures_review_meeting_id"))
        batch.drop_constraint(
            op.f("fk_improvement_measures_review_meeting_id_review_meetings"), type_="foreignkey"
        )
        batch.drop_column("review_meeting_id")
        batch.alter_column("feedback_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f("ix_review_meetings_report_id"), table_name="review_meetings")
    op.drop_table("review_meetings")
    op.drop_table("feedback_reports")
    op.drop_index("ix_sr_submitted", table_name="service_requests")
    op.drop_column("service_requests", "hours_logged")
    op.drop_column("service_requests", "resolution_seconds")
    op.drop_column("service_requests", "response_seconds")
