"""report: report definitions, the files made from them, and their share links

A definition keeps its sections (keys) in order with the manager's comments as JSON; a run
keeps its file under the data directory (path, size, SHA-256); a share link keeps only the
digest of its token, its expiry, its revocation and how often it was opened.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

from guanxi.core.db import UTCDateTime

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owned(table: str) -> list[SchemaItem]:
    """The id, workspace and author columns (and their keys) every report table has."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f(f"fk_{table}_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _of_definition(table: str) -> list[SchemaItem]:
    return [
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["report_definitions.id"],
            name=op.f(f"fk_{table}_definition_id_report_definitions"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "report_definitions",
        *_owned("report_definitions"),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("period_kind", sa.String(length=20), nullable=False),
        sa.Column("custom_start", sa.Date(), nullable=True),
        sa.Column("custom_end", sa.Date(), nullable=True),
        sa.Column("comparison", sa.String(length=30), nullable=False),
        sa.Column("languages", sa.String(length=10), nullable=False),
        sa.Column("section_keys", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("include_empty", sa.Boolean(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "report_runs",
        *_owned("report_runs"),
        *_of_definition("report_runs"),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("compare_start", sa.Date(), nullable=True),
        sa.Column("compare_end", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("file_path", sa.String(length=300), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "report_shares",
        *_owned("report_shares"),
        *_of_definition("report_shares"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("last_opened_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token_hash", name=op.f("uq_report_shares_token_hash")),
    )
    for table, column in (
        ("report_definitions", "workspace_id"),
        ("report_runs", "workspace_id"),
        ("report_runs", "definition_id"),
        ("report_shares", "workspace_id"),
        ("report_shares", "definition_id"),
    ):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("report_shares")
    op.drop_table("report_runs")
    op.drop_table("report_definitions")
