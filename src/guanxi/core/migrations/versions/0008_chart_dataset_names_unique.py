"""market datasets: one dataset of a name per workspace, and one public one

Two imports into a new dataset name at the same moment each created a dataset. A unique
index per owner (partial: in SQL two NULL workspaces differ, so public datasets get their
own) lets the database refuse the second, which then uses the first. Datasets that already
share a name keep their data: all but the oldest get their id appended to the name.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLIC = "workspace_id IS NULL"
OWNED = "workspace_id IS NOT NULL"


def upgrade() -> None:
    """Apply this revision."""
    # Rename the younger duplicates, "Charts" -> "Charts (12)", within the 120 characters.
    op.execute(
        sa.text(
            "UPDATE market_datasets SET name = substr(name, 1, 100) || ' (' || id || ')' "
            "WHERE EXISTS (SELECT 1 FROM market_datasets AS older "
            "WHERE older.name = market_datasets.name AND older.id < market_datasets.id "
            "AND (older.workspace_id = market_datasets.workspace_id "
            "OR (older.workspace_id IS NULL AND market_datasets.workspace_id IS NULL)))"
        )
    )
    with op.batch_alter_table("market_datasets", schema=None) as batch_op:
        batch_op.create_index(
            "uq_market_datasets_name_public",
            ["name"],
            unique=True,
            sqlite_where=sa.text(PUBLIC),
            postgresql_where=sa.text(PUBLIC),
        )
        batch_op.create_index(
            "uq_market_datasets_workspace_id_name",
            ["workspace_id", "name"],
            unique=True,
            sqlite_where=sa.text(OWNED),
            postgresql_where=sa.text(OWNED),
        )


def downgrade() -> None:
    """Revert this revision (renamed datasets keep their new names)."""
    with op.batch_alter_table("market_datasets", schema=None) as batch_op:
        batch_op.drop_index("uq_market_datasets_workspace_id_name")
        batch_op.drop_index("uq_market_datasets_name_public")
