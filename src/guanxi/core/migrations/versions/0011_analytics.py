"""analytics: the brand's own posts and accounts as time series

Measured posts (published with guanxi, found in the account's posts, or imported) and their
snapshots; each account's daily figures and their breakdowns; what the collector did per
channel and the ranges it could not collect; a workspace's custom metrics.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "custom_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("formula", sa.String(length=200), nullable=False),
        sa.Column("display", sa.String(length=10), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_custom_metrics_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_custom_metrics_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_metrics")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_custom_metrics_workspace_id_name")
        ),
    )
    op.create_table(
        "account_day_breakdowns",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("breakdown", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_account_day_breakdowns_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "channel_id", "day", "breakdown", "key", name=op.f("pk_account_day_breakdowns")
        ),
    )
    op.create_table(
        "account_days",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("collected_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("saves", sa.BigInteger(), nullable=True),
        sa.Column("wows", sa.BigInteger(), nullable=True),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("new_followers", sa.BigInteger(), nullable=True),
        sa.Column("lost_followers", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_account_days_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "day", name=op.f("pk_account_days")),
    )
    op.create_table(
        "collection_states",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("posts_cursor", sa.String(length=400), nullable=False),
        sa.Column("posts_read_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("snapshots_taken_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("days_through", sa.Date(), nullable=True),
        sa.Column("days_collected_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("history_from", sa.Date(), nullable=True),
        sa.Column("backfill_done_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_error_params", sa.JSON(), nullable=False),
        sa.Column("last_error_code", sa.String(length=40), nullable=False),
        sa.Column("last_error_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_collection_states_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_collection_states")),
    )
    op.create_table(
        "missing_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_params", sa.JSON(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_missing_figures_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missing_figures")),
    )
    with op.batch_alter_table("missing_figures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_missing_figures_channel", ["channel_id", "kind", "first_day"], unique=False
        )

    op.create_table(
        "measured_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("publish_target_id", sa.Integer(), nullable=True),
        sa.Column("published_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=True),
        sa.Column("text_excerpt", sa.String(length=280), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("found_by", sa.String(length=12), nullable=False),
        sa.Column("found_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("plan", sa.String(length=10), nullable=False),
        sa.Column("next_snapshot_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_observed_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("snapshot_count", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("saves", sa.BigInteger(), nullable=True),
        sa.Column("wows", sa.BigInteger(), nullable=True),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("new_followers", sa.BigInteger(), nullable=True),
        sa.Column("lost_followers", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_measured_posts_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["publish_target_id"],
            ["publish_targets.id"],
            name=op.f("fk_measured_posts_publish_target_id_publish_targets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_measured_posts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measured_posts")),
        sa.UniqueConstraint(
            "channel_id", "external_id", name=op.f("uq_measured_posts_channel_id_external_id")
        ),
    )
    with op.batch_alter_table("measured_posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_measured_posts_channel_due", ["channel_id", "next_snapshot_at"], unique=False
        )
        batch_op.create_index(
            "ix_measured_posts_channel_published", ["channel_id", "published_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_measured_posts_publish_target_id"), ["publish_target_id"], unique=False
        )
        batch_op.create_index(
            "ix_measured_posts_workspace_published", ["workspace_id", "published_at"], unique=False
        )

    op.create_table(
        "post_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("as_of", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("saves", sa.BigInteger(), nullable=True),
        sa.Column("wows", sa.BigInteger(), nullable=True),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("new_followers", sa.BigInteger(), nullable=True),
        sa.Column("lost_followers", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["measured_posts.id"],
            name=op.f("fk_post_snapshots_post_id_measured_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_snapshots")),
        sa.UniqueConstraint(
            "post_id", "observed_at", name=op.f("uq_post_snapshots_post_id_observed_at")
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("post_snapshots")
    with op.batch_alter_table("measured_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_measured_posts_workspace_published")
        batch_op.drop_index(batch_op.f("ix_measured_posts_publish_target_id"))
        batch_op.drop_index("ix_measured_posts_channel_published")
        batch_op.drop_index("ix_measured_posts_channel_due")

    op.drop_table("measured_posts")
    with op.batch_alter_table("missing_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_missing_figures_channel")

    op.drop_table("missing_figures")
    op.drop_table("collection_states")
    op.drop_table("account_days")
    op.drop_table("account_day_breakdowns")
    op.drop_table("custom_metrics")
