"""What the workspace's front page leads with: the last 28 days' headline figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.measure.overview import DEFAULT_PRESET, Overview, overview, resolve_period


def headline(db: Session, *, workspace_id: int, now: datetime) -> Overview:
    """The overview of the last ``DEFAULT_PRESET`` complete days, for the front page."""
    workspace = db.get_one(Workspace, workspace_id)
    period = resolve_period(workspace, now=now, days=DEFAULT_PRESET)
    return overview(db, workspace=workspace, period=period)
