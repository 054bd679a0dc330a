"""The catalog's part of the global search: platforms by their English or Chinese name."""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.catalog.service import get_catalog
from guanxi.core.errors import N_
from guanxi.core.search import SearchHit, SearchQuery, SearchSection


def search(_db: Session, query: SearchQuery) -> list[SearchSection]:
    """Platforms whose name, owner or slug contains the query (the catalog is in memory)."""
    needle = query.text.lower()
    found = [
        platform
        for platform in get_catalog().platforms
        if any(
            needle in value.lower()
            for value in (platform.name_en, platform.name_zh, platform.owner, platform.slug)
        )
    ]
    hits = tuple(
        SearchHit(
            title=f"{platform.name_zh} · {platform.name_en}",
            link=f"/catalog/{platform.slug}",
            detail=platform.owner,
        )
        for platform in found[: query.limit]
    )
    return [SearchSection(key="catalog", title=N_("Platforms"), hits=hits, count=len(found))]
