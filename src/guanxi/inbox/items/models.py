"""The inbox's items and the team's marks on them: tags, internal notes, unread marks.

An ``InboxItem`` is one comment, mention or private message pulled from a channel (or pushed
by WeChat). It is unique per channel, kind and platform id, so that pulling the same page
twice inserts nothing. Our answers to it are ``Reply`` rows (``guanxi.inbox.replies.models``).
On PostgreSQL each item also has a search document here (SQLite keeps the same tokens in an
FTS5 table; see ``guanxi.inbox.items.search``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.errors import N_

# ``InboxItem.replies`` finds ``Reply`` by name when the mappers are configured, once the
# capability has loaded all its ``models`` (the reply tables' module imports this one).
if TYPE_CHECKING:
    from guanxi.inbox.replies.models import Reply


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


# Priority levels, most urgent first: triage sets 0 (low) to 3 (urgent), see
# ``guanxi.inbox.triage.sla.priority_for``; pages show the names, in this order and colour.
PRIORITY_LABELS: dict[int, str] = {
    3: N_("Urgent"),
    2: N_("High"),
    1: N_("Normal"),
    0: N_("Low"),
}


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
    # Which model gave ``sentiment``: "fast:<version>" at ingest, "accurate:<version>" once
    # the worker re-scored it (``guanxi.inbox.triage.rescore``), "lexicon" when the fast
    # model was missing; None for items scored before this was recorded (by the fast model).
    sentiment_scorer: Mapped[str | None] = mapped_column(String(100), default=None)
    hidden_on_platform: Mapped[bool] = mapped_column(Boolean, default=False)
    # Likes, replies, reposts as the platform counted them when fetched.
    metrics: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    replies: Mapped[list[Reply]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Reply.id"
    )


class Tag(Base):
    """A label the team puts on items and people."""

    __tablename__ = "inbox_tags"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))


class ItemTag(Base):
    """A tag on an inbox item."""

    __tablename__ = "inbox_item_tags"
    __table_args__ = (Index("ix_inbox_item_tags_tag_item", "tag_id", "item_id"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_tags.id", ondelete="CASCADE"), primary_key=True
    )


class InternalNote(Base):
    """A note on an item for the team only; never sent to the platform."""

    __tablename__ = "inbox_internal_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadMark(Base):
    """The newest item a member has seen in the list; newer ones count as unread."""

    __tablename__ = "inbox_read_marks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    seen_item_id: Mapped[int] = mapped_column(Integer, default=0)


class ItemPresence(Base):
    """A member who has an item open now, and whether they are writing a reply to it.

    The thread page refreshes its row every few seconds; a row older than
    ``guanxi.inbox.items.presence.PRESENCE_SECONDS`` means the member left. Kept in the
    database so that every web process sees every member.
    """

    __tablename__ = "inbox_item_presence"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    replying: Mapped[bool] = mapped_column(Boolean, default=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SearchDocument(Base):
    """An item's search tokens on PostgreSQL (a ``tsvector`` with a GIN index).

    SQLite keeps the same tokens in the FTS5 table ``inbox_search_fts`` instead and leaves
    this table empty (see ``guanxi.inbox.items.search``).
    """

    __tablename__ = "inbox_search_documents"
    __table_args__ = (
        Index("ix_inbox_search_documents_document", "document", postgresql_using="gin"),
    )

    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))
