"""analytics: a custom metric is named in Chinese too

A workspace's own metric has its English name (the one the API and the exports use, unique
in the workspace) and, optionally, its Chinese one, shown to those reading in Chinese.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("custom_metrics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_zh", sa.String(length=60), server_default="", nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("custom_metrics", schema=None) as batch_op:
        batch_op.drop_column("name_zh")
