"""The inbox's own workflow tables, beside the ingested items of ``guanxi.inbox.items.models``.

The relationship book (``Person`` with one ``PersonIdentity`` per platform account, notes
and tags), the team's workflow on items (tags, internal notes, saved replies, assignment
rules, SLA targets, unread marks), moderation (rules and the log of what they did, kept so
an action can be reversed), debates (the brand's ``#话题#`` campaigns) and the search
document of each item on PostgreSQL (SQLite keeps it in an FTS5 table; see
``guanxi.inbox.items.search``).
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
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_


class PersonKind(StrEnum):
    """Who a person is to the brand."""

    UNKNOWN = ""
    FAN = "fan"
    KOL = "kol"
    MEDIA = "media"
    CUSTOMER = "customer"
    COMPETITOR = "competitor"


PERSON_KIND_LABELS: dict[PersonKind, str] = {
    PersonKind.UNKNOWN: N_("Not set"),
    PersonKind.FAN: N_("Fan"),
    PersonKind.KOL: N_("KOL"),
    PersonKind.MEDIA: N_("Media"),
    PersonKind.CUSTOMER: N_("Customer"),
    PersonKind.COMPETITOR: N_("Competitor"),
}


class Person(TimestampMixin, Base):
    """Someone the brand talks with, on one or several platforms."""

    __tablename__ = "inbox_people"
    __table_args__ = (Index("ix_inbox_people_workspace_name", "workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PersonKind] = mapped_column(String(20), default=PersonKind.UNKNOWN)
    # The kind a person chose wins over the one guessed from verification and followers.
    kind_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    segment: Mapped[str] = mapped_column(String(80), default="", index=True)


class PersonIdentity(Base):
    """One platform account of a person; a merge moves identities to the kept person."""

    __tablename__ = "inbox_person_identities"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_people.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    followers: Mapped[int | None] = mapped_column(Integer, default=None)
    verified_type: Mapped[int | None] = mapped_column(Integer, default=None)
    url: Mapped[str] = mapped_column(String(1000), default="")
    # An id the platform links across its products (e.g. a WeChat unionid).
    linked_id: Mapped[str] = mapped_column(String(200), default="", index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonNote(Base):
    """A team note on a person."""

    __tablename__ = "inbox_person_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_people.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


class PersonTag(Base):
    """A tag on a person."""

    __tablename__ = "inbox_person_tags"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_people.id", ondelete="CASCADE"), primary_key=True
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


class ModerationRule(Base):
    """When new items meet the conditions, do the actions (``guanxi.inbox.triage.moderation``)."""

    __tablename__ = "inbox_moderation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    match_all: Mapped[bool] = mapped_column(Boolean, default=False)  # else any condition
    # Each condition is a kind (guanxi.inbox.triage.screening.ConditionKind) and a value.
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Each action is a kind (guanxi.inbox.triage.moderation.ActionKind) and a value.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActionState(StrEnum):
    """Where an automatic moderation action stands."""

    APPLIED = "applied"
    FAILED = "failed"  # the platform refused it; ``error`` says why
    REVERSED = "reversed"


ACTION_STATE_LABELS: dict[ActionState, str] = {
    ActionState.APPLIED: N_("Applied"),
    ActionState.FAILED: N_("Failed"),
    ActionState.REVERSED: N_("Undone"),
}


class ModerationAction(Base):
    """One action a rule took on one item, with the state before it (for reversal)."""

    __tablename__ = "inbox_moderation_actions"
    __table_args__ = (
        Index("ix_inbox_moderation_actions_ws_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbox_moderation_rules.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(200), default="")
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[ActionState] = mapped_column(String(20), default=ActionState.APPLIED)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reversed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class AssignmentRule(Base):
    """Who gets new items: round robin over ``assignee_ids``, by platform and/or topic word."""

    __tablename__ = "inbox_assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    platform: Mapped[str] = mapped_column(String(40), default="")  # "" = every platform
    topic: Mapped[str] = mapped_column(String(100), default="")  # a word in the text, "" = any
    assignee_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    next_index: Mapped[int] = mapped_column(Integer, default=0)  # the round robin's turn


class SlaPolicy(Base):
    """A workspace's response targets; business hours are counted in its time zone."""

    __tablename__ = "inbox_sla_policies"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    first_response_minutes: Mapped[int] = mapped_column(Integer, default=60)
    resolution_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)
    business_hours_only: Mapped[bool] = mapped_column(Boolean, default=False)
    day_start_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    day_end_minute: Mapped[int] = mapped_column(Integer, default=18 * 60)
    # Monday is 0, as datetime.weekday() counts.
    business_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])
    crisis_words: Mapped[list[str]] = mapped_column(JSON, default=list)


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


class Debate(Base):
    """A topic campaign of the brand (``#话题#``) whose participation is followed."""

    __tablename__ = "inbox_debates"
    __table_args__ = (UniqueConstraint("workspace_id", "hashtag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    hashtag: Mapped[str] = mapped_column(String(100))  # without the # marks
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DebatePost(Base):
    """A brand post linked to a debate: comments on it count as participation."""

    __tablename__ = "inbox_debate_posts"
    __table_args__ = (UniqueConstraint("debate_id", "post_external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debate_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_debates.id", ondelete="CASCADE"), index=True
    )
    post_external_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
