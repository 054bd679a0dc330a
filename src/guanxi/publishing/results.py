"""What went out in a period, per platform: the variants published (on time or late) and
those that failed, for a report and for any page that sums up a period's publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.publishing.calendar import local_midnight
from guanxi.publishing.models import Post, Variant, VariantState

# Live on the platform (a platform's review does not unpublish it).
PUBLISHED_STATES = (VariantState.PUBLISHED, VariantState.PENDING_REVIEW)


@dataclass(frozen=True)
class PlatformResults:
    """One platform's variants of a period: published (and of them on time) and failed."""

    platform: str
    published: int
    on_time: int  # published without the dispatcher's "late" flag
    failed: int


def results_by_platform(
    db: Session,
    *,
    workspace: Workspace,
    start: date,
    end: date,
    campaign_id: int | None = None,
) -> list[PlatformResults]:
    """Per platform with any, the variants published from ``start`` to ``end`` (the
    workspace's days, both included) and those that failed, due then (or last changed then,
    when never scheduled); only the campaign's posts when ``campaign_id`` is given."""
    begins = local_midnight(start, workspace.timezone)
    ends = local_midnight(end + timedelta(days=1), workspace.timezone)
    published = and_(
        Variant.state.in_(PUBLISHED_STATES),
        Variant.published_at >= begins,
        Variant.published_at < ends,
    )
    due = func.coalesce(Variant.scheduled_at, Variant.updated_at)
    failed = and_(Variant.state == VariantState.FAILED, due >= begins, due < ends)
    query = (
        select(
            Channel.platform,
            func.sum(case((published, 1), else_=0)),
            func.sum(case((and_(published, Variant.late.is_(False)), 1), else_=0)),
            func.sum(case((failed, 1), else_=0)),
        )
        .join(Channel, Channel.id == Variant.channel_id)
        .where(Variant.workspace_id == workspace.id, or_(published, failed))
        .group_by(Channel.platform)
        .order_by(Channel.platform)
    )
    if campaign_id is not None:
        query = query.join(Post, Post.id == Variant.post_id).where(Post.campaign_id == campaign_id)
    return [
        PlatformResults(platform, int(done or 0), int(in_time or 0), int(lost or 0))
        for platform, done, in_time, lost in db.execute(query)
    ]
