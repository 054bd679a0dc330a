"""The inbox's part of the global search: items (through the inbox's own full-text index)
and people (name or the team's remark)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core.errors import N_
from guanxi.core.search import SearchHit, SearchQuery, SearchSection, contains, section, snippet
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.items.search import apply_search
from guanxi.inbox.people.models import Person


def search(db: Session, query: SearchQuery) -> list[SearchSection]:
    """Inbox items whose text has the query as a phrase, and people named like it."""
    if "read" not in query.permissions:
        return []
    base = f"/w/{query.slug}/inbox"

    def item_hit(row: Any) -> SearchHit:
        return SearchHit(
            title=row.author_name or "—",
            link=f"{base}/items/{row.id}",
            detail=snippet(row.text, query.text),
            when=row.created_at,
        )

    def person_hit(row: Any) -> SearchHit:
        return SearchHit(title=row.remark or row.name, link=f"{base}/people/{row.id}")

    # The inbox's own full-text index finds the items (a phrase, Chinese or not).
    found = apply_search(
        db, select(InboxItem).where(InboxItem.workspace_id == query.workspace_id), query.text
    )
    items = found.with_only_columns(
        InboxItem.id, InboxItem.author_name, InboxItem.text, InboxItem.created_at
    )
    people = (
        select(Person.id, Person.name, Person.remark)
        .where(
            Person.workspace_id == query.workspace_id, contains(query, Person.name, Person.remark)
        )
        .order_by(Person.id.desc())
    )
    return [
        section(
            db,
            key="inbox",
            title=N_("Inbox"),
            statement=items,
            limit=query.limit,
            hit=item_hit,
            more=f"{base}?{urlencode({'q': query.text, 'status': 'all'})}",
        ),
        section(
            db,
            key="people",
            title=N_("People"),
            statement=people,
            limit=query.limit,
            hit=person_hit,
        ),
    ]
