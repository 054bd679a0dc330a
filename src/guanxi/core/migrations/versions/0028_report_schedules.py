"""report_schedules: reports e-mailed every week, month or quarter, and what each sent

A schedule keeps its local time and the next firing in UTC (None while paused), its formats,
languages and recipients (member ids and outside addresses as JSON); a delivery keeps the
period it covered, its files (JSON, under the data directory, deleted after the retention
period), the addresses sent to and its attempts.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from guanxi.core.db import UTCDateTime

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keys(table: str) -> list[sa.schema.SchemaItem]:
    """The id, workspace and definition columns (and their keys) both tables have."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["report_definitions.id"],
            name=op.f(f"fk_{table}_definition_id_report_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "report_schedules",
        *_keys("report_schedules"),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=12), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("day_of_month", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("languages", sa.String(length=10), nullable=False),
        sa.Column("user_ids", sa.JSON(), nullable=False),
        sa.Column("outside_emails", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_report_schedules_created_by_id_users"),
            ondelete="SET NULL",
        ),
    )
    op.create_table(
        "report_deliveries",
        *_keys("report_deliveries"),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("total_size", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("sent_to", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("files_expire_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("files_deleted_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["report_schedules.id"],
            name=op.f("fk_report_deliveries_schedule_id_report_schedules"),
            ondelete="SET NULL",
        ),
    )
    for table, column in (
        ("report_schedules", "workspace_id"),
        ("report_schedules", "definition_id"),
        ("report_deliveries", "workspace_id"),
        ("report_deliveries", "definition_id"),
    ):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
    op.create_index(
        "ix_report_schedules_due", "report_schedules", ["active", "next_run_at"], unique=False
    )
    op.create_index(
        "ix_report_deliveries_due",
        "report_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("report_deliveries")
    op.drop_table("report_schedules")
