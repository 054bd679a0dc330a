"""tracked links per variant, and tags on posts

A variant says whether its web addresses become tracked links on save (on by default) and
which addresses its author left alone; a post has up to ten tags (``post_tags``, one row a
tag, indexed by workspace and tag for the posts list's filter and analytics by tag).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("publish_targets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("track_links", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("untracked_urls", sa.JSON(), nullable=False, server_default="[]")
        )
    op.create_table(
        "post_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_tags_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_post_tags_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_tags")),
        sa.UniqueConstraint("post_id", "tag", name=op.f("uq_post_tags_post_id_tag")),
    )
    with op.batch_alter_table("post_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_tags_post_id"), ["post_id"], unique=False)
        batch_op.create_index("ix_post_tags_workspace_tag", ["workspace_id", "tag"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("post_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_post_tags_workspace_tag")
        batch_op.drop_index(batch_op.f("ix_post_tags_post_id"))
    op.drop_table("post_tags")
    with op.batch_alter_table("publish_targets", schema=None) as batch_op:
        batch_op.drop_column("untracked_urls")
        batch_op.drop_column("track_links")
