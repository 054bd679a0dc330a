"""creator centre imports: the remembered column mappings and each import run

A workspace's column mapping per platform, kind of export (posts or account days) and header
row, so a file of the same shape imports with no questions; one run per uploaded export with
its counts and row errors.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 17:41:10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "metrics_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("headers_key", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("updated_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_metrics_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics_mappings")),
        sa.UniqueConstraint(
            "workspace_id",
            "platform",
            "kind",
            "headers_key",
            name=op.f("uq_metrics_mappings_workspace_id_platform_kind_headers_key"),
        ),
    )
    op.create_table(
        "metrics_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("storage_path", sa.String(length=400), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("observed_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("row_errors", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("error_params", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_metrics_imports_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_metrics_imports_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_metrics_imports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics_imports")),
    )
    with op.batch_alter_table("metrics_imports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metrics_imports_channel_digest", ["channel_id", "digest"], unique=False
        )
        batch_op.create_index(
            "ix_metrics_imports_workspace_created", ["workspace_id", "created_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("metrics_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_metrics_imports_workspace_created")
        batch_op.drop_index("ix_metrics_imports_channel_digest")

    op.drop_table("metrics_imports")
    op.drop_table("metrics_mappings")
