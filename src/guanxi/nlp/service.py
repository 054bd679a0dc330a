"""Classifying free text line by line (``guanxi nlp classify``), as JSON-ready records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

from guanxi.nlp.pipeline import BATCH_SIZE, Document, Pipeline

# Fields of an Enrichment that classify leaves out: the normalised text repeats the input.
_OMITTED = ("normalized_text",)


def classify_lines(
    lines: Iterable[str], *, pipeline: Pipeline, batch_size: int = BATCH_SIZE
) -> Iterator[dict[str, Any]]:
    """One record per line of ``lines`` (in order, an empty line included), enriched in
    batches so a long stream needs bounded memory."""
    batch: list[str] = []
    for line in lines:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= batch_size:
            yield from _records(batch, pipeline)
            batch = []
    if batch:
        yield from _records(batch, pipeline)


def _records(texts: list[str], pipeline: Pipeline) -> Iterator[dict[str, Any]]:
    for text, enrichment in zip(
        texts, pipeline.enrich([Document(text=text) for text in texts]), strict=True
    ):
        record = {"text": text, **asdict(enrichment)}
        for field in _OMITTED:
            record.pop(field)
        yield record
