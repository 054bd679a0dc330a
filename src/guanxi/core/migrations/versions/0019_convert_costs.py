"""conversion costs and attribution defaults

A cost is money spent on a campaign, a KOL, a post or a platform over one day or a range of
days (campaign budget, KOL fee, ad spend, other), in fen, unique per workspace on its
natural key (target, kind, days) so that entering or importing it again updates it. A
workspace's attribution defaults are its lookback window and time-decay half-life.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "convert_settings",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("half_life_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_convert_settings")),
    )
    op.create_table(
        "convert_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=10), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("kol_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.Column("natural_key", sa.String(length=120), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_convert_costs_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["kol_id"],
            ["convert_kols.id"],
            name=op.f("fk_convert_costs_kol_id_convert_kols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_convert_costs_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_costs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_costs")),
        sa.UniqueConstraint(
            "workspace_id", "natural_key", name=op.f("uq_convert_costs_workspace_id_natural_key")
        ),
    )
    with op.batch_alter_table("convert_costs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_convert_costs_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_convert_costs_kol_id"), ["kol_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_convert_costs_post_id"), ["post_id"], unique=False)
        batch_op.create_index(
            "ix_convert_costs_workspace_days", ["workspace_id", "starts_on"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("convert_costs", schema=None) as batch_op:
        batch_op.drop_index("ix_convert_costs_workspace_days")
        batch_op.drop_index(batch_op.f("ix_convert_costs_post_id"))
        batch_op.drop_index(batch_op.f("ix_convert_costs_kol_id"))
        batch_op.drop_index(batch_op.f("ix_convert_costs_campaign_id"))

    op.drop_table("convert_costs")
    op.drop_table("convert_settings")
