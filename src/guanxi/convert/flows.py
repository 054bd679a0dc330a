"""What conversions read of publishing: the workspace's campaigns and posts a link is made
for (publishing's models only, read here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_, UserError
from guanxi.publishing.models import Campaign, Post

POSTS_LISTED = 200  # the newest posts offered in the link form


def campaign_in_workspace(
    db: Session, workspace_id: int, campaign_id: int | None
) -> Campaign | None:
    """The workspace's campaign ``campaign_id`` (None for none), else a UserError."""
    if campaign_id is None:
        return None
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or campaign.workspace_id != workspace_id:
        raise UserError(N_("That campaign is not in this workspace: choose one from the list."))
    return campaign


def post_in_workspace(db: Session, workspace_id: int, post_id: int | None) -> Post | None:
    """The workspace's post ``post_id`` (None for none), else a UserError."""
    if post_id is None:
        return None
    post = db.get(Post, post_id)
    if post is None or post.workspace_id != workspace_id:
        raise UserError(N_("That post is not in this workspace: choose one from the list."))
    return post


def campaign_of(db: Session, post: Post) -> Campaign | None:
    """The campaign ``post`` belongs to, if any."""
    return db.get(Campaign, post.campaign_id) if post.campaign_id is not None else None


def campaigns(db: Session, workspace_id: int) -> Sequence[Campaign]:
    """The workspace's campaigns by name."""
    return db.scalars(
        select(Campaign).where(Campaign.workspace_id == workspace_id).order_by(Campaign.name)
    ).all()


def recent_posts(db: Session, workspace_id: int) -> Sequence[Post]:
    """The workspace's newest posts, for choosing what a link is for."""
    return db.scalars(
        select(Post)
        .where(Post.workspace_id == workspace_id)
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(POSTS_LISTED)
    ).all()


def names_of(db: Session, workspace_id: int) -> tuple[dict[int, str], dict[int, str]]:
    """Campaign names and post titles of the workspace, by id (for the links list)."""
    campaign_names: dict[int, str] = dict(
        db.execute(
            select(Campaign.id, Campaign.name).where(Campaign.workspace_id == workspace_id)
        ).all()
    )
    post_titles: dict[int, str] = dict(
        db.execute(select(Post.id, Post.title).where(Post.workspace_id == workspace_id)).all()
    )
    return campaign_names, post_titles
