"""Helpers for the listening data tests: a small fake NLP pipeline and fixture paths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from guanxi.nlp.pipeline import Document, Enrichment

FIXTURES = Path(__file__).parent / "fixtures" / "listening"
WEIBO_CRAWLER = FIXTURES / "weibo_crawler" / "1669879400.csv"


class FakePipeline:
    """Enriches by rules a test can predict: 好 is positive, 贵 negative; own accounts are
    marketers. It records every batch it was given."""

    def __init__(self, model_version: str = "fake-1") -> None:
        self.model_version = model_version
        self.batches: list[list[Document]] = []

    def enrich(self, documents: Sequence[Document]) -> list[Enrichment]:
        """One Enrichment per document."""
        self.batches.append(list(documents))
        return [self._one(document) for document in documents]

    def _one(self, document: Document) -> Enrichment:
        sentiment = (
            "positive"
            if "好" in document.text
            else "negative"
            if "贵" in document.text
            else "neutral"
        )
        kind = "marketer" if document.author_kind_hint else "personal"
        return Enrichment(
            language="zh",
            script="simplified",
            normalized_text=document.text,
            tokens=[],
            emoticons=[],
            hashtags=[],
            mentions=[],
            urls=[],
            sentiment=sentiment,
            positive_probability=0.9 if sentiment == "positive" else 0.2,
            source_kind=kind,
            source_reason=f"hint {document.author_kind_hint or 'none'}",
            stage="none",
            stage_cue="",
            keywords=["葡萄酒"],
            model_version=self.model_version,
        )
