"""Publishing's part of the global search: posts (title and text) and campaigns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_
from guanxi.core.search import SearchHit, SearchQuery, SearchSection, contains, section, snippet
from guanxi.publishing.models import Campaign, Post


def search(db: Session, query: SearchQuery) -> list[SearchSection]:
    """Posts and campaigns of the workspace whose words contain the query, newest first."""
    if "read" not in query.permissions:
        return []
    base = f"/w/{query.slug}"

    def post_hit(row: Any) -> SearchHit:
        return SearchHit(
            title=row.title,
            link=f"{base}/posts/{row.id}",
            detail=snippet(row.body, query.text),
            when=row.updated_at,
        )

    def campaign_hit(row: Any) -> SearchHit:
        return SearchHit(
            title=row.name,
            link=f"{base}/campaigns/{row.id}",
            detail=snippet(row.description, query.text),
        )

    posts = (
        select(Post.id, Post.title, Post.body, Post.updated_at)
        .where(Post.workspace_id == query.workspace_id, contains(query, Post.title, Post.body))
        .order_by(Post.id.desc())
    )
    campaigns = (
        select(Campaign.id, Campaign.name, Campaign.description)
        .where(
            Campaign.workspace_id == query.workspace_id,
            contains(query, Campaign.name, Campaign.description),
        )
        .order_by(Campaign.id.desc())
    )
    return [
        section(
            db, key="posts", title=N_("Posts"), statement=posts, limit=query.limit, hit=post_hit
        ),
        section(
            db,
            key="campaigns",
            title=N_("Campaigns"),
            statement=campaigns,
            limit=query.limit,
            hit=campaign_hit,
        ),
    ]
