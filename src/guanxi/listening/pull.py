"""Pulls: keyword searches run through connected accounts (``Connector.search_posts``).

Each pull source names a channel and its keywords; a pull asks the connector for the
posts newer than the source's cursor, stores and enriches them like an import, and keeps
the new cursor. A connector error is written on the source (the next pull tries again);
it never loses what was stored before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import channel_context
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    Connector,
    ConnectorError,
    FetchedItem,
    FetchedKind,
)
from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.core.security import SecretBox
from guanxi.listening.flows import EnrichingPipeline, store_and_enrich
from guanxi.listening.importers.base import ParsedAuthor, ParsedMention
from guanxi.listening.models import ListeningSource, MentionKind, SourceFormat

MAX_PAGES = 10  # per source and pull: a backlog is caught up over the next pulls


@dataclass(frozen=True)
class PullResult:
    """What one source's pull did."""

    source_id: int
    added: int = 0
    skipped: int = 0
    error: str = ""


def mention_of(item: FetchedItem, platform: str) -> ParsedMention:
    """A fetched post as a mention to store."""
    author = ParsedAuthor(
        external_id=item.author.external_id,
        name=item.author.name,
        verified_type=item.author.verified_type,
        followers=item.author.followers,
        url=item.author.url,
    )
    return ParsedMention(
        platform=platform,
        external_id=item.external_id,
        kind=MentionKind.COMMENT if item.kind is FetchedKind.COMMENT else MentionKind.POST,
        text=item.text,
        posted_at=item.created_at,
        url=item.url,
        author=author if item.author.external_id else None,
        likes=int(item.metrics.get("likes", 0)),
        comments=int(item.metrics.get("comments", 0)),
        reposts=int(item.metrics.get("reposts", 0)),
        reply_to_external_id=item.parent_external_id or (
            item.post_external_id if item.kind is FetchedKind.COMMENT else ""
        ),
        raw=dict(item.raw),
    )  # fmt: skip


def pull_source(
    db: Session,
    *,
    source: ListeningSource,
    connector: Connector,
    context: ChannelContext,
    pipeline: EnrichingPipeline | None,
) -> PullResult:
    """Pull one source until the feed has no more (at most ``MAX_PAGES`` pages)."""
    added = skipped = 0
    try:
        for _page in range(MAX_PAGES):
            page = connector.search_posts(context, query=source.query, since=source.cursor)
            mentions = [mention_of(item, source.platform) for item in page.items]
            stored = store_and_enrich(db, workspace_id=source.workspace_id, source_id=source.id,
                                      mentions=mentions, platform=source.platform,
                                      pipeline=pipeline)  # fmt: skip
            added += len(stored.added_ids)
            skipped += stored.skipped
            source.cursor = page.cursor or source.cursor
            source.last_run_at, source.last_error = utcnow(), ""
            db.commit()
            if not page.has_more:
                break
    except ConnectorError as exc:
        db.rollback()
        source.last_error = str(exc)[:1000]
        source.last_run_at = utcnow()
        db.commit()
        return PullResult(source.id, added, skipped, source.last_error)
    return PullResult(source.id, added, skipped)


def pull_all(
    db: Session,
    *,
    sessions: sessionmaker[Session],
    box: SecretBox,
    connector_for: Callable[[Channel], Connector],
    pipeline_for: Callable[[int], EnrichingPipeline | None],
    workspace_id: int | None = None,
    owner: str = "listen-pull",
) -> list[PullResult]:
    """Pull every pull source whose channel is connected and can search."""
    query = select(ListeningSource).where(
        ListeningSource.format == SourceFormat.PULL, ListeningSource.channel_id.is_not(None)
    )
    if workspace_id is not None:
        query = query.where(ListeningSource.workspace_id == workspace_id)
    results: list[PullResult] = []
    for source in db.scalars(query.order_by(ListeningSource.id)).all():
        channel = db.get(Channel, source.channel_id)
        if channel is None or channel.status != ChannelStatus.CONNECTED:
            continue
        connector = connector_for(channel)
        if Capability.SEARCH not in connector.capabilities:
            source.last_error = N_("This account's platform offers no search.")
            db.commit()
            continue
        context = channel_context(channel, sessions=sessions, box=box, owner=owner)
        results.append(
            pull_source(
                db,
                source=source,
                connector=connector,
                context=context,
                pipeline=pipeline_for(source.workspace_id),
            )
        )
    return results
