"""listening rollup totals: the daily rollup summed over its whole history per workspace,
topic and source kind

The listening dashboard opens without a date, platform or stage filter and shows the total
and the kinds of source: each visit summed every rollup row of the workspace's history
(16,500 rows at 100,000 mentions). ``listening_rollup_totals`` holds those sums, moved by
every change to the rollup in the same transaction; filled here from the rollup.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listening_rollup_totals",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("positive", sa.BigInteger(), nullable=False),
        sa.Column("neutral", sa.BigInteger(), nullable=False),
        sa.Column("negative", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_listening_rollup_totals_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "topic_id", "source_kind", name=op.f("pk_listening_rollup_totals")
        ),
    )
    op.execute(
        "INSERT INTO listening_rollup_totals"
        " (workspace_id, topic_id, source_kind, positive, neutral, negative)"
        " SELECT workspace_id, topic_id, source_kind, SUM(positive), SUM(neutral), SUM(negative)"
        " FROM listening_daily_rollups GROUP BY workspace_id, topic_id, source_kind"
    )


def downgrade() -> None:
    op.drop_table("listening_rollup_totals")
