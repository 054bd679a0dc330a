"""What the workspace's front page shows of market intelligence: what it watches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.market.models import MarketCampaign, TrackedApp


@dataclass(frozen=True)
class MarketGlance:
    """What the workspace follows on the charts."""

    tracked_apps: int
    campaigns: int


def glance(
    db: Session,
    *,
    workspace_id: int,
    now: datetime,  # noqa: ARG001 - the front page's clock; these counts do not depend on it
) -> MarketGlance:
    """The workspace's market intelligence at a glance."""
    apps = db.scalar(select(func.count()).where(TrackedApp.workspace_id == workspace_id))
    campaigns = db.scalar(select(func.count()).where(MarketCampaign.workspace_id == workspace_id))
    return MarketGlance(int(apps or 0), int(campaigns or 0))
