"""What the workspace's front page shows of the planner: how many plans are saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.planner.models import Plan


@dataclass(frozen=True)
class PlannerGlance:
    """The saved plans."""

    plans: int


def glance(
    db: Session,
    *,
    workspace_id: int,
    now: datetime,  # noqa: ARG001 - the front page's clock; these counts do not depend on it
) -> PlannerGlance:
    """The workspace's plans at a glance."""
    count = db.scalar(
        select(func.count()).select_from(Plan).where(Plan.workspace_id == workspace_id)
    )
    return PlannerGlance(plans=int(count or 0))
