"""The attribution models as pure functions: the share of an order each of its touches gets.

Rule-based models (the touches of one order, oldest first):

- **last touch** (the default): everything to the last touch before the order;
- **first touch**: everything to the first;
- **linear**: equal shares;
- **time decay**: a touch's share halves every ``half_life`` before the order;
- **position-based** 40/20/40: 40 % each to the first and the last, the middle 20 % shared
  among the others (one touch: all of it; two: half each).

The data-driven model is ``attribution.markov``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from guanxi.core.errors import N_


class AttributionModel(StrEnum):
    """How an order's revenue is shared among its touches."""

    LAST_TOUCH = "last_touch"
    FIRST_TOUCH = "first_touch"
    LINEAR = "linear"
    TIME_DECAY = "time_decay"
    POSITION_BASED = "position_based"


MODEL_LABELS: dict[AttributionModel, str] = {
    AttributionModel.LAST_TOUCH: N_("Last touch"),
    AttributionModel.FIRST_TOUCH: N_("First touch"),
    AttributionModel.LINEAR: N_("Linear"),
    AttributionModel.TIME_DECAY: N_("Time decay"),
    AttributionModel.POSITION_BASED: N_("Position-based 40/20/40"),
}

DEFAULT_HALF_LIFE = timedelta(days=7)


def shares(
    model: AttributionModel,
    touched_at: Sequence[datetime],
    *,
    ordered_at: datetime,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> list[float]:
    """The share of the order each touch gets (oldest first; they sum to 1)."""
    count = len(touched_at)
    if count == 0:
        return []
    if count == 1:
        return [1.0]
    if model is AttributionModel.LAST_TOUCH:
        return [0.0] * (count - 1) + [1.0]
    if model is AttributionModel.FIRST_TOUCH:
        return [1.0] + [0.0] * (count - 1)
    if model is AttributionModel.LINEAR:
        return [1.0 / count] * count
    if model is AttributionModel.TIME_DECAY:
        raw = [0.5 ** ((ordered_at - at) / half_life) for at in touched_at]
        total = sum(raw)
        return [value / total for value in raw]
    if count == 2:  # position-based with no middle: the two ends share it
        return [0.5, 0.5]
    middle = 0.2 / (count - 2)
    return [0.4] + [middle] * (count - 2) + [0.4]
