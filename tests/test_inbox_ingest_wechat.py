"""Inbox ingest from WeChat Official Account article comments, against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import User, Workspace
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.connectors.base import FetchedKind, PermanentError
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.inbox.intake import service as ingest
from guanxi.inbox.intake.models import SyncCursor
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.inbox.replies.models import ReplyState
from guanxi.inbox.replies.service import send_reply
from guanxi.sandbox.audience import engagement_of
from guanxi.sandbox.wechat import DEMO_WECHAT_APPID
from tests.inbox_ingest_support import Stack, connect_demo, context_of, make_stack


@pytest.fixture
def stack() -> Stack:
    """A fresh sandbox; the demo Official Account has published one article."""
    stack = make_stack()
    stack.publish_article("桃红葡萄酒配什么菜", "夏天的桃红葡萄酒，配海鲜最好。")
    return stack


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    """The test instance's secret box."""
    return SecretBox.from_settings(settings)


@pytest.fixture
def channel(db: Session, make_user: Any, make_workspace: Any, box: SecretBox) -> Channel:
    """The sandbox's demo Official Account, connected to a fresh workspace."""
    owner: User = make_user("owner@example.com")
    workspace: Workspace = make_workspace("brand", owner)
    return connect_demo(db, workspace=workspace, box=box, name="wechat_oa")


def _sync(
    db: Session, stack: Stack, channel: Channel, sessions: sessionmaker[Session], box: SecretBox
) -> ingest.SyncReport:
    return ingest.sync_channel(
        db,
        channel=channel,
        connector=stack.connector("wechat_oa"),
        context=context_of(channel, sessions, box),
    )


def test_article_comments_arrive_once_and_can_be_answered_and_hidden(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    stack.tick(comments=3)
    stack.tick(comments=2)
    report = _sync(db, stack, channel, session_factory, box)
    assert [k.kind for k in report.kinds] == [ItemKind.COMMENT]  # messages come by push
    assert report.added == 5
    assert _sync(db, stack, channel, session_factory, box).added == 0
    stack.tick(comments=1)
    assert _sync(db, stack, channel, session_factory, box).added == 1

    item = db.scalars(select(InboxItem).order_by(InboxItem.id)).first()
    assert item is not None
    assert item.post_external_id.startswith("ARTICLE_")
    fan = engagement_of(stack.sandbox.state).comment("wechat", item.external_id.split(":")[-1])
    assert fan is not None
    assert fan.text == item.text
    assert item.author_external_id == fan.author.fan_id

    reply = send_reply(
        db,
        item=item,
        text="谢谢支持！",
        actor=None,
        connector_for=lambda _c: stack.connector("wechat_oa"),
        context_for=lambda c: context_of(c, session_factory, box),
    )
    assert reply.state == ReplyState.SENT, reply.error
    listed = stack.http.get(f"/accounts/wechat/{DEMO_WECHAT_APPID}").text
    assert "谢谢支持！" in listed

    connector = stack.connector("wechat_oa")
    connector.hide(
        context_of(channel, session_factory, box),
        item_external_id=item.external_id,
        kind=FetchedKind.COMMENT,
    )
    assert fan.deleted


def test_no_comment_permission_is_explained_not_a_crash(
    db: Session,
    stack: Stack,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
) -> None:
    stack.tick()
    closed = stack.http.put(
        f"/wechat/_sandbox/accounts/{DEMO_WECHAT_APPID}/comments", json={"enabled": False}
    )
    assert closed.status_code == 200
    report = _sync(db, stack, channel, session_factory, box)
    assert report.kinds[0].error_code == "88000"
    assert "no comment permission" in report.kinds[0].error
    cursor = db.get(SyncCursor, (channel.id, "comment"))
    assert cursor is not None
    assert cursor.last_error_code == "88000"
    db.refresh(channel)
    assert channel.status == ChannelStatus.CONNECTED  # not a token problem: nothing parked
    with pytest.raises(PermanentError) as refused:
        stack.connector("wechat_oa").fetch_comments(context_of(channel, session_factory, box))
    assert refused.value.code == "88000"
