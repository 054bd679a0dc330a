"""order imports: uploads of orders and platform reports, platform-reported conversions,
and the column mappings shared by every import

The analytics imports' remembered mappings (``metrics_mappings``) move to the shared
``column_mappings`` table, keyed by what the files are imported as ("analytics:<platform>:
<kind>", "orders", "report:<platform>"), with an optional name and the values' options.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "column_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("headers_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("updated_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_column_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_column_mappings")),
        sa.UniqueConstraint(
            "workspace_id",
            "purpose",
            "headers_key",
            name=op.f("uq_column_mappings_workspace_id_purpose_headers_key"),
        ),
    )
    op.execute(
        "INSERT INTO column_mappings "
        "(workspace_id, purpose, headers_key, name, mapping, options, updated_at) "
        "SELECT workspace_id, 'analytics:' || platform || ':' || kind, headers_key, '', "
        "mapping, '{}', updated_at FROM metrics_mappings"
    )
    op.drop_table("metrics_mappings")
    op.create_table(
        "convert_order_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("order_format", sa.String(length=20), nullable=False),
        sa.Column("storage_path", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("row_errors", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("error_params", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_convert_order_imports_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_order_imports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_order_imports")),
    )
    op.create_index(
        "ix_convert_order_imports_workspace",
        "convert_order_imports",
        ["workspace_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "convert_platform_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("subject_key", sa.String(length=200), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue_fen", sa.BigInteger(), nullable=False),
        sa.Column("spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["convert_order_imports.id"],
            name=op.f("fk_convert_platform_reports_import_id_convert_order_imports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_platform_reports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_platform_reports")),
        sa.UniqueConstraint(
            "workspace_id",
            "source",
            "day",
            "subject_key",
            name=op.f("uq_convert_platform_reports_workspace_id_source_day_subject_key"),
        ),
    )
    op.create_index(
        "ix_convert_platform_reports_day",
        "convert_platform_reports",
        ["workspace_id", "day"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision (the order mappings and the names of mappings are lost)."""
    op.drop_index("ix_convert_platform_reports_day", table_name="convert_platform_reports")
    op.drop_table("convert_platform_reports")
    op.drop_index("ix_convert_order_imports_workspace", table_name="convert_order_imports")
    op.drop_table("convert_order_imports")
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
    rows = op.get_bind().execute(
        sa.text(
            "SELECT workspace_id, purpose, headers_key, mapping, updated_at "
            "FROM column_mappings WHERE purpose LIKE 'analytics:%'"
        ).columns(
            sa.column("workspace_id", sa.Integer()),
            sa.column("purpose", sa.String()),
            sa.column("headers_key", sa.String()),
            sa.column("mapping", sa.JSON()),
            sa.column("updated_at", guanxi.core.db.UTCDateTime(timezone=True)),
        )
    )
    metrics = sa.table(
        "metrics_mappings",
        sa.column("workspace_id", sa.Integer()),
        sa.column("platform", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("headers_key", sa.String()),
        sa.column("mapping", sa.JSON()),
        sa.column("updated_at", guanxi.core.db.UTCDateTime(timezone=True)),
    )
    for workspace_id, purpose, key, mapping, updated_at in rows.fetchall():
        _analytics, platform, kind = purpose.split(":", 2)
        op.execute(
            metrics.insert().values(
                workspace_id=workspace_id,
                platform=platform,
                kind=kind,
                headers_key=key,
                mapping=mapping,
                updated_at=updated_at,
            )
        )
    op.drop_table("column_mappings")
