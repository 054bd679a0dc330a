"""Replies: Weibo and WeChat through the sandbox, WeChat's 48-hour / 5-message window, manual
platforms, failures that keep the text, and approval of juniors' replies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership, Role, User, Workspace
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.channels.service import create_channel
from guanxi.connectors.base import (
    ChannelContext,
    Connector,
    ConnectorConfig,
    FetchedAuthor,
    FetchedItem,
    FetchedKind,
    OutcomeUnknownError,
)
from guanxi.connectors.manual import ManualConnector
from guanxi.core.db import utcnow
from guanxi.core.errors import PermissionDeniedError, UserError
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.inbox.intake import service as ingest
from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.replies import service as replies
from guanxi.inbox.replies.models import ReplyState, ReplyVia
from guanxi.sandbox.audience import Fan, FanMessage, engagement_of
from guanxi.sandbox.wechat import DEMO_WECHAT_APPID
from guanxi.sandbox.weibo import DEMO_WEIBO_UID
from tests.inbox_ingest_support import Stack, connect_demo, context_of, make_stack


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    """The test instance's secret box."""
    return SecretBox.from_settings(settings)


@pytest.fixture
def owner(make_user: Any) -> User:
    """The workspace's owner."""
    user: User = make_user("owner@example.com")
    return user


@pytest.fixture
def workspace(make_workspace: Any, owner: User) -> Workspace:
    """The brand's workspace."""
    workspace: Workspace = make_workspace("brand", owner)
    return workspace


@pytest.fixture
def people(db: Session, make_user: Any, workspace: Workspace, owner: User) -> dict[str, User]:
    """The owner, and a manager and an editor of the workspace."""
    found = {"owner": owner}
    for role in (Role.MANAGER, Role.EDITOR):
        found[str(role)] = make_user(f"{role}@example.com")
        db.add(Membership(user_id=found[str(role)].id, workspace_id=workspace.id, role=role))
    db.commit()
    return found


@pytest.fixture
def stack() -> Stack:
    """A sandbox whose Weibo account published a post and got comments and a mention."""
    stack = make_stack()
    stack.publish("weibo", DEMO_WEIBO_UID, "桃红上市 https://provence-wine.example/rose")
    stack.tick(comments=3)
    stack.tick(comments=3)
    return stack


class Wiring:
    """The connector and context functions ``send_reply`` takes, on the test sandbox."""

    def __init__(self, stack: Stack, sessions: sessionmaker[Session], box: SecretBox) -> None:
        self.stack, self.sessions, self.box = stack, sessions, box
        self.calls = 0

    def connector_for(self, channel: Channel) -> Connector:
        """The real connector of the channel, counting calls."""
        self.calls += 1
        if channel.connector == "manual":
            return ManualConnector(ConnectorConfig(base_url="", http=self.stack.http))
        return self.stack.connector(channel.connector)

    def context_for(self, channel: Channel) -> ChannelContext:
        """The channel's context (token in the test database)."""
        return context_of(channel, self.sessions, self.box)

    def send(self, db: Session, item: InboxItem, text: str, actor: User | None = None) -> Any:
        """``send_reply`` through this wiring."""
        return replies.send_reply(
            db,
            item=item,
            text=text,
            actor=actor,
            connector_for=self.connector_for,
            context_for=self.context_for,
        )


@pytest.fixture
def wiring(stack: Stack, session_factory: sessionmaker[Session], box: SecretBox) -> Wiring:
    """Replies wired to the sandbox."""
    return Wiring(stack, session_factory, box)


def _weibo_items(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring
) -> list[InboxItem]:
    channel = connect_demo(db, workspace=workspace, box=box, name="weibo")
    ingest.sync_channel(
        db,
        channel=channel,
        connector=wiring.stack.connector("weibo"),
        context=wiring.context_for(channel),
    )
    return list(db.query(InboxItem).order_by(InboxItem.id))


# --- Weibo -----------------------------------------------------------------------------------


def test_a_weibo_comment_reply_is_sent_and_shows_on_the_sandbox_page(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring, owner: User
) -> None:
    item = next(i for i in _weibo_items(db, workspace, box, wiring) if i.kind == "comment")
    reply = wiring.send(db, item, "谢谢你的喜欢，夏天一起喝桃红！", owner)
    assert reply.state == ReplyState.SENT
    assert reply.error == ""
    assert reply.external_id
    assert reply.sent_at is not None
    assert reply.author_id == owner.id
    assert item.first_response_at == reply.sent_at
    page = wiring.stack.http.get(f"/accounts/weibo/{DEMO_WEIBO_UID}").text
    assert "谢谢你的喜欢，夏天一起喝桃红！" in page


def test_a_weibo_mention_is_answered_with_a_comment_on_that_post(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring
) -> None:
    mention = next(i for i in _weibo_items(db, workspace, box, wiring) if i.kind == "mention")
    reply = wiring.send(db, mention, "感谢提到我们！")
    assert reply.state == ReplyState.SENT, reply.error_params
    answers = [c for c in engagement_of(wiring.stack.sandbox.state).comments if c.by_account]
    assert [(c.post_id, c.text) for c in answers] == [(mention.external_id, "感谢提到我们！")]


def test_a_refused_reply_keeps_its_text_and_says_what_to_do(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring
) -> None:
    item = next(i for i in _weibo_items(db, workspace, box, wiring) if i.kind == "comment")
    fan = engagement_of(wiring.stack.sandbox.state).comment("weibo", item.external_id)
    assert fan is not None
    fan.deleted = True
    reply = wiring.send(db, item, "这条会失败")
    assert reply.state == ReplyState.FAILED
    assert reply.text == "这条会失败"
    assert reply.error_code == "20201"
    assert "no longer exists on Weibo" in reply.error
    # Sent again once the problem is gone: same reply, now sent.
    fan.deleted = False
    again = replies.deliver(
        db, reply=reply, connector_for=wiring.connector_for, context_for=wiring.context_for
    )
    assert again.id == reply.id
    assert again.state == ReplyState.SENT


def test_a_revoked_token_fails_the_reply_and_parks_the_channel(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring
) -> None:
    item = next(i for i in _weibo_items(db, workspace, box, wiring) if i.kind == "comment")
    wiring.stack.sandbox.state.revoke_tokens("weibo")
    reply = wiring.send(db, item, "令牌失效")
    assert (reply.state, reply.text, reply.error_code) == (ReplyState.FAILED, "令牌失效", "21332")
    channel = db.get(Channel, item.channel_id)
    assert channel is not None
    assert channel.status == ChannelStatus.NEEDS_RECONNECT


def test_an_empty_or_overlong_reply_is_refused_with_a_reason(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring
) -> None:
    item = _weibo_items(db, workspace, box, wiring)[0]
    with pytest.raises(UserError, match="Write the reply"):
        wiring.send(db, item, "   ")
    with pytest.raises(UserError, match="keep it under"):
        wiring.send(db, item, "长" * (replies.REPLY_MAX_CHARS + 1))


# --- WeChat's customer-service window ---------------------------------------------------------


def _message(
    db: Session, stack: Stack, channel: Channel, *, hours_ago: float, fan_id: str = "oFanA"
) -> InboxItem:
    """A private message from ``fan_id``, in the sandbox and in the inbox (as the push does)."""
    state = stack.sandbox.state
    at = utcnow() - timedelta(hours=hours_ago)
    message = FanMessage(
        "wechat",
        DEMO_WECHAT_APPID,
        state.next_id(),
        Fan(fan_id, "阿葡萄", 10, -1),
        "请问怎么买？",
        at,
    )
    with state.lock:
        engagement_of(state).messages.append(message)
    author = FetchedAuthor(fan_id, fan_id)
    fetched = FetchedItem(FetchedKind.MESSAGE, message.msg_id, message.text, author, at)
    (item,) = ingest.store_items(db, channel=channel, items=[fetched])
    db.commit()
    return item


@pytest.fixture
def wechat_channel(db: Session, workspace: Workspace, box: SecretBox) -> Channel:
    """The demo Official Account, connected."""
    return connect_demo(db, workspace=workspace, box=box, name="wechat_oa")


def test_inside_the_window_five_answers_go_and_the_sixth_is_kept_as_a_draft(
    db: Session, wechat_channel: Channel, wiring: Wiring
) -> None:
    item = _message(db, wiring.stack, wechat_channel, hours_ago=1)
    window = replies.message_window(db, item=item)
    assert window.open
    assert window.remaining == 5
    assert window.closes_at == item.created_at + timedelta(hours=48)
    for number in range(1, 6):
        assert wiring.send(db, item, f"第{number}条回复").state == ReplyState.SENT
    calls = wiring.calls
    sixth = wiring.send(db, item, "第6条回复")
    assert (sixth.state, sixth.text, sixth.error_code) == (ReplyState.DRAFT, "第6条回复", "45015")
    assert "used up" in sixth.error
    assert wiring.calls == calls + 1  # the connector was looked up, but WeChat was not called
    sent = [m for m in engagement_of(wiring.stack.sandbox.state).messages if m.outgoing]
    assert len(sent) == 5
    # The person writes again: the window opens anew, and the draft can go.
    _message(db, wiring.stack, wechat_channel, hours_ago=0)
    assert (
        replies.deliver(
            db, reply=sixth, connector_for=wiring.connector_for, context_for=wiring.context_for
        ).state
        == ReplyState.SENT
    )


def test_after_48_hours_the_reply_is_kept_as_a_draft(
    db: Session, wechat_channel: Channel, wiring: Wiring
) -> None:
    item = _message(db, wiring.stack, wechat_channel, hours_ago=49)
    assert not replies.message_window(db, item=item).open
    reply = wiring.send(db, item, "抱歉回复晚了")
    assert (reply.state, reply.text, reply.error_code) == (
        ReplyState.DRAFT,
        "抱歉回复晚了",
        "45015",
    )
    assert "48 hours" in reply.error
    assert not [m for m in engagement_of(wiring.stack.sandbox.state).messages if m.outgoing]


def test_wechat_refusing_with_45015_keeps_the_draft(
    db: Session, wechat_channel: Channel, wiring: Wiring
) -> None:
    item = _message(db, wiring.stack, wechat_channel, hours_ago=1)
    with wiring.stack.sandbox.state.lock:  # WeChat no longer knows the message (unsubscribed)
        engagement_of(wiring.stack.sandbox.state).messages.clear()
    reply = wiring.send(db, item, "还在吗？")
    assert (reply.state, reply.text, reply.error_code) == (ReplyState.DRAFT, "还在吗？", "45015")
    assert "48 hours" in reply.error


# --- manual platforms, approval ---------------------------------------------------------------


def test_manual_platforms_copy_then_mark_replied(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring, owner: User
) -> None:
    channel = create_channel(
        db,
        workspace=workspace,
        connector="manual",
        platform="xiaohongshu",
        external_id="xiaohongshu:brand",
        name="brand",
        credentials={"platform": "xiaohongshu", "name": "brand"},
        box=box,
        actor=None,
    )
    db.commit()
    fetched = FetchedItem(
        FetchedKind.COMMENT, "note-1", "好看！", FetchedAuthor("u1", "小红"), utcnow()
    )
    (item,) = ingest.store_items(db, channel=channel, items=[fetched])
    draft = wiring.send(db, item, "谢谢！")
    assert (draft.state, draft.error_code) == (ReplyState.DRAFT, "manual")
    assert "copy the text" in draft.error
    done = replies.mark_replied(db, item=item, text="谢谢！", actor=owner)
    assert (done.state, done.via) == (ReplyState.SENT, ReplyVia.MANUAL)
    assert item.first_response_at == done.sent_at


def test_juniors_replies_wait_for_a_manager(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring, people: dict[str, User]
) -> None:
    item = next(i for i in _weibo_items(db, workspace, box, wiring) if i.kind == "comment")
    owner = db.get(Membership, people["owner"].memberships[0].id)
    assert owner is not None
    replies.update_reply_approval(db, membership=owner, required=True, approver_role=Role.MANAGER)
    db.commit()
    pending = wiring.send(db, item, "编辑写的回复", people["editor"])
    assert pending.state == ReplyState.PENDING_APPROVAL
    assert not [c for c in engagement_of(wiring.stack.sandbox.state).comments if c.by_account]
    assert wiring.send(db, item, "经理直接发", people["manager"]).state == ReplyState.SENT

    with pytest.raises(PermissionDeniedError):
        replies.approve_reply(
            db,
            reply=pending,
            actor=people["editor"],
            connector_for=wiring.connector_for,
            context_for=wiring.context_for,
        )
    approved = replies.approve_reply(
        db,
        reply=pending,
        actor=people["manager"],
        connector_for=wiring.connector_for,
        context_for=wiring.context_for,
    )
    assert approved.state == ReplyState.SENT
    assert approved.approved_by_id == people["manager"].id

    second = wiring.send(db, item, "再写一条", people["editor"])
    rejected = replies.reject_reply(db, reply=second, actor=people["owner"], reason="语气再热情些")
    assert (rejected.state, rejected.error, rejected.text) == (
        ReplyState.DRAFT,
        "语气再热情些",
        "再写一条",
    )
    with pytest.raises(UserError):
        replies.approve_reply(
            db,
            reply=rejected,
            actor=people["manager"],
            connector_for=wiring.connector_for,
            context_for=wiring.context_for,
        )


def test_a_timeout_after_sending_says_to_check_before_sending_again(
    db: Session, workspace: Workspace, box: SecretBox, wiring: Wiring
) -> None:
    item = next(i for i in _weibo_items(db, workspace, box, wiring) if i.kind == "comment")

    class TimingOut:
        capabilities = wiring.stack.connector("weibo").capabilities

        def reply(self, channel: ChannelContext, request: object) -> None:
            raise OutcomeUnknownError("timeout", code="timeout")

    reply = replies.send_reply(
        db,
        item=item,
        text="可能已发出",
        actor=None,
        connector_for=lambda _c: TimingOut(),  # type: ignore[arg-type,return-value]
        context_for=wiring.context_for,
    )
    assert (reply.state, reply.text) == (ReplyState.FAILED, "可能已发出")
    assert "may have been posted" in reply.error
