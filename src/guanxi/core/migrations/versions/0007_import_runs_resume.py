"""listening import runs: the last committed line and a heartbeat, to resume interrupted runs

An import killed mid-file (worker or web server stopped) stayed "running" forever. Each
committed batch now records its last line and the time; the sweeper finds runs whose
heartbeat is older than the lease and resumes them after that line.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("listening_import_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("line_committed", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("heartbeat_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("listening_import_runs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("line_committed")
