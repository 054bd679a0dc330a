"""report branding: a workspace's logo, colours and PowerPoint master for its reports

One row a workspace (absent: the defaults); the logo as a PNG (and as its SVG when uploaded
as one) and the master as bytes, a few MB at most, checked where they are uploaded.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from guanxi.core.db import UTCDateTime

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_brands",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("primary_colour", sa.String(length=7), nullable=False),
        sa.Column("accent_colour", sa.String(length=7), nullable=False),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column("logo_svg", sa.LargeBinary(), nullable=True),
        sa.Column("template_pptx", sa.LargeBinary(), nullable=True),
        sa.Column("template_name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_brands_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_report_brands")),
    )


def downgrade() -> None:
    op.drop_table("report_brands")
