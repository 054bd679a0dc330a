"""A workspace's attribution defaults: the lookback window (7, 15 or 30 days) and the time
decay model's half-life. The revenue, KOL and funnel pages, the reports API and `guanxi
convert report` use them unless a request names a window of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from guanxi.convert.attribution.engine import LOOKBACK_DAYS
from guanxi.convert.models import ConvertSettings
from guanxi.core.errors import N_, UserError

DEFAULT_WINDOW_DAYS = 30
DEFAULT_HALF_LIFE_DAYS = 7
HALF_LIFE_DAYS = (1, 30)  # shortest and longest half-life offered


@dataclass(frozen=True)
class AttributionDefaults:
    """The window and half-life a workspace's figures are computed with."""

    window_days: int = DEFAULT_WINDOW_DAYS
    half_life_days: int = DEFAULT_HALF_LIFE_DAYS

    @property
    def half_life(self) -> timedelta:
        """The half-life as a duration."""
        return timedelta(days=self.half_life_days)


def defaults_of(db: Session, *, workspace_id: int) -> AttributionDefaults:
    """The workspace's defaults (guanxi's when it has set none)."""
    stored = db.get(ConvertSettings, workspace_id)
    if stored is None:
        return AttributionDefaults()
    return AttributionDefaults(window_days=stored.window_days, half_life_days=stored.half_life_days)


def save_defaults(
    db: Session, *, workspace_id: int, window_days: int, half_life_days: int
) -> AttributionDefaults:
    """Store the workspace's defaults; a UserError when one is out of range."""
    if window_days not in LOOKBACK_DAYS:
        raise UserError(
            N_("The lookback window is {days} days: choose 7, 15 or 30."), days=window_days
        )
    low, high = HALF_LIFE_DAYS
    if not low <= half_life_days <= high:
        raise UserError(
            N_("The half-life must be {low} to {high} days: choose a number in that range."),
            low=low,
            high=high,
        )
    stored = db.get(ConvertSettings, workspace_id)
    if stored is None:
        stored = ConvertSettings(workspace_id=workspace_id)
        db.add(stored)
    stored.window_days = window_days
    stored.half_life_days = half_life_days
    db.flush()
    return AttributionDefaults(window_days=window_days, half_life_days=half_life_days)
