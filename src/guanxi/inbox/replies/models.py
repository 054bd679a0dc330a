"""Our replies to inbox items, the workspace's reply approval setting, and saved replies.

A ``Reply`` is our answer to one item; its text is kept whatever happens on the platform (a
failed or refused reply stays as a failed reply or a draft).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.errors import N_

if TYPE_CHECKING:
    from guanxi.inbox.items.models import InboxItem


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


class InboxSettings(Base):
    """A workspace's inbox settings."""

    __tablename__ = "inbox_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    # Replies of members below ``reply_approver_role`` wait for approval before they are sent.
    reply_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_approver_role: Mapped[str] = mapped_column(String(20), default="manager")


class SavedReply(Base):
    """A reply template with variables such as ``{name}``, in Chinese or English."""

    __tablename__ = "inbox_saved_replies"
    __table_args__ = (UniqueConstraint("workspace_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(10), default="zh")  # "zh" or "en"
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
