"""conversions: tracked links, clicks, orders, refunds, KOLs and promo codes

A tracked link redirects a short address of the brand's to a destination with UTM
parameters; each visit is a click row (platform, device, the client's network, a bot flag,
the click id given to the destination), and a partial unique index lets one click per
visitor, link and hour be counted. Orders are the shops' (one per source and order id),
with the identifiers that tie them to a touch; refunds are rows of their own.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:04:43.920712
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "convert_kols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("handle", sa.String(length=120), nullable=False),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_kols_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_kols")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_convert_kols_workspace_id_name")),
    )
    op.create_table(
        "convert_orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ordered_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("shop", sa.String(length=120), nullable=False),
        sa.Column("items", sa.String(length=400), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("province", sa.String(length=20), nullable=False),
        sa.Column("click_id", sa.String(length=32), nullable=False),
        sa.Column("promo_code", sa.String(length=40), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("attach", sa.String(length=128), nullable=False),
        sa.Column("author_id", sa.String(length=64), nullable=False),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("video_id", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.String(length=64), nullable=False),
        sa.Column("traffic_source", sa.String(length=40), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("updated_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_orders_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_orders")),
        sa.UniqueConstraint(
            "workspace_id",
            "source",
            "external_id",
            name=op.f("uq_convert_orders_workspace_id_source_external_id"),
        ),
    )
    with op.batch_alter_table("convert_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_convert_orders_click_id"), ["click_id"], unique=False)
        batch_op.create_index(
            "ix_convert_orders_workspace_time", ["workspace_id", "ordered_at"], unique=False
        )

    op.create_table(
        "convert_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("order_external_id", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_refunds_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_refunds")),
        sa.UniqueConstraint(
            "workspace_id",
            "source",
            "external_id",
            name=op.f("uq_convert_refunds_workspace_id_source_external_id"),
        ),
    )
    with op.batch_alter_table("convert_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_convert_refunds_order_external_id"), ["order_external_id"], unique=False
        )

    op.create_table(
        "convert_promo_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kol_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_convert_promo_codes_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["kol_id"],
            ["convert_kols.id"],
            name=op.f("fk_convert_promo_codes_kol_id_convert_kols"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_promo_codes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_promo_codes")),
        sa.UniqueConstraint(
            "workspace_id", "code", name=op.f("uq_convert_promo_codes_workspace_id_code")
        ),
    )
    op.create_table(
        "convert_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("original_url", sa.String(length=2000), nullable=False),
        sa.Column("destination", sa.String(length=2400), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("utm_source", sa.String(length=100), nullable=False),
        sa.Column("utm_medium", sa.String(length=100), nullable=False),
        sa.Column("utm_campaign", sa.String(length=100), nullable=False),
        sa.Column("utm_content", sa.String(length=100), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_convert_links_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_convert_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_convert_links_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["publish_targets.id"],
            name=op.f("fk_convert_links_target_id_publish_targets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_links_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_links")),
        sa.UniqueConstraint("key", name=op.f("uq_convert_links_key")),
    )
    with op.batch_alter_table("convert_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_convert_links_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_convert_links_post_id"), ["post_id"], unique=False)
        batch_op.create_index(
            "ix_convert_links_workspace", ["workspace_id", "created_at"], unique=False
        )

    op.create_table(
        "convert_clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("click_id", sa.String(length=32), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("clicked_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("network", sa.String(length=50), nullable=False),
        sa.Column("platform", sa.String(length=30), nullable=False),
        sa.Column("device", sa.String(length=10), nullable=False),
        sa.Column("referrer_host", sa.String(length=200), nullable=False),
        sa.Column("bot", sa.Boolean(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["convert_links.id"],
            name=op.f("fk_convert_clicks_link_id_convert_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_clicks_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_clicks")),
        sa.UniqueConstraint("click_id", name=op.f("uq_convert_clicks_click_id")),
    )
    with op.batch_alter_table("convert_clicks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_convert_clicks_link_time", ["link_id", "clicked_at"], unique=False
        )
        batch_op.create_index(
            "ix_convert_clicks_workspace_time", ["workspace_id", "clicked_at"], unique=False
        )
        batch_op.create_index(
            "uq_convert_clicks_counted",
            ["link_id", "visitor", "hour"],
            unique=True,
            sqlite_where=sa.text("counted"),
            postgresql_where=sa.text("counted"),
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("convert_clicks", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_convert_clicks_counted",
            sqlite_where=sa.text("counted"),
            postgresql_where=sa.text("counted"),
        )
        batch_op.drop_index("ix_convert_clicks_workspace_time")
        batch_op.drop_index("ix_convert_clicks_link_time")

    op.drop_table("convert_clicks")
    with op.batch_alter_table("convert_links", schema=None) as batch_op:
        batch_op.drop_index("ix_convert_links_workspace")
        batch_op.drop_index(batch_op.f("ix_convert_links_post_id"))
        batch_op.drop_index(batch_op.f("ix_convert_links_campaign_id"))

    op.drop_table("convert_links")
    op.drop_table("convert_promo_codes")
    with op.batch_alter_table("convert_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_convert_refunds_order_external_id"))

    op.drop_table("convert_refunds")
    with op.batch_alter_table("convert_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_convert_orders_workspace_time")
        batch_op.drop_index(batch_op.f("ix_convert_orders_click_id"))

    op.drop_table("convert_orders")
    op.drop_table("convert_kols")
