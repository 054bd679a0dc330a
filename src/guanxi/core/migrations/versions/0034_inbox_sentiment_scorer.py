"""inbox sentiment scorer: which model gave an inbox item its sentiment

Ingest scores every item with the fast model; with ``GUANXI_SENTIMENT_TIER=accurate`` the
worker re-scores recent items with the accurate tier. ``inbox_items.sentiment_scorer`` says
which model scored each row ("fast:<version>", "accurate:<version>", "lexicon"), so the
worker knows what is left and the inbox can show it. Items already stored keep NULL (scored
by the fast model before this was recorded). A nullable column: no table rebuild.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "inbox_items", sa.Column("sentiment_scorer", sa.String(length=100), nullable=True)
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("inbox_items", schema=None) as batch:
        batch.drop_column("sentiment_scorer")
