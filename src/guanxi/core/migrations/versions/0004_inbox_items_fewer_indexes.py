"""inbox items: drop the two indexes that lead others

``ix_inbox_items_workspace_id`` is the first column of ``ix_inbox_items_workspace_created``
and ``ix_inbox_items_workspace_status``; ``ix_inbox_items_channel_id`` of the unique
(channel, kind, external id) key and ``ix_inbox_items_channel_author``. Those serve every
lookup and cascade the two did; dropping them spares ingest two index writes a row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_items_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_items_channel_id"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_items_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbox_items_workspace_id"), ["workspace_id"], unique=False
        )
