"""Listening's part of the global search: topics (for those who may change them, as their
page is the form that does) and the most recent mentions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_
from guanxi.core.search import SearchHit, SearchQuery, SearchSection, contains, section, snippet
from guanxi.listening.mentions.models import Mention
from guanxi.listening.topics.models import TopicQuery

# Only the most recent mentions are searched here (their ids from the primary key): the
# mentions page searches them all.
RECENT_MENTIONS = 5000


def search(db: Session, query: SearchQuery) -> list[SearchSection]:
    """Topics named like the query, and recent mentions whose text contains it."""
    if "read" not in query.permissions:
        return []
    base = f"/w/{query.slug}/listen"

    def topic_hit(row: Any) -> SearchHit:
        return SearchHit(title=row.name, link=f"{base}/topics/{row.id}", detail=row.query[:80])

    def mention_hit(row: Any) -> SearchHit:
        return SearchHit(
            title=row.platform,
            link=f"{base}/mentions/{row.id}",
            detail=snippet(row.text, query.text),
            when=row.posted_at,
        )

    recent = (
        select(Mention.id)
        .where(Mention.workspace_id == query.workspace_id)
        .order_by(Mention.id.desc())
        .limit(RECENT_MENTIONS)
        .scalar_subquery()
    )
    mentions = (
        select(Mention.id, Mention.platform, Mention.text, Mention.posted_at)
        .where(Mention.id.in_(recent), contains(query, Mention.text))
        .order_by(Mention.id.desc())
    )
    sections = []
    if "write" in query.permissions:
        topics = (
            select(TopicQuery.id, TopicQuery.name, TopicQuery.query)
            .where(
                TopicQuery.workspace_id == query.workspace_id,
                contains(query, TopicQuery.name, TopicQuery.query),
            )
            .order_by(TopicQuery.name)
        )
        sections.append(
            section(
                db,
                key="topics",
                title=N_("Topics"),
                statement=topics,
                limit=query.limit,
                hit=topic_hit,
            )
        )
    sections.append(
        section(
            db,
            key="mentions",
            title=N_("Mentions"),
            statement=mentions,
            limit=query.limit,
            hit=mention_hit,
            more=f"{base}/mentions?{urlencode({'q': query.text})}",
        )
    )
    return sections
