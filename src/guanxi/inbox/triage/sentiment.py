"""Sentiment of inbox texts: the NLP pipeline when it is there, otherwise a
lexicon of common complaint words (``guanxi.inbox.triage.screening.fallback_sentiment``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from guanxi.inbox.triage.screening import fallback_sentiment
from guanxi.nlp.pipeline import Document, Pipeline, default_pipeline


@cache
def _pipeline() -> Any | None:
    try:
        steps = default_pipeline().steps
        names = [step.name for step in steps]
        # The inbox needs sentiment only: the steps after it (source kind, journey stage,
        # keywords) would cost ingest time for nothing.
        pipeline = Pipeline(steps[: names.index("sentiment") + 1])
        pipeline.enrich([Document(text="好")])  # loads the model now: a missing one falls back
    except Exception:
        return None
    return pipeline, Document


def sentiments(texts: Sequence[str]) -> list[str]:
    """ "positive", "neutral" or "negative" for each of ``texts``."""
    loaded = _pipeline()
    if loaded is None:
        return [fallback_sentiment(text) for text in texts]
    pipeline, document = loaded
    return [
        enrichment.sentiment for enrichment in pipeline.enrich([document(text=t) for t in texts])
    ]
