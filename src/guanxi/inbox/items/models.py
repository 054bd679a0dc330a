"""The inbox tables: what the audience said to the brand, our replies, and the sync cursors.

An ``InboxItem`` is one comment, mention or private message pulled from a channel (or pushed
by WeChat). It is unique per channel, kind and platform id, so that pulling the same page
twice inserts nothing. A ``Reply`` is our answer to one item; its text is kept whatever
happens on the platform (a failed or refused reply stays as a failed reply or a draft).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.errors import N_


class ItemKind(StrEnum):
    """What an inbox item is (the values of connectors.base.FetchedKind it can take)."""

    COMMENT = "comment"
    MENTION = "mention"
    MESSAGE = "message"


ITEM_KIND_LABELS: dict[ItemKind, str] = {
    ItemKind.COMMENT: N_("Comment"),
    ItemKind.MENTION: N_("Mention"),
    ItemKind.MESSAGE: N_("Private message"),
}


class ItemStatus(StrEnum):
    """Where the team stands with an item."""

    OPEN = "open"
    PENDING = "pending"  # waiting on someone (the customer, a colleague, an approval)
    DONE = "done"


ITEM_STATUS_LABELS: dict[ItemStatus, str] = {
    ItemStatus.OPEN: N_("Open"),
    ItemStatus.PENDING: N_("Pending"),
    ItemStatus.DONE: N_("Done"),
}


class ReplyState(StrEnum):
    """Where a reply stands. No state loses the text."""

    DRAFT = "draft"  # not sent (yet): written, or refused by a rule such as WeChat's window
    PENDING_APPROVAL = "pending_approval"  # a junior's reply waiting for a manager
    SENT = "sent"
    FAILED = "failed"  # the platform refused it; the text stays here to retry


REPLY_STATE_LABELS: dict[ReplyState, str] = {
    ReplyState.DRAFT: N_("Draft"),
    ReplyState.PENDING_APPROVAL: N_("Waiting for approval"),
    ReplyState.SENT: N_("Sent"),
    ReplyState.FAILED: N_("Failed"),
}


class ReplyVia(StrEnum):
    """How a reply reached the platform."""

    API = "api"  # through the channel's connector
    MANUAL = "manual"  # a person pasted it on the platform and marked it replied


class InboxItem(Base):
    """One comment, mention or private message addressed to (or about) the brand."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        UniqueConstraint("channel_id", "kind", "external_id"),
        Index("ix_inbox_items_workspace_created", "workspace_id", "created_at"),
        Index("ix_inbox_items_workspace_status", "workspace_id", "status", "created_at"),
        # The overview counts open and untaken items from the index alone.
        Index("ix_inbox_items_workspace_status_assignee", "workspace_id", "status", "assignee_id"),
        # The WeChat reply window looks up a person's latest message on a channel.
        Index("ix_inbox_items_channel_author", "channel_id", "author_external_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of their own: each leads a composite index above (every insert pays for
    # each index, and ingest inserts thousands of rows a second).
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(40), index=True)  # catalog slug
    kind: Mapped[ItemKind] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    # The post it is on (comments) or about (mentions); the comment it answers.
    post_external_id: Mapped[str] = mapped_column(String(200), default="", index=True)
    parent_external_id: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    author_external_id: Mapped[str] = mapped_column(String(200), default="")
    author_name: Mapped[str] = mapped_column(String(200), default="")
    author_followers: Mapped[int | None] = mapped_column(Integer, default=None)
    # Weibo's verified_type semantics (-1 ordinary, 0..7 organisations, 200/220 people).
    author_verified_type: Mapped[int | None] = mapped_column(Integer, default=None)
    author_url: Mapped[str] = mapped_column(String(1000), default="")
    author_avatar_url: Mapped[str] = mapped_column(String(1000), default="")
    # When the platform says it was written, and when we got it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The team's workflow.
    status: Mapped[ItemStatus] = mapped_column(String(20), default=ItemStatus.OPEN, index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=0, index=True)  # higher is sooner
    sentiment: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    hidden_on_platform: Mapped[bool] = mapped_column(Boolean, default=False)
    # Likes, replies, reposts as the platform counted them when fetched.
    metrics: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    replies: Mapped[list[Reply]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Reply.id"
    )


class Reply(Base):
    """Our answer to one inbox item."""

    __tablename__ = "inbox_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[ReplyState] = mapped_column(String(20), default=ReplyState.DRAFT, index=True)
    via: Mapped[ReplyVia] = mapped_column(String(10), default=ReplyVia.API)
    # What the platform said: the reply's id once sent, or why it refused.
    external_id: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    error: Mapped[str] = mapped_column(Text, default="")  # a translatable message id
    error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str] = mapped_column(String(40), default="")
    # Sent at most once: the connector gets this key with the request.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    item: Mapped[InboxItem] = relationship(back_populates="replies")


class SyncCursor(Base):
    """How far the inbox has read one channel's comments, mentions or messages."""

    __tablename__ = "inbox_sync_cursors"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[ItemKind] = mapped_column(String(20), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(400), default="")  # opaque, the connector's
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The last failure, shown on the channel ("no comment permission", "reconnect").
    last_error: Mapped[str] = mapped_column(Text, default="")  # a translatable message id
    last_error_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error_code: Mapped[str] = mapped_column(String(40), default="")
    items_total: Mapped[int] = mapped_column(Integer, default=0)


class PushNonce(Base):
    """A nonce WeChat signed a push with: the same one twice is a replay and is refused."""

    __tablename__ = "inbox_push_nonces"
    __table_args__ = (UniqueConstraint("channel_id", "nonce", "timestamp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class InboxSettings(Base):
    """A workspace's inbox settings."""

    __tablename__ = "inbox_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    # Replies of members below ``reply_approver_role`` wait for approval before they are sent.
    reply_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_approver_role: Mapped[str] = mapped_column(String(20), default="manager")
