"""Inbox ingest from Weibo: the real connector against the in-process sandbox audience."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import User, Workspace
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.connectors import registry
from guanxi.connectors.base import FetchedAuthor, FetchedItem, FetchedKind
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.inbox import scheduled
from guanxi.inbox.intake import service as ingest
from guanxi.inbox.intake.models import SyncCursor
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.sandbox.audience import engagement_of
from guanxi.sandbox.faults import FaultKind, FaultRule
from guanxi.sandbox.weibo import DEMO_WEIBO_UID
from tests.inbox_ingest_support import BASE, Stack, connect_demo, context_of, make_stack


@pytest.fixture
def stack() -> Stack:
    """A fresh sandbox; the demo Weibo account has published one post."""
    stack = make_stack()
    stack.publish(
        "weibo", DEMO_WEIBO_UID, "普罗旺斯桃红葡萄酒，夏天的味道 https://provence-wine.example/rose"
    )
    return stack


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    """The test instance's secret box."""
    return SecretBox.from_settings(settings)


@pytest.fixture
def workspace(make_user: Any, make_workspace: Any) -> Workspace:
    """A workspace owned by a fresh user."""
    owner: User = make_user("owner@example.com")
    workspace: Workspace = make_workspace("brand", owner)
    return workspace


@pytest.fixture
def channel(db: Session, workspace: Workspace, box: SecretBox) -> Channel:
    """The sandbox's demo Weibo account, connected."""
    return connect_demo(db, workspace=workspace, box=box, name="weibo")


def _sync(
    db: Session, stack: Stack, channel: Channel, sessions: sessionmaker[Session], box: SecretBox
) -> ingest.SyncReport:
    return ingest.sync_channel(
        db,
        channel=channel,
        connector=stack.connector("weibo"),
        context=context_of(channel, sessions, box),
    )


def _count(db: Session, kind: ItemKind | None = None) -> int:
    query = select(func.count(InboxItem.id))
    if kind is not None:
        query = query.where(InboxItem.kind == kind)
    return db.scalar(query) or 0


def test_weibo_comments_and_mentions_arrive_once(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    for _ in range(3):
        stack.tick(comments=4)
    engagement = engagement_of(stack.sandbox.state)
    report = _sync(db, stack, channel, session_factory, box)
    assert report.added == 12 + len(engagement.mentions)
    assert _count(db, ItemKind.COMMENT) == 12
    assert _count(db, ItemKind.MENTION) == len(engagement.mentions)
    comment = db.scalars(select(InboxItem).where(InboxItem.kind == ItemKind.COMMENT)).first()
    assert comment is not None
    fan = engagement.comment("weibo", comment.external_id)
    assert fan is not None
    assert comment.text == fan.text
    assert comment.author_name == fan.author.name
    assert comment.author_verified_type == fan.author.verified_type
    assert comment.post_external_id == fan.post_id
    assert comment.platform == "weibo"
    assert comment.workspace_id == channel.workspace_id
    cursor = db.get(SyncCursor, (channel.id, "comment"))
    assert cursor is not None
    assert cursor.cursor == max(c.comment_id for c in engagement.comments)

    again = _sync(db, stack, channel, session_factory, box)  # nothing new: nothing added
    assert again.added == 0
    assert _count(db) == report.added

    stack.tick(comments=2)
    third = _sync(db, stack, channel, session_factory, box)
    assert [k.added for k in third.kinds if k.kind is ItemKind.COMMENT] == [2]
    assert third.fetched == third.added  # the cursor asked only for what is new


def test_store_items_ignores_duplicates(db: Session, channel: Channel) -> None:
    author = FetchedAuthor("7001", "葡萄君")
    items = [
        FetchedItem(FetchedKind.COMMENT, "500", "好喝", author, utcnow(), post_external_id="1"),
        FetchedItem(FetchedKind.COMMENT, "501", "太贵了", author, utcnow(), post_external_id="1"),
    ]
    assert len(ingest.store_items(db, channel=channel, items=items)) == 2
    db.commit()
    again = ingest.store_items(db, channel=channel, items=[*items, items[0]])
    assert again == []
    # The same id as another kind is another item (a comment id is not a mention id).
    mention = FetchedItem(FetchedKind.MENTION, "500", "@我们", author, utcnow())
    assert len(ingest.store_items(db, channel=channel, items=[mention])) == 1
    # The account's own replies in a list are not inbox items.
    own = FetchedItem(
        FetchedKind.COMMENT, "502", "谢谢", FetchedAuthor(DEMO_WEIBO_UID, "我们"), utcnow()
    )
    assert ingest.store_items(db, channel=channel, items=[own]) == []


def test_new_items_go_through_moderation(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, list[int]]] = []

    def record(db: Session, *, workspace_id: int, items: Sequence[InboxItem], **_: object) -> None:
        assert all(item.sentiment for item in items)  # ingest gave them sentiment and priority
        seen.append((workspace_id, [item.id for item in items]))

    monkeypatch.setattr("guanxi.inbox.triage.moderation.moderate_new", record)
    stack.tick(comments=3)
    _sync(db, stack, channel, session_factory, box)
    _sync(db, stack, channel, session_factory, box)
    ids = [item_id for _, batch in seen for item_id in batch]
    assert sorted(ids) == sorted(db.scalars(select(InboxItem.id)))
    assert {workspace_id for workspace_id, _ in seen} == {channel.workspace_id}


def test_revoked_token_parks_the_channel(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    stack.tick()
    stack.sandbox.state.revoke_tokens("weibo")
    report = _sync(db, stack, channel, session_factory, box)
    assert report.added == 0
    assert report.kinds[0].error_code == "21332"
    db.refresh(channel)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert "Reconnect" in channel.status_reason
    cursor = db.get(SyncCursor, (channel.id, "comment"))
    assert cursor is not None
    assert cursor.last_error_code == "21332"
    assert _sync(db, stack, channel, session_factory, box).skipped == "needs_reconnect"


def test_rate_limit_pauses_the_channel(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    stack.tick()
    stack.sandbox.faults.add(FaultRule(FaultKind.RATE_LIMIT, platform="weibo", remaining=1))
    report = _sync(db, stack, channel, session_factory, box)
    assert report.kinds[0].error_code == "10023"
    db.refresh(channel)
    assert channel.status == ChannelStatus.CONNECTED
    assert channel.paused_until is not None
    assert channel.paused_until > utcnow()
    assert _sync(db, stack, channel, session_factory, box).skipped == "paused"
    channel.paused_until = None
    db.commit()
    assert _sync(db, stack, channel, session_factory, box).added == 3 + len(
        engagement_of(stack.sandbox.state).mentions
    )


def test_server_errors_leave_the_cursor(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    stack.tick()
    stack.sandbox.faults.add(
        FaultRule(
            FaultKind.SERVER_ERROR, platform="weibo", path_contains="comments/to_me", remaining=1
        )
    )
    report = _sync(db, stack, channel, session_factory, box)
    comments = next(k for k in report.kinds if k.kind is ItemKind.COMMENT)
    assert comments.error_code == "10009"
    assert comments.added == 0
    cursor = db.get(SyncCursor, (channel.id, "comment"))
    assert cursor is not None
    assert cursor.cursor == ""
    assert cursor.last_error
    assert _sync(db, stack, channel, session_factory, box).added == 3
    db.refresh(cursor)
    assert cursor.last_error == ""


def test_the_scheduled_job_syncs_every_connected_channel(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduled.huey, "immediate", True)  # jobs run as they are queued
    monkeypatch.setattr(scheduled, "sessions", lambda: session_factory)
    monkeypatch.setattr(registry, "connector_for", lambda c: stack.connector(c.connector))
    monkeypatch.setattr("guanxi.core.settings.get_settings", lambda: settings)
    monkeypatch.setattr(scheduled, "get_settings", lambda: settings)  # the job's own reference
    stack.tick(comments=2)

    assert [job.name for job in scheduled.SCHEDULE] == ["inbox.sync", "inbox.rescore-sentiment"]
    assert scheduled.run_sync() == [channel.id]
    assert _count(db, ItemKind.COMMENT) == 2
    assert scheduled.run_sync() == [channel.id]
    assert _count(db, ItemKind.COMMENT) == 2


def test_a_failing_moderation_keeps_the_items_and_the_cursor(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(db: Session, *, workspace_id: int, items: Sequence[InboxItem], **_: object) -> None:
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr("guanxi.inbox.triage.moderation.moderate_new", broken)
    stack.tick(comments=2)
    report = _sync(db, stack, channel, session_factory, box)
    assert report.added >= 2
    db.expire_all()
    assert _count(db) == report.added
    cursor = db.get(SyncCursor, (channel.id, "comment"))
    assert cursor is not None
    assert cursor.cursor
    assert _sync(db, stack, channel, session_factory, box).added == 0


def test_two_workers_syncing_one_channel_at_once_store_each_item_once(
    database_url: str,
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    """Given 300 new comments, when two workers run the channel's sync job at the same
    moment (the schedule's and a "sync now", or a queue retry), then each comment is in the
    inbox once, neither sync reports an error, and the cursor ends on the newest comment."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two writers at once: SQLite lets one write at a time")
    for _ in range(6):
        stack.tick(comments=50)
    together = threading.Barrier(2, timeout=20)
    reports: list[ingest.SyncReport | None] = []

    def worker(n: int) -> None:
        # Each worker has its own HTTP client, as each machine has its own.
        own = replace(stack, http=TestClient(stack.app, base_url=BASE))
        together.wait()
        reports.append(
            ingest.sync_channel_id(
                session_factory,
                channel.id,
                connector_for=lambda _c: own.connector("weibo"),
                box=box,
                owner=f"machine-{n}",
            )
        )

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    comments = engagement_of(stack.sandbox.state).comments
    assert _count(db, ItemKind.COMMENT) == len(comments) == 300
    assert sum(r.added for r in reports if r is not None) == 300 + _count(db, ItemKind.MENTION)
    assert [k.error for r in reports if r is not None for k in r.kinds] == ["", "", "", ""]
    cursor = db.get(SyncCursor, (channel.id, "comment"))
    assert cursor is not None
    assert cursor.cursor == max(c.comment_id for c in comments)
