"""Inbox ingest from Douyin video comments, against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import User, Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.base import FetchedKind, NotSupportedError
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.inbox.intake import service as ingest
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.replies.models import ReplyState
from guanxi.inbox.replies.service import send_reply
from guanxi.sandbox.audience import engagement_of
from guanxi.sandbox.douyin import DEMO_DOUYIN_OPEN_ID
from tests.inbox_ingest_support import Stack, connect_demo, context_of, make_stack


@pytest.fixture
def stack() -> Stack:
    """A fresh sandbox; the demo Douyin account has two public videos."""
    stack = make_stack()
    stack.publish("douyin", DEMO_DOUYIN_OPEN_ID, "桃红葡萄酒开瓶 #葡萄酒")
    stack.publish("douyin", DEMO_DOUYIN_OPEN_ID, "野餐配酒 #夏天")
    return stack


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    """The test instance's secret box."""
    return SecretBox.from_settings(settings)


@pytest.fixture
def channel(db: Session, make_user: Any, make_workspace: Any, box: SecretBox) -> Channel:
    """The sandbox's demo Douyin account, connected to a fresh workspace."""
    owner: User = make_user("owner@example.com")
    workspace: Workspace = make_workspace("brand", owner)
    return connect_demo(db, workspace=workspace, box=box, name="douyin")


def test_video_comments_arrive_once_and_are_answered(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    connector = stack.connector("douyin")
    context = context_of(channel, session_factory, box)

    def sync() -> ingest.SyncReport:
        return ingest.sync_channel(db, channel=channel, connector=connector, context=context)

    stack.tick(comments=4)
    assert sync().added == 4
    assert sync().added == 0  # the boundary second is read again, and ignored
    stack.tick(comments=3)
    assert sync().added == 3

    comments = engagement_of(stack.sandbox.state).comments
    item = db.scalars(select(InboxItem).order_by(InboxItem.id)).first()
    assert item is not None
    fan = next(c for c in comments if c.comment_id == item.external_id)
    assert (item.text, item.post_external_id, item.author_external_id) == (
        fan.text,
        fan.post_id,
        fan.author.fan_id,
    )

    reply = send_reply(
        db,
        item=item,
        text="感谢喜欢～",
        actor=None,
        connector_for=lambda _c: connector,
        context_for=lambda _c: context,
    )
    assert reply.state == ReplyState.SENT, reply.error
    assert reply.external_id
    assert any(c.by_account and c.reply_to_id == fan.comment_id for c in comments)
    with pytest.raises(NotSupportedError):
        connector.hide(context, item_external_id=item.external_id, kind=FetchedKind.COMMENT)
