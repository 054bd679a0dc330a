"""Conversions' part of the global search: tracked links (label or address)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.convert.models import TrackedLink
from guanxi.core.errors import N_
from guanxi.core.search import SearchHit, SearchQuery, SearchSection, contains, section


def search(db: Session, query: SearchQuery) -> list[SearchSection]:
    """Tracked links whose label or address contains the query, newest first."""
    if "read" not in query.permissions:
        return []

    def link_hit(row: Any) -> SearchHit:
        return SearchHit(
            title=row.label or row.original_url[:80],
            link=f"/w/{query.slug}/links",
            detail=row.original_url[:120],
            when=row.created_at,
        )

    links = (
        select(TrackedLink.id, TrackedLink.label, TrackedLink.original_url, TrackedLink.created_at)
        .where(
            TrackedLink.workspace_id == query.workspace_id,
            TrackedLink.archived_at.is_(None),
            contains(query, TrackedLink.label, TrackedLink.original_url),
        )
        .order_by(TrackedLink.id.desc())
    )
    return [
        section(
            db,
            key="links",
            title=N_("Tracked links"),
            statement=links,
            limit=query.limit,
            hit=link_hit,
        )
    ]
