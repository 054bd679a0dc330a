"""campaign regions: where and when a campaign ran, for its incremental revenue

The provinces or cities a campaign ran in (the treated regions) and its dates; every other
region with orders is a control of the difference-in-differences estimate.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 23:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "convert_campaign_regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("regions", sa.String(length=400), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("updated_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_convert_campaign_regions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_campaign_regions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_campaign_regions")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_convert_campaign_regions_campaign_id")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("convert_campaign_regions")
