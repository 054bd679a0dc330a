"""What the workspace's front page shows of publishing: the week ahead and what waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.publishing.models import Variant, VariantState

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
    waiting = (VariantState.IN_REVIEW, VariantState.FAILED, VariantState.NEEDS_ATTENTION)
    by_state: dict[str, int] = {
        str(state): int(count)
        for state, count in db.execute(
            select(Variant.state, func.count())
            .where(Variant.workspace_id == workspace_id, Variant.state.in_(waiting))
            .group_by(Variant.state)
        ).all()
    }
    week = db.scalar(
        select(func.count(Variant.post_id.distinct())).where(
            Variant.workspace_id == workspace_id,
            Variant.state == VariantState.SCHEDULED,
            Variant.scheduled_at >= now,
            Variant.scheduled_at < now + WEEK,
        )
    )
    return PublishingGlance(
        scheduled_this_week=int(week or 0),
        in_review=by_state.get(VariantState.IN_REVIEW, 0),
        failed=by_state.get(VariantState.FAILED, 0),
        needs_attention=by_state.get(VariantState.NEEDS_ATTENTION, 0),
    )
