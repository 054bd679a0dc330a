"""What the workspace's front page shows of publishing: the week ahead and what waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.publishing.models import PublishTarget, TargetState

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class PublishingGlance:
    """Counts of posts due, and of variants (one post on one account) waiting."""

    scheduled_this_week: int  # posts with a variant due in the next 7 days
    in_review: int
    failed: int
    needs_attention: int


def glance(db: Session, *, workspace_id: int, now: datetime) -> PublishingGlance:
    """The workspace's publishing at a glance, at ``now``."""
    waiting = (TargetState.IN_REVIEW, TargetState.FAILED, TargetState.NEEDS_ATTENTION)
    by_state: dict[str, int] = {
        str(state): int(count)
        for state, count in db.execute(
            select(PublishTarget.state, func.count())
            .where(PublishTarget.workspace_id == workspace_id, PublishTarget.state.in_(waiting))
            .group_by(PublishTarget.state)
        ).all()
    }
    week = db.scalar(
        select(func.count(PublishTarget.post_id.distinct())).where(
            PublishTarget.workspace_id == workspace_id,
            PublishTarget.state == TargetState.SCHEDULED,
            PublishTarget.scheduled_at >= now,
            PublishTarget.scheduled_at < now + WEEK,
        )
    )
    return PublishingGlance(
        scheduled_this_week=int(week or 0),
        in_review=by_state.get(TargetState.IN_REVIEW, 0),
        failed=by_state.get(TargetState.FAILED, 0),
        needs_attention=by_state.get(TargetState.NEEDS_ATTENTION, 0),
    )
