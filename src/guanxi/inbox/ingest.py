"""Pull comments, mentions and private messages into the inbox, once each.

For every connected channel and every kind its connector can read, ``sync_channel`` asks
the connector for what is newer than the stored cursor (``SyncCursor``), inserts the items
with an insert-or-ignore on (channel, kind, external id) — SQLite and PostgreSQL both have
``ON CONFLICT DO NOTHING`` — and stores the new cursor in the same transaction, so a crash
between the two can only make the next sync read a page again, which inserts nothing.
New items go through the workspace's moderation rules (``inbox.moderation``) in a savepoint
of that transaction: a failing moderation leaves the items and the cursor to be committed.

Failures are handled the way publishing handles them: a refused token parks the channel
(``channels.service.mark_needs_reconnect``), a rate limit or spent quota pauses it until the
platform allows again, and a permanent refusal (WeChat 88000: no comment permission) is
kept on the cursor with its explanation for the channel's page. Nothing raises past here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import channel_context, mark_needs_reconnect
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    Connector,
    ConnectorError,
    FetchedItem,
    FetchedKind,
    FetchPage,
    NotSupportedError,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
)
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.upsert import get_or_create
from guanxi.inbox.bulk import as_stored, insert_new, plan_for_pages, update_by_id, with_defaults
from guanxi.inbox.models import InboxItem, ItemKind, SyncCursor

log = logging.getLogger(__name__)

MAX_ROUNDS = 4  # connector pages per kind and sync: the rest comes with the next sync
MAX_TEXT = 20_000  # characters of one comment or message; longer is a broken item

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


def _row(channel: Channel, item: FetchedItem, now: datetime) -> dict[str, Any]:
    """The item as an inbox row, every value checked (``InvalidValue`` when one cannot be
    stored: a time before 2000 or in the future, an overlong text)."""
    author = item.author
    return {
        "workspace_id": channel.workspace_id,
        "channel_id": channel.id,
        "platform": channel.platform,
        "kind": ItemKind(str(item.kind)),
        "external_id": values.text(item.external_id, limit=200),
        "post_external_id": values.text(item.post_external_id, limit=200),
        "parent_external_id": values.text(item.parent_external_id, limit=200),
        "text": values.long_text(item.text, limit=MAX_TEXT),
        "url": values.web_url(item.url),
        "author_external_id": values.text(author.external_id, limit=200),
        "author_name": values.text(author.name, limit=200),
        "author_followers": _or_none(values.optional_count, author.followers),
        "author_verified_type": _or_none(values.code, author.verified_type),
        "author_url": values.web_url(author.url),
        "author_avatar_url": values.web_url(author.avatar_url),
        "created_at": values.moment(item.created_at),
        "fetched_at": now,
        "metrics": {
            values.text(name, limit=40): number
            for name, value in item.metrics.items()
            if (number := _or_none(values.count, value)) is not None
        },
        "raw": values.raw_record(item.raw),
        "assignee_id": None,  # or the assignment rules' choice (moderation.assign_rows)
    }


def _or_none(read: Callable[[object], int | None], value: object) -> int | None:
    """``read(value)``, or ``None`` for a figure that cannot be stored (the item is kept)."""
    try:
        return read(value)
    except values.InvalidValue:
        return None


def _rows(channel: Channel, items: Iterable[FetchedItem], now: datetime) -> list[dict[str, Any]]:
    """The items to store as rows; the ones whose values cannot be stored are logged and
    left out (one broken item must not stop the page)."""
    rows = []
    for item in items:
        if (
            item.kind is FetchedKind.POST
            or not item.external_id
            or item.author.external_id == channel.external_id
        ):
            continue
        try:
            rows.append(_row(channel, item, now))
        except values.InvalidValue as exc:
            log.warning("channel %s: %s %r left out: %s (%s)", channel.id, item.kind,
                        item.external_id[:200], exc.problem, exc.value)  # fmt: skip
    return rows


def store_items(
    db: Session, *, channel: Channel, items: Iterable[FetchedItem], now: datetime | None = None
) -> list[InboxItem]:
    """Insert the items not yet in the inbox; returns the new ones (already there: skipped).

    Items written by the account itself (its own replies in a comment list) are left out.
    """
    now = now or utcnow()
    rows = _rows(channel, items, now)
    if not rows:
        return []
    from guanxi.inbox.assignment import list_assignment_rules
    from guanxi.inbox.moderation import assign_rows, score_rows

    # Sentiment, priority and the assignee go in with the row, so that each row is written
    # once (an UPDATE after the insert rewrote the row and every index on those columns).
    # The items are taken as new; the few a page read again is turned away by the insert.
    rows = _first_of_each(rows)
    workspace_id = channel.workspace_id
    plan_for_pages(db)
    score_rows(db, workspace_id=workspace_id, rows=rows)
    turns = {
        rule.id: rule.next_index for rule in list_assignment_rules(db, workspace_id=workspace_id)
    }
    assigned = assign_rows(db, workspace_id=workspace_id, rows=rows)
    table = cast(Table, InboxItem.__table__)
    rows = with_defaults(table, rows)
    unique_key = ["channel_id", "kind", "external_id"]
    ids = insert_new(db, table, rows, unique=unique_key)
    new = [
        as_stored(db, InboxItem, _as_read(table, row, ids[key]))
        for row in rows
        if (key := (row["channel_id"], row["kind"], row["external_id"])) in ids
    ]
    stored = sorted(new, key=lambda item: item.id)
    if assigned and len(stored) < len(rows):
        _reassign(db, workspace_id=workspace_id, rows=rows, new=stored, turns=turns)
    return stored


def _as_read(table: Table, row: dict[str, Any], item_id: int) -> dict[str, Any]:
    """``row`` as its columns read back: every column, times in UTC."""
    values = {column.name: row.get(column.name) for column in table.c}
    values["id"] = item_id
    for name in ("created_at", "fetched_at"):
        values[name] = cast(datetime, values[name]).astimezone(UTC)
    return values


def _first_of_each(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` without repeats of an item (the first one stays, as the insert-or-ignore
    would keep it)."""
    seen: set[tuple[str, str]] = set()
    first = []
    for row in rows:
        key = (str(row["kind"]), row["external_id"])
        if key not in seen:
            seen.add(key)
            first.append(row)
    return first


def _reassign(
    db: Session,
    *,
    workspace_id: int,
    rows: Sequence[dict[str, Any]],
    new: Sequence[InboxItem],
    turns: dict[int, int],
) -> None:
    """The assignment of ``rows`` counted items the insert turned away (already stored): do
    it again over the ``new`` items alone, from the rotation as it was (``turns``)."""
    from guanxi.inbox.assignment import list_assignment_rules
    from guanxi.inbox.moderation import assign_rows

    for rule in list_assignment_rules(db, workspace_id=workspace_id):
        rule.next_index = turns.get(rule.id, rule.next_index)
    by_key = {(str(row["kind"]), row["external_id"]): row for row in rows}
    kept = [by_key[(str(item.kind), item.external_id)] | {"assignee_id": None} for item in new]
    assign_rows(db, workspace_id=workspace_id, rows=kept)
    changed = [
        {"id": item.id, "assignee_id": row["assignee_id"]}
        for item, row in zip(new, kept, strict=True)
        if item.assignee_id != row["assignee_id"]
    ]
    update_by_id(db, cast(Table, InboxItem.__table__), changed)
    for item, row in zip(new, kept, strict=True):
        set_committed_value(item, "assignee_id", row["assignee_id"])


def after_insert(db: Session, *, workspace_id: int, items: Sequence[InboxItem]) -> None:
    """Run the workspace's moderation rules on freshly stored ``items`` and commit them with
    what moderation did, in one transaction (one commit a page instead of two); commits.

    The items come from ``store_items``, which gave them their sentiment and priority.
    Moderation runs in a savepoint: when it fails, the items (and the sync cursor) are
    committed without it. Before any call to the platform (hide, auto-reply) moderation
    commits what it has, so no write transaction is held across those calls and a
    failure there loses nothing.
    """
    if not items:
        db.commit()
        return
    from guanxi.inbox.moderation import moderate_new

    savepoint = db.begin_nested()
    try:
        moderate_new(db, workspace_id=workspace_id, items=items, scored=True,
                     before_platform=db.commit)  # fmt: skip
    except Exception:  # the items are stored; a moderation bug must not stop the ingest
        log.exception("moderation of %d new items failed", len(items))
        if savepoint.is_active:
            savepoint.rollback()
        else:  # moderation committed before a platform call; drop what came after
            db.rollback()
    db.commit()


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
    if channel.paused_until is not None and channel.paused_until > now:
        report.skipped = "paused"
        return report
    for kind in kinds if kinds is not None else readable_kinds(connector):
        result = KindResult(kind)
        report.kinds.append(result)
        cursor = _cursor(db, channel.id, kind)
        try:
            for _ in range(MAX_ROUNDS):
                page = _read(connector, kind, context, cursor.cursor)
                new = store_items(db, channel=channel, items=page.items, now=now)
                result.fetched += len(page.items)
                result.added += len(new)
                cursor.cursor, cursor.synced_at = page.cursor, now
                cursor.items_total = (cursor.items_total or 0) + len(new)
                cursor.last_error, cursor.last_error_params, cursor.last_error_code = "", {}, ""
                after_insert(db, workspace_id=channel.workspace_id, items=new)  # commits
                if not page.has_more:
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
    elif isinstance(error, RateLimitedError):
        channel.paused_until = now + timedelta(seconds=error.retry_after_s)
    elif isinstance(error, QuotaExhaustedError):
        channel.paused_until = error.resets_at
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
        report = sync_channel_id(sessions, channel_id, connector_for=connector_for, box=box,
                                 owner=owner)  # fmt: skip
        if report is None:
            continue
        reports.append(report)
        if on_channel is not None:
            on_channel(report)
    return reports
