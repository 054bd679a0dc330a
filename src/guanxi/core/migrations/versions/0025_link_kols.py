"""convert: a tracked link may belong to a KOL (who shares it)

The KOL leaderboard counts the clicks on a KOL's links, and attribution credits a click's
orders to the link's KOL as well as its campaign and post.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("convert_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kol_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_convert_links_kol_id"), ["kol_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_convert_links_kol_id_convert_kols"),
            "convert_kols",
            ["kol_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("convert_links", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_convert_links_kol_id_convert_kols"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_convert_links_kol_id"))
        batch_op.drop_column("kol_id")
