"""The attribution models as pure functions: the share of an order each of its touches gets.

Rule-based models (the touches of one order, oldest first):

- **last touch** (the default): everything to the last touch before the order;
- **first touch**: everything to the first;
- **linear**: equal shares;
- **time decay**: a touch's share halves every ``half_life`` before the order;
- **position-based** 40/20/40: 40 % each to the first and the last, the middle 20 % shared
  among the others (one touch: all of it; two: half each).

The data-driven model (``markov_removal_effects``) needs the paths of people, converting and
not, so it runs only where one person's path is visible (inside WeChat, through the OpenID):
each channel's credit is the share of conversions lost when it is removed from a first-order
Markov chain of the paths (the removal effect), normalised to sum to one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

import numpy as np

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
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


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


def markov_removal_effects(
    paths: Sequence[tuple[Sequence[Hashable], bool]],
) -> dict[Hashable, float]:
    """Each channel's share of the conversions by its removal effect, from people's paths
    (the channels they touched in order, and whether they converted)."""
    transitions: dict[Hashable, dict[Hashable, int]] = defaultdict(lambda: defaultdict(int))
    channels: set[Hashable] = set()
    for steps, converted in paths:
        states = [START, *steps, CONVERSION if converted else NULL]
        channels.update(steps)
        for here, there in pairwise(states):
            transitions[here][there] += 1
    if not channels:
        return {}
    base = _conversion_probability(transitions, removed=None)
    if base <= 0:
        return dict.fromkeys(channels, 0.0)
    effects = {
        channel: 1 - _conversion_probability(transitions, removed=channel) / base
        for channel in channels
    }
    total = sum(effects.values())
    return {channel: (effect / total if total else 0.0) for channel, effect in effects.items()}


def _conversion_probability(
    transitions: dict[Hashable, dict[Hashable, int]], *, removed: Hashable | None
) -> float:
    """The probability of reaching the conversion from the start, with ``removed`` (a
    channel) sending everyone who reaches it to the null state."""
    states = sorted({*transitions, *(s for row in transitions.values() for s in row)}, key=str)
    index = {state: i for i, state in enumerate(states)}
    size = len(states)
    matrix = np.zeros((size, size))
    for here, row in transitions.items():
        total = sum(row.values())
        for there, count in row.items():
            matrix[index[here], index[there]] = count / total
    for absorbing in (CONVERSION, NULL):
        if absorbing in index:
            matrix[index[absorbing], :] = 0
            matrix[index[absorbing], index[absorbing]] = 1
    if removed is not None and removed in index:
        matrix[index[removed], :] = 0
        if NULL not in index:
            return 0.0
        matrix[index[removed], index[NULL]] = 1
    if CONVERSION not in index:
        return 0.0
    # Absorption probabilities: solve (I - Q) x = R for the transient states.
    transient = [i for s, i in index.items() if s not in (CONVERSION, NULL)]
    q = matrix[np.ix_(transient, transient)]
    r = matrix[transient, index[CONVERSION]]
    absorbed = np.linalg.solve(np.eye(len(transient)) - q, r)
    return float(absorbed[transient.index(index[START])])
