"""retention: each workspace's periods for raw analytics rows, and what is left of
deleted clicks and code events (their counts per hour)

``retention_settings``: one row per workspace and kind once an owner chose a period or a
deletion ran. ``convert_click_hours`` and ``convert_code_event_hours``: the counts of the
clicks and scene-code events retention deleted, added to the raw rows' by the pages. The
orders' (workspace, openid) index: a WeChat user who ordered keeps their events.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from guanxi.core.db import UTCDateTime

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "retention_settings",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=True),
        sa.Column("pruned_before", UTCDateTime(), nullable=True),
        sa.Column("rows_deleted", sa.BigInteger(), nullable=False),
        sa.Column("last_pruned_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_retention_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "kind", name=op.f("pk_retention_settings")),
    )
    op.create_table(
        "convert_code_event_hours",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("hour_start", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["convert_scene_codes.id"],
            name=op.f("fk_convert_code_event_hours_code_id_convert_scene_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_code_event_hours_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_code_event_hours")),
        sa.UniqueConstraint(
            "code_id",
            "hour_start",
            "kind",
            name=op.f("uq_convert_code_event_hours_code_id_hour_start_kind"),
        ),
    )
    op.create_index(
        "ix_convert_code_event_hours_workspace_time",
        "convert_code_event_hours",
        ["workspace_id", "hour_start"],
    )
    op.create_table(
        "convert_click_hours",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("hour_start", UTCDateTime(), nullable=False),
        sa.Column("platform", sa.String(length=30), nullable=False),
        sa.Column("visits", sa.BigInteger(), nullable=False),
        sa.Column("counted", sa.BigInteger(), nullable=False),
        sa.Column("bots", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["convert_links.id"],
            name=op.f("fk_convert_click_hours_link_id_convert_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_convert_click_hours_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convert_click_hours")),
        sa.UniqueConstraint(
            "link_id",
            "hour_start",
            "platform",
            name=op.f("uq_convert_click_hours_link_id_hour_start_platform"),
        ),
    )
    op.create_index(
        "ix_convert_click_hours_workspace_time",
        "convert_click_hours",
        ["workspace_id", "hour_start"],
    )
    op.create_index(
        "ix_convert_orders_workspace_openid", "convert_orders", ["workspace_id", "openid"]
    )


def downgrade() -> None:
    op.drop_index("ix_convert_orders_workspace_openid", table_name="convert_orders")
    op.drop_index("ix_convert_click_hours_workspace_time", table_name="convert_click_hours")
    op.drop_table("convert_click_hours")
    op.drop_index(
        "ix_convert_code_event_hours_workspace_time", table_name="convert_code_event_hours"
    )
    op.drop_table("convert_code_event_hours")
    op.drop_table("retention_settings")
