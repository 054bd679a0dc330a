"""Work that spans capabilities: a campaign's posts, read from publishing's tables, and
the competitor benchmark, read from listening through its ``competitor_activity``.

A campaign is publishing's (``Campaign``, with its ``Post`` rows); a post's variants are
its ``Variant`` rows, and analytics measures a published variant as a
``MeasuredPost`` linked to it. A campaign's roll-up is its measured posts' totals and
medians per post against the baseline: the same accounts' other posts published over the
same days, with the lift of the medians and its interval (``stats.median_lift``).

The benchmark sets the brand's accounts beside the competitor accounts listening tracks:
posts, posts per week, engagements per post and share of engagement. Only the counts that
are public on both sides are compared: likes, comments and shares (reposts); a brand's
reads, saves and 在看 are its own to know.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.listening.mentions.service import competitor_activity
from guanxi.measure.analysis.models import (
    BenchmarkRead,
    BenchmarkRowRead,
    CampaignRollupRead,
    LiftRead,
)
from guanxi.measure.analysis.stats import Lift, median_lift
from guanxi.measure.listing import post_figures
from guanxi.measure.models import MeasuredPost, PostFiguresRead
from guanxi.measure.service import period_bounds
from guanxi.publishing.models import Campaign, Post, Variant


def _lift(found: Lift) -> LiftRead:
    return LiftRead(
        median=found.median,
        baseline_median=found.baseline_median,
        lift=found.lift,
        low=found.low,
        high=found.high,
        clear=found.clear,
    )


def _campaign_days(
    db: Session, workspace: Workspace, campaign: Campaign, post_ids: Sequence[int]
) -> tuple[date, date] | None:
    """The campaign's own days, widened to its measured posts' (a post may go out before
    the campaign is dated, or after it ends); None when it has neither."""
    published = db.scalars(
        select(MeasuredPost.published_at).where(MeasuredPost.id.in_(post_ids))
    ).all()
    zone = ZoneInfo(workspace.timezone)
    days = [at.astimezone(zone).date() for at in published]
    days += [day for day in (campaign.starts_on, campaign.ends_on) if day is not None]
    return (min(days), max(days)) if days else None


def _sums(posts: Sequence[PostFiguresRead]) -> tuple[int | None, int | None]:
    views = [p.views for p in posts if p.views is not None]
    engaged = [p.engagements for p in posts if p.engagements is not None]
    return (sum(views) if views else None), (sum(engaged) if engaged else None)


def campaign_rollups(db: Session, *, workspace: Workspace) -> list[CampaignRollupRead]:
    """Every campaign of the workspace, newest first, with its measured posts against the
    baseline of the same accounts over the same days."""
    campaigns = db.scalars(
        select(Campaign)
        .where(Campaign.workspace_id == workspace.id)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    ).all()
    members: dict[int, list[int]] = {campaign.id: [] for campaign in campaigns}
    rows = db.execute(
        select(Post.campaign_id, MeasuredPost.id)
        .join(Variant, Variant.post_id == Post.id)
        .join(MeasuredPost, MeasuredPost.variant_id == Variant.id)
        .where(
            Post.workspace_id == workspace.id,
            Post.campaign_id.in_(members),
            MeasuredPost.workspace_id == workspace.id,
        )
    ).all()
    for campaign_id, post_id in rows:
        if campaign_id is not None:
            members[campaign_id].append(post_id)
    return [_rollup(db, workspace, campaign, members[campaign.id]) for campaign in campaigns]


def _rollup(
    db: Session, workspace: Workspace, campaign: Campaign, post_ids: Sequence[int]
) -> CampaignRollupRead:
    days = _campaign_days(db, workspace, campaign, post_ids)
    empty = CampaignRollupRead(
        campaign_id=campaign.id,
        name=campaign.name,
        color=campaign.color,
        start=days[0] if days else None,
        end=days[1] if days else None,
        posts=0,
        baseline_posts=0,
        views=None,
        engagements=None,
        views_lift=_lift(Lift(None, None, None)),
        engagements_lift=_lift(Lift(None, None, None)),
        rate_lift=_lift(Lift(None, None, None)),
    )
    if days is None or not post_ids:
        return empty
    channel_ids = sorted(
        set(db.scalars(select(MeasuredPost.channel_id).where(MeasuredPost.id.in_(post_ids))))
    )
    period = post_figures(
        db, workspace=workspace, start=days[0], end=days[1], channel_ids=channel_ids
    )
    chosen = set(post_ids)
    ours = [p for p in period if p.post_id in chosen]
    others = [p for p in period if p.post_id not in chosen]

    def lift(name: str) -> LiftRead:
        def values(posts: list[PostFiguresRead]) -> list[float]:
            found = (getattr(p, name) for p in posts)
            return [float(v) for v in found if v is not None]

        return _lift(median_lift(values(ours), values(others), seed=campaign.id))

    views, engagements = _sums(ours)
    return empty.model_copy(
        update={
            "posts": len(ours),
            "baseline_posts": len(others),
            "views": views,
            "engagements": engagements,
            "views_lift": lift("views"),
            "engagements_lift": lift("engagements"),
            "rate_lift": lift("engagement_rate"),
        }
    )


def benchmark(db: Session, *, workspace: Workspace, start: date, end: date) -> BenchmarkRead:
    """The brand's accounts and the tracked competitors' over ``start``..``end``."""
    begins, ends = period_bounds(workspace, start, end)
    weeks = ((end - start).days + 1) / 7
    public = (
        func.coalesce(func.sum(MeasuredPost.likes), 0)
        + func.coalesce(func.sum(MeasuredPost.comments), 0)
        + func.coalesce(func.sum(MeasuredPost.shares), 0)
    )
    own = db.execute(
        select(Channel.name, Channel.platform, func.count(MeasuredPost.id), public)
        .join(MeasuredPost, MeasuredPost.channel_id == Channel.id)
        .where(
            Channel.workspace_id == workspace.id,
            MeasuredPost.workspace_id == workspace.id,
            MeasuredPost.published_at >= begins,
            MeasuredPost.published_at < ends,
        )
        .group_by(Channel.id, Channel.name, Channel.platform)
        .order_by(Channel.platform, Channel.name)
    ).all()
    counted = [
        (name, platform, True, int(posts), int(engaged or 0))
        for name, platform, posts, engaged in own
    ]
    competitors = competitor_activity(db, workspace_id=workspace.id, begins=begins, ends=ends)
    counted += [
        (c.name, c.platform, False, c.posts, c.likes + c.comments + c.reposts) for c in competitors
    ]
    total = sum(row[4] for row in counted)
    rows = [
        BenchmarkRowRead(
            name=name,
            platform=platform,
            own=is_own,
            posts=posts,
            posts_per_week=posts / weeks,
            engagements=engaged,
            engagements_per_post=engaged / posts if posts else None,
            share_of_engagement=engaged / total if total else None,
        )
        for name, platform, is_own, posts, engaged in counted
    ]
    return BenchmarkRead(start=start, end=end, competitors=len(competitors), rows=rows)
