"""The dashboards' schemas: a panel, and a page of the drill-down list with its rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, field_serializer


class TopicSeriesRead(BaseModel):
    """One topic's mentions per day, aligned with the panel's ``days``."""

    topic_id: int
    name: str
    data: list[int]


class PanelRead(BaseModel):
    """One dashboard panel. Trends (volume, sentiment) have ``days`` and ``series``: per
    topic for volume, per sentiment for sentiment. Breakdowns (share-of-voice, source-kinds,
    stages, platforms, authors, keywords) have ``items``; share-of-voice adds ``total`` and
    ``needs_competitor`` (one topic alone: its share says nothing), keywords the number of
    mentions ``sampled``. Fields a panel does not have are left out."""

    days: list[str] | None = None
    series: list[TopicSeriesRead] | dict[str, list[int]] | None = None
    total: int | None = None
    sampled: int | None = None
    needs_competitor: bool | None = None
    items: list[dict[str, Any]] | None = None


class MentionRowRead(BaseModel):
    """A mention of the drill-down list (the dashboard's page, its JSON and the exports);
    ``highlights`` are the [start, end) spans of ``text`` where a topic's terms matched."""

    mention_id: int
    posted_at: datetime
    platform: str
    url: str
    text: str
    author: str
    author_kind: str
    followers: int
    sentiment: str
    positive_probability: float
    source_kind: str
    stage: str
    stage_cue: str
    topics: list[str]
    highlights: list[tuple[int, int]]

    @field_serializer("posted_at")
    def _posted_at(self, posted_at: datetime) -> str:
        """ISO 8601 as Python writes it ("+00:00", not "Z"), as the API always gave it."""
        return posted_at.isoformat()

    def segments(self) -> list[tuple[str, bool]]:
        """The text cut into (piece, highlighted) parts; overlapping spans are merged."""
        merged: list[list[int]] = []
        for start, end in sorted(self.highlights):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        parts: list[tuple[str, bool]] = []
        position = 0
        for start, end in merged:
            if start > position:
                parts.append((self.text[position:start], False))
            parts.append((self.text[start:end], True))
            position = end
        if position < len(self.text):
            parts.append((self.text[position:], False))
        return parts


class MentionPageRead(BaseModel):
    """A page of the drill-down list, newest first."""

    page: int
    has_more: bool
    rows: list[MentionRowRead]
