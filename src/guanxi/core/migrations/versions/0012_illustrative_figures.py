"""analytics: figures made up for the demo are flagged illustrative

An account day or a measured post the demo wrote from the sandbox's growth model, rather than
one read from a platform, carries ``illustrative`` so the pages can say so.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    for table in ("account_days", "measured_posts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("illustrative", sa.Boolean(), server_default=sa.false(), nullable=False)
            )


def downgrade() -> None:
    """Revert this revision."""
    for table in ("measured_posts", "account_days"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("illustrative")
