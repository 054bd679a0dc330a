"""What conversions read of publishing and analytics: the workspace's campaigns and posts a
link is made for (publishing's models only, read here), the views analytics measured for a
campaign's posts (the top of its funnel; measure's ``MeasuredPost`` only), and the accounts'
new followers by day as the platforms reported them (measure's store of account days)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.core.errors import N_, UserError
from guanxi.measure.models import MeasuredPost
from guanxi.measure.store import measure_store
from guanxi.publishing.models import Campaign, Post, Variant

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


def campaign_post_ids(db: Session, workspace_id: int, campaign_id: int) -> list[int]:
    """The ids of the campaign's posts."""
    return list(
        db.scalars(
            select(Post.id).where(
                Post.workspace_id == workspace_id, Post.campaign_id == campaign_id
            )
        )
    )


def campaign_views(db: Session, workspace_id: int, campaign_id: int) -> int | None:
    """The views of the campaign's published posts as analytics last measured them; None
    when none of them has a views figure (not measured, or the platform reports none)."""
    total = db.scalar(
        select(func.sum(MeasuredPost.views))
        .join(Variant, MeasuredPost.variant_id == Variant.id)
        .join(Post, Variant.post_id == Post.id)
        .where(
            Post.workspace_id == workspace_id,
            Post.campaign_id == campaign_id,
            MeasuredPost.workspace_id == workspace_id,
            MeasuredPost.views.is_not(None),
        )
    )
    return None if total is None else int(total)


def account_new_followers(
    db: Session, workspace_id: int, first_day: date, last_day: date
) -> dict[str, int]:
    """The new followers the workspace's accounts reported for the days ``first_day`` ..
    ``last_day``, by platform (every source, not only guanxi's codes); a platform none of
    whose accounts reported the figure is left out, never 0."""
    owned = select(Channel.id, Channel.platform).where(Channel.workspace_id == workspace_id)
    platforms: dict[int, str] = {row[0]: row[1] for row in db.execute(owned)}
    totals: dict[str, int] = {}
    for channel_id, flows in measure_store(db).flows(list(platforms), first_day, last_day).items():
        if flows.new is not None and flows.new_days:
            platform = platforms[channel_id]
            totals[platform] = totals.get(platform, 0) + flows.new
    return totals
