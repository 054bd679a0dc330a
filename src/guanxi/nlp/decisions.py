"""Decisions tuned for macro-F1: one additive offset per class on a model's log-scores.

Balanced class weights still leave the small classes (public and marketer sources, the
rarer journey stages) under-recalled: the F1 of a small class gains more from a few more
of its posts found than the large class loses. An offset per class added to the scores
before the softmax (a shift of the model's prior) moves that balance. The offsets are
chosen by a coordinate search over a grid for the best macro-F1 of the out-of-fold
predictions of the training posts (never the development set), and their gain is
estimated honestly by tuning on all folds but one and scoring the one left out
(``nested_gain``). Probabilities and decisions stay one: the decision is the argmax of the
probabilities computed with the offsets (``guanxi.nlp.linear``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Offsets tried for each class, in log-odds: -2 to 2 by 0.1 (a factor of e^2 either way is
# more than any model here needed; a finer grid only fits the folds' noise).
OFFSET_GRID = tuple(round(step / 10, 1) for step in range(-20, 21))
MAX_PASSES = 4
# What a shift must gain in macro-F1 to be taken. A balanced fit sits near the optimum, where
# macro-F1 over the offsets is flat and a shift chosen for less follows the noise of a few
# posts: on the training posts' out-of-fold predictions, offsets tuned on four folds lost
# 0.003 (source kind) and 0.0006 (stage) on the fifth with no margin, -0.0013 and +0.0003
# with 0.002, and nothing with 0.005 (docs/nlp.md).
MIN_GAIN = 0.005


def macro_f1_of(
    truth: npt.NDArray[np.intp], predicted: npt.NDArray[np.intp], classes: int
) -> float:
    """The mean F1 over the classes present in ``truth`` (both given as class indices)."""
    import numpy as np  # noqa: PLC0415 - heavy; the trainer loads it anyway

    cells = np.bincount(truth * classes + predicted, minlength=classes * classes)
    matrix = cells.reshape(classes, classes)
    hits = np.diag(matrix).astype(np.float64)
    actual = matrix.sum(axis=1)
    guessed = matrix.sum(axis=0)
    f1 = np.divide(2 * hits, actual + guessed, out=np.zeros(classes), where=actual + guessed > 0)
    present = actual > 0
    return float(f1[present].mean()) if present.any() else 0.0


def decide(log_scores: npt.NDArray[np.float64], offsets: Sequence[float]) -> npt.NDArray[np.intp]:
    """The class index each row chooses with ``offsets`` added to its log-scores."""
    import numpy as np  # noqa: PLC0415 - heavy; the trainer loads it anyway

    chosen: npt.NDArray[np.intp] = (log_scores + np.asarray(offsets)).argmax(axis=1)
    return chosen


def tune_offsets(
    log_scores: npt.NDArray[np.float64],
    truth: npt.NDArray[np.intp],
    *,
    grid: Sequence[float] = OFFSET_GRID,
    min_gain: float = MIN_GAIN,
) -> tuple[float, ...]:
    """The offsets (the first class's held at 0: only differences count) that maximise the
    macro-F1 of ``decide(log_scores, offsets)`` against ``truth``: each other class in turn
    set to its best value of ``grid`` with the others fixed, until a pass changes nothing.
    A class's offset moves only when that raises macro-F1 by more than ``min_gain``, and of
    equal scores the smaller offset wins: no evidence, no shift."""
    classes = log_scores.shape[1]
    offsets = [0.0] * classes
    by_size = sorted(grid, key=abs)
    for _ in range(MAX_PASSES):
        changed = False
        for k in range(1, classes):
            current = macro_f1_of(truth, decide(log_scores, offsets), classes)
            best_value, best_score = offsets[k], current + min_gain
            for value in by_size:
                trial = [*offsets[:k], value, *offsets[k + 1 :]]
                score = macro_f1_of(truth, decide(log_scores, trial), classes)
                if score > best_score + 1e-12:
                    best_value, best_score = value, score
            if best_value != offsets[k]:
                offsets[k], changed = best_value, True
        if not changed:
            break
    return tuple(offsets)


@dataclass(frozen=True)
class OffsetGain:
    """The offsets' effect on the out-of-fold predictions: macro-F1 without them, with
    offsets tuned on all the posts (optimistic: chosen and scored on the same posts) and
    with each fold's offsets tuned on the other folds (the honest estimate)."""

    offsets: tuple[float, ...]
    macro_f1_before: float
    macro_f1_tuned: float
    macro_f1_nested: float


def nested_gain(
    log_scores: npt.NDArray[np.float64],
    truth: npt.NDArray[np.intp],
    folds: Sequence[str],
    *,
    grid: Sequence[float] = OFFSET_GRID,
    min_gain: float = MIN_GAIN,
) -> OffsetGain:
    """Tune the offsets on all of ``log_scores`` (out-of-fold scores, ``folds`` naming each
    row's fold) and estimate their gain by tuning again without each fold and deciding that
    fold with the result."""
    import numpy as np  # noqa: PLC0415 - heavy; the trainer loads it anyway

    classes = log_scores.shape[1]
    keys = np.asarray(folds)
    nested = np.zeros(len(truth), dtype=np.intp)
    for name in sorted(set(folds)):
        inside = keys == name
        offsets = tune_offsets(log_scores[~inside], truth[~inside], grid=grid, min_gain=min_gain)
        nested[inside] = decide(log_scores[inside], offsets)
    offsets = tune_offsets(log_scores, truth, grid=grid, min_gain=min_gain)
    return OffsetGain(
        offsets=offsets,
        macro_f1_before=macro_f1_of(truth, decide(log_scores, [0.0] * classes), classes),
        macro_f1_tuned=macro_f1_of(truth, decide(log_scores, offsets), classes),
        macro_f1_nested=macro_f1_of(truth, nested, classes),
    )
