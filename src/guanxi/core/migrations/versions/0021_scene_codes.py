"""scene codes: WeChat QR codes, mini-program codes and URL Links, and their scans and follows

A scene code belongs to one WeChat account and is made for a campaign, post or KOL; one live
code per scene and account (archived ones keep their history, and an archived permanent
scene is given to the next permanent code). A code event is one person's (OpenID) scan or
follow, stored once per pushed event (WeChat retries a push).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 23:19:20.451358
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "convert_scene_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("kol_id", sa.Integer(), nullable=True),
        sa.Column("ticket", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=400), nullable=False),
        sa.Column("page", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("lifetime_days", sa.Integer(), nullable=False),
        sa.Column("expires_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("renewed_from_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_convert_scene_codes_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_convert_scene_codes_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_convert_scene_codes_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["kol_id"],
            ["convert_kols.id"],
            name=op.f("fk_convert_scene_codes_kol_id_convert_kols"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_convert_scene_codes_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["renewed_from_id"],
            ["convert_scene_codes.id"],
            name=op.f("fk_convert_scene_codes_renewed_from_id_convert_scene_codes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_scene_codes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_scene_codes")),
    )
    with op.batch_alter_table("convert_scene_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_convert_scene_codes_scene", ["workspace_id", "scene"], unique=False
        )
        batch_op.create_index(
            "ix_convert_scene_codes_workspace", ["workspace_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_convert_scene_codes_live",
            ["channel_id", "scene"],
            unique=True,
            sqlite_where=sa.text("archived_at IS NULL"),
            postgresql_where=sa.text("archived_at IS NULL"),
        )

    op.create_table(
        "convert_code_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_checked", sa.Boolean(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_convert_code_events_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["convert_scene_codes.id"],
            name=op.f("fk_convert_code_events_code_id_convert_scene_codes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_code_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_code_events")),
        sa.UniqueConstraint(
            "channel_id", "event_id", name=op.f("uq_convert_code_events_channel_id_event_id")
        ),
    )
    with op.batch_alter_table("convert_code_events", schema=None) as batch_op:
        batch_op.create_index("ix_convert_code_events_code", ["code_id", "kind"], unique=False)
        batch_op.create_index(
            "ix_convert_code_events_openid", ["workspace_id", "openid", "occurred_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("convert_code_events", schema=None) as batch_op:
        batch_op.drop_index("ix_convert_code_events_openid")
        batch_op.drop_index("ix_convert_code_events_code")

    op.drop_table("convert_code_events")
    with op.batch_alter_table("convert_scene_codes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_convert_scene_codes_live",
            sqlite_where=sa.text("archived_at IS NULL"),
            postgresql_where=sa.text("archived_at IS NULL"),
        )
        batch_op.drop_index("ix_convert_scene_codes_workspace")
        batch_op.drop_index("ix_convert_scene_codes_scene")

    op.drop_table("convert_scene_codes")
