"""analytics: figures made up for the demo are flagged illustrative; a period's totals from
one index

An account day or a measured post the demo wrote from the sandbox's growth model, rather than
one read from a platform, carries ``illustrative`` so the pages can say so. The workspace's
(workspace, published) index of measured posts also holds the channel and the figures, so a
period's totals are summed from the index alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIOD_COLUMNS = [
    "workspace_id",
    "published_at",
    "channel_id",
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "wows",
]


def upgrade() -> None:
    """Apply this revision."""
    for table in ("account_days", "measured_posts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("illustrative", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
    with op.batch_alter_table("measured_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_measured_posts_workspace_published")
        batch_op.create_index("ix_measured_posts_workspace_period", PERIOD_COLUMNS, unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("measured_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_measured_posts_workspace_period")
        batch_op.create_index(
            "ix_measured_posts_workspace_published", ["workspace_id", "published_at"], unique=False
        )
    for table in ("measured_posts", "account_days"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("illustrative")
