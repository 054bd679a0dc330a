"""The data-driven attribution model: the Markov chain removal effect.

It needs the paths of people, converting and not, so it runs only where one person's path is
visible (inside WeChat, through the OpenID): each channel's credit is the share of
conversions lost when it is removed from a first-order Markov chain of the paths (everyone
reaching it goes nowhere), normalised to sum to one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from itertools import pairwise

import numpy as np

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


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
