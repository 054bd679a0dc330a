"""inbox: who has an item open (the collision warning) and the team's remark on a person

``inbox_item_presence`` holds one row per member with an item open, refreshed by the
thread page; ``inbox_people.remark`` is the name the team gives someone (WeChat gives an
Official Account no nickname).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from guanxi.core.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "inbox_item_presence",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("replying", sa.Boolean(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["inbox_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "user_id"),
    )
    op.create_index(
        op.f("ix_inbox_item_presence_seen_at"), "inbox_item_presence", ["seen_at"], unique=False
    )
    with op.batch_alter_table("inbox_people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("remark", sa.String(length=80), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("inbox_people", schema=None) as batch_op:
        batch_op.drop_column("remark")
    op.drop_index(op.f("ix_inbox_item_presence_seen_at"), table_name="inbox_item_presence")
    op.drop_table("inbox_item_presence")
