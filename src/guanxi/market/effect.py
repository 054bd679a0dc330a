"""A market campaign's effect: the difference-in-differences estimator with placebo
intervals (``guanxi.estimates.did``) on an app's daily rank, with the messages in the
words of charts and countries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from guanxi.core.errors import N_
from guanxi.estimates.did import (
    MIN_CONTROLS,
    MIN_POST_DAYS,
    MIN_PRE_DAYS,
    EffectEstimate,
    EstimateError,
    Wording,
)
from guanxi.estimates.did import estimate_effect as estimate_units

__all__ = [
    "METHOD",
    "MIN_CONTROLS",
    "MIN_POST_DAYS",
    "MIN_PRE_DAYS",
    "EffectEstimate",
    "EstimateError",
    "estimate_effect",
]

METHOD = N_(
    "difference-in-differences on the daily gap to the control countries; interval from "
    "placebo campaigns in each control country"
)
COUNTRIES = Wording(
    too_few_controls=N_(
        "An estimate needs at least {min} control countries to compare with; there "
        "are {count}. Choose more, or import the charts of more countries."
    ),
    too_few_days=N_(
        "An estimate needs at least {pre} days of data before the start and {post} "
        "after it; there are {before} and {since}. Import more days of charts."
    ),
    too_few_placebos=N_(
        "Too few control countries have enough days before and after the start "
        "({count}; at least {min} are needed). Import more days of charts."
    ),
)


def estimate_effect(
    *,
    treated: Mapping[date, float],
    controls: Mapping[str, Mapping[date, float]],
    start: date,
    end: date | None = None,
    confidence: float = 0.95,
) -> EffectEstimate:
    """The effect from ``start`` (to ``end``) of the treated country's series vs controls."""
    return estimate_units(
        treated=treated,
        controls=controls,
        start=start,
        end=end,
        confidence=confidence,
        wording=COUNTRIES,
    )
