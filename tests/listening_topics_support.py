"""Factories for the topic, dashboard and alert tests: mentions with their enrichment.

They write the rows directly (no NLP pipeline), so each test says exactly what the
enrichment found.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from guanxi.listening.mentions.models import Author, Mention, MentionEnrichment
from guanxi.listening.topics.service import match_mentions

_counter = iter(range(1, 10**9))


def add_author(
    db: Session,
    *,
    workspace_id: int,
    name: str,
    followers: int = 100,
    kind: str = "personal",
    platform: str = "weibo",
) -> Author:
    """An author of the workspace."""
    author = Author(
        workspace_id=workspace_id,
        platform=platform,
        external_id=f"u{next(_counter)}",
        name=name,
        followers=followers,
        kind=kind,
        verified_type=-1,
    )
    db.add(author)
    db.flush()
    return author


def add_mention(
    db: Session,
    *,
    workspace_id: int,
    text: str,
    posted_at: datetime | None = None,
    platform: str = "weibo",
    author: Author | None = None,
    sentiment: str = "neutral",
    source_kind: str = "personal",
    stage: str = "none",
    keywords: tuple[str, ...] = (),
    language: str = "zh",
    likes: int = 0,
    match: bool = True,
) -> Mention:
    """An enriched mention; matched against the workspace's topics unless ``match`` is off."""
    posted = posted_at or datetime(2026, 11, 20, 12, tzinfo=UTC)
    mention = Mention(
        workspace_id=workspace_id,
        platform=platform,
        external_id=f"m{next(_counter)}",
        author=author,
        text=text,
        posted_at=posted,
        likes=likes,
        url="https://weibo.com/x",
    )
    mention.enrichment = MentionEnrichment(
        workspace_id=workspace_id,
        posted_at=posted,
        language=language,
        script="simplified",
        normalized_text=text,
        sentiment=sentiment,
        positive_probability={"positive": 0.9, "neutral": 0.5, "negative": 0.1}[sentiment],
        source_kind=source_kind,
        source_reason="test",
        stage=stage,
        stage_cue="",
        keywords=list(keywords),
        model_version="test-1",
    )
    db.add(mention)
    db.flush()
    if match:
        match_mentions(db, workspace_id=workspace_id, mentions=[mention])
    return mention
