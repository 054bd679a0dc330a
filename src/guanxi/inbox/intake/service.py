"""Pull comments, mentions and private messages into the inbox, once each.

For every connected channel and every kind its connector can read, ``sync_channel`` asks
the connector for what is newer than the stored cursor (``SyncCursor``) and takes each page
through the ingest steps (``inbox.intake.steps``): the items not yet stored are scored,
assigned and inserted with an insert-or-ignore on (channel, kind, external id) — SQLite
and PostgreSQL both have ``ON CONFLICT DO NOTHING`` —, the cursor moves in the same
transaction, so a crash between the two can only make the next sync read a page again,
which inserts nothing. New items go through the workspace's moderation rules
(``inbox.triage.moderation``) in a savepoint of that transaction: a failing moderation
leaves the items and the cursor to be committed.

Failures are handled the way publishing handles them: a refused token parks the channel
(``channels.service.mark_needs_reconnect``), a rate limit or spent quota pauses it until the
platform allows again, and a permanent refusal (WeChat 88000: no comment permission) is
kept on the cursor with its explanation for the channel's page. Nothing raises past here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import (
    channel_context,
    is_paused,
    mark_needs_reconnect,
    pause_channel,
)
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    Connector,
    ConnectorError,
    FetchedItem,
    FetchPage,
    NotSupportedError,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
)
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.upsert import get_or_create
from guanxi.inbox.intake.models import SyncCursor
from guanxi.inbox.intake.steps import (
    AFTER_INSERT_STEPS,
    INGEST_STEPS,
    STORE_STEPS,
    Page,
    StepResult,
    run_steps,
)
from guanxi.inbox.items.models import InboxItem, ItemKind

log = logging.getLogger(__name__)

MAX_ROUNDS = 4  # connector pages per kind and sync: the rest comes with the next sync

# Which connector method reads which kind, and the capability that says it exists.
READERS: dict[ItemKind, tuple[Capability, str]] = {
    ItemKind.COMMENT: (Capability.FETCH_COMMENTS, "fetch_comments"),
    ItemKind.MENTION: (Capability.FETCH_MENTIONS, "fetch_mentions"),
    ItemKind.MESSAGE: (Capability.FETCH_MESSAGES, "fetch_messages"),
}


@dataclass
class KindResult:
    """What one kind of one channel's sync did."""

    kind: ItemKind
    fetched: int = 0
    added: int = 0
    error: str = ""  # a translatable message id
    error_params: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    steps: dict[str, StepResult] = field(default_factory=dict)  # what each ingest step did

    def count(self, page: Page) -> None:
        """Count in what the ingest steps did to ``page``."""
        for done in page.results:
            self.steps.setdefault(done.step, StepResult(done.step)).add(done)


@dataclass
class SyncReport:
    """What one channel's sync did."""

    channel_id: int
    channel_name: str
    kinds: list[KindResult] = field(default_factory=list)
    skipped: str = ""  # why nothing was read (paused, needs reconnect)

    @property
    def added(self) -> int:
        """New inbox items."""
        return sum(k.added for k in self.kinds)

    @property
    def fetched(self) -> int:
        """Items read from the platform (including ones already in the inbox)."""
        return sum(k.fetched for k in self.kinds)


def readable_kinds(connector: Connector) -> list[ItemKind]:
    """The kinds ``connector`` can read."""
    return [kind for kind, (cap, _) in READERS.items() if cap in connector.capabilities]


def store_items(
    db: Session, *, channel: Channel, items: Iterable[FetchedItem], now: datetime | None = None
) -> list[InboxItem]:
    """Insert the items not yet in the inbox; returns the new ones (already there: skipped).

    Items written by the account itself (its own replies in a comment list) are left out.
    Each new item is written once, with its sentiment, priority and assignee
    (``steps.STORE_STEPS``).
    """
    page = Page(db, channel.workspace_id, channel=channel, fetched=list(items), now=now or utcnow())
    return run_steps(page, STORE_STEPS).stored


def after_insert(db: Session, *, workspace_id: int, items: Sequence[InboxItem]) -> None:
    """Run the workspace's moderation rules on freshly stored ``items`` and commit them with
    what moderation did, in one transaction (``steps.Moderate``); commits."""
    run_steps(Page(db, workspace_id, stored=list(items)), AFTER_INSERT_STEPS)


def _cursor(db: Session, channel_id: int, kind: ItemKind) -> SyncCursor:
    cursor = db.get(SyncCursor, (channel_id, str(kind)))
    if cursor is None:  # a scheduled sync and "sync now" may start the channel at once
        key = {"channel_id": channel_id, "kind": str(kind)}
        cursor, _ = get_or_create(
            db, SyncCursor, key=key, defaults={"cursor": "", "items_total": 0}
        )
        # The platform is called next: SQLite's write lock must not be held across it.
        db.commit()
    return cursor


def _read(connector: Connector, kind: ItemKind, context: ChannelContext, since: str) -> FetchPage:
    method: Callable[..., FetchPage] = getattr(connector, READERS[kind][1])
    return method(context, since=since)


def sync_channel(
    db: Session,
    *,
    channel: Channel,
    connector: Connector,
    context: ChannelContext,
    kinds: Sequence[ItemKind] | None = None,
    now: datetime | None = None,
) -> SyncReport:
    """Read what is new on ``channel``, store it, moderate it, move the cursors; commits."""
    now = now or utcnow()
    report = SyncReport(channel.id, channel.name)
    if channel.status != ChannelStatus.CONNECTED:
        report.skipped = str(channel.status)
        return report
    if is_paused(channel, now=now):
        report.skipped = "paused"
        return report
    for kind in kinds if kinds is not None else readable_kinds(connector):
        result = KindResult(kind)
        report.kinds.append(result)
        cursor = _cursor(db, channel.id, kind)
        try:
            for _ in range(MAX_ROUNDS):
                fetched = _read(connector, kind, context, cursor.cursor)
                page = Page(
                    db,
                    channel.workspace_id,
                    channel=channel,
                    fetched=fetched.items,
                    now=now,
                    cursor=cursor,
                    next_cursor=fetched.cursor,
                )
                run_steps(page, INGEST_STEPS)  # commits
                result.fetched += len(fetched.items)
                result.added += len(page.stored)
                result.count(page)
                if not fetched.has_more:
                    break
        except NotSupportedError:
            db.rollback()
            continue
        except ConnectorError as exc:
            db.rollback()
            _record_failure(db, channel=channel, kind=kind, error=exc, now=now, result=result)
            if isinstance(exc, TokenError | RateLimitedError | QuotaExhaustedError):
                break  # the whole channel waits: the other kinds would fail the same way
    return report


def _record_failure(
    db: Session,
    *,
    channel: Channel,
    kind: ItemKind,
    error: ConnectorError,
    now: datetime,
    result: KindResult,
) -> None:
    result.error, result.error_params, result.error_code = error.message, error.params, error.code
    cursor = _cursor(db, channel.id, kind)
    cursor.last_error, cursor.last_error_params = error.message, dict(error.params)
    cursor.last_error_code = error.code
    if isinstance(error, TokenError):
        mark_needs_reconnect(db, channel=channel, reason=str(error))
    elif isinstance(error, RateLimitedError | QuotaExhaustedError):
        pause_channel(db, channel=channel, error=error, now=now)
    db.commit()


def sync_channel_id(
    sessions: sessionmaker[Session],
    channel_id: int,
    *,
    connector_for: Callable[[Channel], Connector],
    box: SecretBox,
    owner: str,
) -> SyncReport | None:
    """Sync one channel by id in its own session; None when it cannot read anything."""
    with sessions() as db:
        channel = db.get(Channel, channel_id)
        if channel is None:
            return None
        try:
            connector = connector_for(channel)
        except LookupError:  # a plugin connector that is no longer installed
            return None
        if not readable_kinds(connector):
            return None
        context = channel_context(channel, sessions=sessions, box=box, owner=owner)
        return sync_channel(db, channel=channel, connector=connector, context=context)


def syncable_channel_ids(
    sessions: sessionmaker[Session], *, workspace_id: int | None = None
) -> list[int]:
    """The connected channels (of one workspace, or all), in id order."""
    with sessions() as db:
        query = select(Channel.id).where(Channel.status == ChannelStatus.CONNECTED)
        if workspace_id is not None:
            query = query.where(Channel.workspace_id == workspace_id)
        return list(db.scalars(query.order_by(Channel.id)))


def sync_all(
    sessions: sessionmaker[Session],
    *,
    connector_for: Callable[[Channel], Connector],
    box: SecretBox,
    owner: str,
    workspace_id: int | None = None,
    on_channel: Callable[[SyncReport], None] | None = None,
) -> list[SyncReport]:
    """Sync every connected channel that can read something (of one workspace, or all)."""
    reports = []
    for channel_id in syncable_channel_ids(sessions, workspace_id=workspace_id):
        report = sync_channel_id(
            sessions, channel_id, connector_for=connector_for, box=box, owner=owner
        )
        if report is None:
            continue
        reports.append(report)
        if on_channel is not None:
            on_channel(report)
    return reports
