"""Global search: what a capability answers for a query, and the helpers every answer uses.

Each capability names its search functions in its declaration (``Capability.search``); the
search page asks each in turn for its sections (posts, inbox items, people...) and shows
them with their counts. A function lists only what the member may open (its
``permissions``), at most ``limit`` hits, and counts at most ``COUNT_CAP`` matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select

from guanxi.core.errors import N_, UserError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

QUERY_MAX_LENGTH = 100
# Counts stop here: "100+" says enough, and no table is counted to its end.
COUNT_CAP = 100
ESCAPE = "\\"


@dataclass(frozen=True)
class SearchQuery:
    """What a member searches for, in which workspace, and what they may do there."""

    workspace_id: int
    slug: str
    text: str
    permissions: frozenset[str]
    limit: int

    @property
    def pattern(self) -> str:
        """The text as a LIKE pattern that matches it anywhere, with % and _ taken literally."""
        return f"%{escape_like(self.text)}%"


@dataclass(frozen=True)
class SearchHit:
    """One thing found: what it is called, where it opens, and a line about it."""

    title: str
    link: str
    detail: str = ""
    when: datetime | None = None


@dataclass(frozen=True)
class SearchSection:
    """One kind of thing found (posts, people...), with how many match (up to COUNT_CAP)."""

    key: str
    title: str  # marked with N_, translated when shown
    hits: tuple[SearchHit, ...]
    count: int
    more: str = ""  # the full list, filtered by the query, where the capability has one

    @property
    def capped(self) -> bool:
        """Whether there are more matches than were counted."""
        return self.count > COUNT_CAP


class SearchSource(Protocol):
    """A capability's search: its sections for ``query`` (none it may not show)."""

    def __call__(self, db: Session, query: SearchQuery) -> list[SearchSection]: ...


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards (and the escape character) escaped by ``ESCAPE``."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def clean_query(text: str) -> str:
    """The query as searched: trimmed, its inner spaces collapsed; refused when too long."""
    cleaned = " ".join(text.split())
    if len(cleaned) > QUERY_MAX_LENGTH:
        raise UserError(
            N_("Search for at most {max} characters. Shorten what you typed."),
            max=QUERY_MAX_LENGTH,
        )
    return cleaned


def contains(query: SearchQuery, *columns: Any) -> ColumnElement[bool]:
    """Any of ``columns`` contains the query's text (case-insensitive for Latin letters)."""
    return or_(*(column.ilike(query.pattern, escape=ESCAPE) for column in columns))


def section(
    db: Session,
    *,
    key: str,
    title: str,
    statement: Select[*tuple[Any, ...]],
    limit: int,
    hit: Any,
    more: str = "",
) -> SearchSection:
    """Run ``statement`` for at most ``limit`` rows, each made a hit by ``hit``; counts the
    matches (up to COUNT_CAP + 1) only when the first page is full."""
    rows = list(db.execute(statement.limit(limit)).all())
    count = len(rows)
    if count == limit:
        bounded = statement.order_by(None).limit(COUNT_CAP + 1).subquery()
        count = db.scalar(select(func.count()).select_from(bounded)) or 0
    return SearchSection(
        key=key, title=title, hits=tuple(hit(row) for row in rows), count=count, more=more
    )


def snippet(text: str, needle: str, width: int = 80) -> str:
    """A line of ``text`` around the first occurrence of ``needle``."""
    flat = " ".join(text.split())
    at = flat.lower().find(needle.lower())
    if at < 0 or len(flat) <= width:
        return flat[:width] + ("…" if len(flat) > width else "")
    start = max(0, at - width // 3)
    end = min(len(flat), start + width)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
