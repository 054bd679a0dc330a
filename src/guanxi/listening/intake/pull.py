"""Pulls: keyword searches run through connected accounts (``Connector.search_posts``).

Each pull source names a channel and its keywords; a pull asks the connector for the
posts newer than the source's cursor, stores and enriches them like an import, and keeps
the new cursor. A connector error is written on the source (the next pull tries again);
it never loses what was stored before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
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
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.core.security import SecretBox
from guanxi.listening.intake.flows import store_and_enrich
from guanxi.listening.intake.importers.base import MAX_TEXT, ParsedAuthor, ParsedMention
from guanxi.listening.intake.models import ListeningSource, SourceFormat
from guanxi.listening.mentions.flows import EnrichingPipeline
from guanxi.listening.mentions.models import MentionKind

log = logging.getLogger(__name__)

MAX_PAGES = 10  # per source and pull: a backlog is caught up over the next pulls


@dataclass(frozen=True)
class PullResult:
    """What one source's pull did."""

    source_id: int
    added: int = 0
    skipped: int = 0
    error: str = ""


def mention_of(item: FetchedItem, platform: str) -> ParsedMention:
    """A fetched post as a mention to store; ``InvalidValue`` when a value cannot be stored
    (a time before 2000 or in the future, a count out of range, an overlong text)."""
    author = ParsedAuthor(
        external_id=values.text(item.author.external_id, limit=120),
        name=values.text(item.author.name, limit=120),
        verified_type=values.code(item.author.verified_type),
        followers=_optional_count(item.author.followers),
        url=values.web_url(item.author.url, limit=400),
    )
    return ParsedMention(
        platform=platform,
        external_id=values.text(item.external_id, limit=120),
        kind=MentionKind.COMMENT if item.kind is FetchedKind.COMMENT else MentionKind.POST,
        text=values.long_text(item.text, limit=MAX_TEXT),
        posted_at=values.moment(item.created_at),
        url=values.web_url(item.url, limit=400),
        author=author if author.external_id else None,
        likes=values.count(item.metrics.get("likes")),
        comments=values.count(item.metrics.get("comments")),
        reposts=values.count(item.metrics.get("reposts")),
        reply_to_external_id=values.text(
            item.parent_external_id
            or (item.post_external_id if item.kind is FetchedKind.COMMENT else ""),
            limit=120,
        ),
        raw=values.raw_record(item.raw),
    )


def _optional_count(value: object) -> int | None:
    """A follower count, or ``None`` when the platform gave none that can be stored."""
    try:
        return values.optional_count(value)
    except values.InvalidValue:
        return None


def mentions_of(items: Iterable[FetchedItem], platform: str) -> list[ParsedMention]:
    """The items that can be stored, as mentions; the others are logged and left out."""
    mentions = []
    for item in items:
        try:
            mentions.append(mention_of(item, platform))
        except values.InvalidValue as exc:
            log.warning(
                "pulled %s post %r left out: %s (%s)",
                platform,
                item.external_id[:120],
                exc.problem,
                exc.value,
            )
    return mentions


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
            mentions = mentions_of(page.items, source.platform)
            stored = store_and_enrich(
                db,
                workspace_id=source.workspace_id,
                source_id=source.id,
                mentions=mentions,
                platform=source.platform,
                pipeline=pipeline,
            )
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
