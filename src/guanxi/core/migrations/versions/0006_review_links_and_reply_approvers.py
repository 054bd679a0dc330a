"""approvals: review links bound to a named reviewer, variant content authors, who approves
replies

``review_links`` makes each external review link single-use and bound to the reviewer it was
issued for; ``publish_targets.content_author_ids`` lists who edited a variant (none of them
approves it); ``inbox_settings.reply_approver_role`` is the lowest role that approves replies.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guanxi.core.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "review_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_name", sa.String(length=120), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", guanxi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_links_post_id"), ["post_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_links_workspace_id"), ["workspace_id"], unique=False
        )
    with op.batch_alter_table("publish_targets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "content_author_ids", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
    with op.batch_alter_table("inbox_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reply_approver_role",
                sa.String(length=20),
                nullable=False,
                server_default="manager",
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("inbox_settings", schema=None) as batch_op:
        batch_op.drop_column("reply_approver_role")
    with op.batch_alter_table("publish_targets", schema=None) as batch_op:
        batch_op.drop_column("content_author_ids")
    with op.batch_alter_table("review_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_links_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_review_links_post_id"))
    op.drop_table("review_links")
