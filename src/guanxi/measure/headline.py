"""What the workspace's front page leads with: the last 28 days' headline figures.

The front page is the most visited page and these figures describe complete days, which
change only when a collection or an import brings new ones: each web process keeps them for
``HEADLINE_TTL_S`` (the overview page itself always reads them afresh). Computing them took
two thirds of the front page's time.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.measure.overview import DEFAULT_PRESET, Overview, overview, resolve_period

HEADLINE_TTL_S = 60.0
_MAX_KEPT = 1_000  # workspaces; past it the cache starts over
# (workspace id, its creation time, period start, period end) -> (when computed, figures)
_kept: dict[tuple[int, datetime, date, date], tuple[float, Overview]] = {}
_lock = threading.Lock()


def headline(db: Session, *, workspace_id: int, now: datetime) -> Overview:
    """The overview of the last ``DEFAULT_PRESET`` complete days, for the front page, as
    computed at most ``HEADLINE_TTL_S`` ago in this process."""
    workspace = db.get_one(Workspace, workspace_id)
    period = resolve_period(workspace, now=now, days=DEFAULT_PRESET)
    # The creation time tells a workspace from another that was given a freed id.
    key = (workspace_id, workspace.created_at, period.start, period.end)
    clock = time.monotonic()
    with _lock:
        kept = _kept.get(key)
    if kept is not None and clock - kept[0] < HEADLINE_TTL_S:
        return kept[1]
    figures = overview(db, workspace=workspace, period=period)
    with _lock:
        if len(_kept) >= _MAX_KEPT:
            _kept.clear()
        _kept[key] = (clock, figures)
    return figures
