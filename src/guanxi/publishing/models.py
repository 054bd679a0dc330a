"""Posts, their per-channel variants (the unit that gets published), and what surrounds them.

A ``Post`` is what the community manager writes once; a ``Variant`` is its variant for
one channel, with its own state. The variant row is the truth of what happened: the queue
only triggers work, and every attempt is logged in ``PublishAttempt``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core import i18n
from guanxi.core.bounds import FIELD_MAX_LENGTH, LIST_MAX_LENGTH, TEXT_MAX_LENGTH, DbInt
from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_

VARIANT_TITLE_MAX_LENGTH = 200
DIGEST_MAX_LENGTH = 400
LINK_MAX_LENGTH = 1000
COMMENT_MAX_LENGTH = 4000
TAG_MAX_LENGTH = 32
TAGS_MAX = 10
# As typed: a longer one gets the readable 400 naming TAG_MAX_LENGTH once normalised ("#新品 ").
TagText = Annotated[str, Field(max_length=FIELD_MAX_LENGTH)]
# An address as typed in a variant's text (the longest a browser and the platforms accept).
AddressText = Annotated[str, Field(max_length=2000)]


class VariantState(StrEnum):
    """Where a variant stands. The engine's transitions live in publishing.states."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"  # claimed by a worker, a request may be in flight
    PROCESSING = "processing"  # accepted; following the platform's job (or a person's task)
    PUBLISHED = "published"
    PENDING_REVIEW = "pending_review"  # published, under the platform's review
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"  # waits for a person: reconnect, missed slot, unknown


TARGET_STATE_LABELS: dict[VariantState, str] = {
    VariantState.DRAFT: N_("Draft"),
    VariantState.IN_REVIEW: N_("In review"),
    VariantState.APPROVED: N_("Approved"),
    VariantState.SCHEDULED: N_("Scheduled"),
    VariantState.PUBLISHING: N_("Publishing"),
    VariantState.PROCESSING: N_("Processing on the platform"),
    VariantState.PUBLISHED: N_("Published"),
    VariantState.PENDING_REVIEW: N_("Published, pending review"),
    VariantState.FAILED: N_("Failed"),
    VariantState.NEEDS_ATTENTION: N_("Needs attention"),
}


# The publishing log's words (PublishAttempt.action and .outcome), as the post page shows them.
ATTEMPT_ACTION_LABELS: dict[str, str] = {
    "prepare": N_("Prepare"),
    "publish": N_("Publish"),
    "find": N_("Look for an earlier try"),
    "status": N_("Ask the platform"),
}
ATTEMPT_OUTCOME_LABELS: dict[str, str] = {
    "started": N_("Started"),
    "published": N_("Published"),
    "processing": N_("Processing on the platform"),
    "pending_review": N_("Published, pending review"),
    "failed": N_("Refused by the platform"),
    "not_found": N_("Not found on the platform"),
    "transient": N_("Temporary failure"),
    "rate_limited": N_("Rate limited"),
    "quota": N_("Quota used up"),
    "token": N_("Authorisation expired"),
    "unknown": N_("Outcome unknown"),
    "permanent": N_("Refused for good"),
    "error": N_("Platform error"),
    "crash": N_("Unexpected error"),
}


class LatePolicy(StrEnum):
    """What to do with posts whose time passed while guanxi was down."""

    PUBLISH_LATE = "publish_late"  # publish now, flagged as late
    HOLD = "hold"  # hold for a person to confirm


class Campaign(TimestampMixin, Base):
    """A group of posts (a launch, a festival); shown on the calendar."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    color: Mapped[str] = mapped_column(String(7), default="#c0392b")
    starts_on: Mapped[date | None] = mapped_column(Date, default=None)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    description: Mapped[str] = mapped_column(Text, default="")


class MediaAsset(Base):
    """An image or video in the workspace's media library (the file lives in the data dir)."""

    __tablename__ = "media_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # connectors.base.MediaKind
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_s: Mapped[float | None] = mapped_column(default=None)
    storage_path: Mapped[str] = mapped_column(String(400))  # relative to the data dir
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Post(TimestampMixin, Base):
    """What the community manager writes once, in Chinese first."""

    __tablename__ = "posts"
    # The posts list: a workspace's newest posts a page (migration 0030).
    __table_args__ = (Index("ix_posts_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))  # internal name on the calendar
    body: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    variants: Mapped[list[Variant]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Variant.id"
    )
    tag_rows: Mapped[list[PostTag]] = relationship(
        cascade="all, delete-orphan", order_by="PostTag.tag", lazy="selectin"
    )

    @property
    def tags(self) -> list[str]:
        """The post's tags, in alphabetical order."""
        return [row.tag for row in self.tag_rows]


class PostTag(Base):
    """One tag of a post (free text, normalised by ``publishing.tags``), for grouping posts
    on the list and in analytics."""

    __tablename__ = "post_tags"
    __table_args__ = (
        UniqueConstraint("post_id", "tag"),
        Index("ix_post_tags_workspace_tag", "workspace_id", "tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(TAG_MAX_LENGTH))


class Variant(Base):
    """One post's variant for one channel, and the state of its publishing."""

    __tablename__ = "variants"
    __table_args__ = (
        Index("ix_variants_due", "state", "next_attempt_at"),
        Index("ix_variants_calendar", "workspace_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    # The variant.
    text: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    digest: Mapped[str] = mapped_column(String(400), default="")
    link: Mapped[str] = mapped_column(String(1000), default="")
    media_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    cover_media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_assets.id", ondelete="SET NULL"), default=None
    )
    # Who changed the variant's content besides the post's author: none of them approves it.
    content_author_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Checks as last run, and the warnings a manager overrode (code, reason, who, when).
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Tracked links: each web address in the text becomes one on save, unless the author
    # turned tracking off for the variant or left these addresses (as typed) alone.
    track_links: Mapped[bool] = mapped_column(Boolean, default=True)
    untracked_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Scheduling and state.
    state: Mapped[VariantState] = mapped_column(String(20), default=VariantState.DRAFT)
    state_reason: Mapped[str] = mapped_column(Text, default="")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The engine's bookkeeping.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_owner: Mapped[str] = mapped_column(String(100), default="")
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_code: Mapped[str] = mapped_column(String(40), default="")
    # What the platform said.
    external_id: Mapped[str] = mapped_column(String(200), default="")
    external_url: Mapped[str] = mapped_column(String(1000), default="")
    platform_detail: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Manual channels: who posts it by hand, and by when.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Optimistic locking: two writers never both win an update of the same row.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own dict

    post: Mapped[Post] = relationship(back_populates="variants")


class PublishAttempt(Base):
    """One try at publishing a variant: what was sent, what came back, how long it took."""

    __tablename__ = "publish_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(20))  # publish, status, find
    outcome: Mapped[str] = mapped_column(String(30))  # success, transient, rate_limited, ...
    request_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str] = mapped_column(String(40), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class Approval(Base):
    """A reviewer's decision on a variant's content; valid only for the content it saw."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[int] = mapped_column(Integer)
    approved: Mapped[bool] = mapped_column(Boolean)
    # A digest of the variant's content: editing after approval makes the approval stale.
    content_digest: Mapped[str] = mapped_column(String(64))
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reviewer_label: Mapped[str] = mapped_column(String(254))  # a user's e-mail or an external name
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewLink(Base):
    """A review link issued for one named external reviewer of one post; it records one
    decision (``used_at``) and stops working at ``expires_at``."""

    __tablename__ = "review_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    reviewer_name: Mapped[str] = mapped_column(String(120))
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostComment(Base):
    """A team member's (or external reviewer's) comment on a post."""

    __tablename__ = "post_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    author_label: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublishingPolicy(Base):
    """A workspace's publishing rules: approval steps, who approves, missed-post policy."""

    __tablename__ = "publishing_policies"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    approval_steps: Mapped[int] = mapped_column(Integer, default=1)  # 0, 1 or 2
    approver_role: Mapped[str] = mapped_column(String(20), default="manager")  # lowest role
    late_policy: Mapped[LatePolicy] = mapped_column(String(20), default=LatePolicy.PUBLISH_LATE)
    late_grace_minutes: Mapped[int] = mapped_column(Integer, default=15)


# --- The API's schemas --------------------------------------------------------------------------


class PostCreate(BaseModel):
    """A new post: the master text and the accounts (channel ids) it goes to."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200, description="Internal name, shown on the calendar.")
    body: str = Field(
        min_length=1, max_length=TEXT_MAX_LENGTH, description="The master text, Chinese first."
    )
    channel_ids: list[DbInt] = Field(
        min_length=1, max_length=LIST_MAX_LENGTH, description="Connected accounts (channels)."
    )
    campaign_id: DbInt | None = None
    tags: list[TagText] = Field(
        default_factory=list,
        max_length=TAGS_MAX,
        description=f"Up to {TAGS_MAX} tags of up to {TAG_MAX_LENGTH} characters, normalised.",
    )
    track_links: bool = Field(
        default=True, description="Each web address in the text becomes a tracked link."
    )


class PostUpdate(BaseModel):
    """What to change of a post; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=TEXT_MAX_LENGTH)
    tags: list[TagText] | None = Field(
        default=None, max_length=TAGS_MAX, description="The post's tags, all of them."
    )


class VariantUpdate(BaseModel):
    """A variant's content for its account; approvals of older content stop counting."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=TEXT_MAX_LENGTH)
    title: str = Field(default="", max_length=VARIANT_TITLE_MAX_LENGTH)
    digest: str = Field(default="", max_length=DIGEST_MAX_LENGTH)
    link: str = Field(default="", max_length=LINK_MAX_LENGTH)
    media_ids: list[DbInt] = Field(default_factory=list, max_length=LIST_MAX_LENGTH)
    cover_media_id: DbInt | None = None
    track_links: bool = Field(
        default=True, description="Each web address in the text becomes a tracked link."
    )
    untracked_urls: list[AddressText] = Field(
        default_factory=list,
        max_length=50,
        description="Addresses (as typed) to leave alone; a short link to one is restored.",
    )


class ScheduleRequest(BaseModel):
    """When to publish: an ISO 8601 time with its UTC offset, or null for now."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            msg = "Give the time with its offset, e.g. 2026-12-01T20:00:00+08:00."
            raise ValueError(msg)
        return value


class Decision(BaseModel):
    """A reviewer's decision on a variant in review."""

    model_config = ConfigDict(extra="forbid")

    approved: bool
    comment: str = Field(default="", max_length=COMMENT_MAX_LENGTH)


class Override(BaseModel):
    """A manager lets a warning pass, with a reason that is recorded."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        max_length=FIELD_MAX_LENGTH, description="The finding's code, from the variant's checks."
    )
    reason: str = Field(max_length=COMMENT_MAX_LENGTH)


class VariantRead(BaseModel):
    """A variant as the API shows it: content, checks, state and what the platform said."""

    id: int
    channel_id: int
    state: VariantState
    state_reason: str
    text: str
    title: str
    digest: str
    link: str
    media_ids: list[int]
    cover_media_id: int | None
    track_links: bool
    untracked_urls: list[str]
    checks: list[dict[str, Any]]
    overrides: list[dict[str, Any]]
    scheduled_at: datetime | None
    published_at: datetime | None
    late: bool
    external_id: str
    external_url: str
    last_error: str

    @classmethod
    def of(cls, variant: Variant) -> VariantRead:
        """The variant as the API shows it, its state's reason in the current language."""
        return cls(
            id=variant.id,
            channel_id=variant.channel_id,
            state=VariantState(variant.state),
            state_reason=i18n.gettext(variant.state_reason) if variant.state_reason else "",
            text=variant.text,
            title=variant.title,
            digest=variant.digest,
            link=variant.link,
            media_ids=list(variant.media_ids or []),
            cover_media_id=variant.cover_media_id,
            track_links=variant.track_links,
            untracked_urls=list(variant.untracked_urls or []),
            checks=list(variant.checks or []),
            overrides=list(variant.overrides or []),
            scheduled_at=variant.scheduled_at,
            published_at=variant.published_at,
            late=variant.late,
            external_id=variant.external_id,
            external_url=variant.external_url,
            last_error=variant.last_error,
        )


class PostRead(BaseModel):
    """A post with its variants."""

    id: int
    title: str
    body: str
    campaign_id: int | None
    tags: list[str]
    created_at: datetime
    variants: list[VariantRead]

    @classmethod
    def of(cls, post: Post) -> PostRead:
        """The post and each of its variants."""
        return cls(
            id=post.id,
            title=post.title,
            body=post.body,
            campaign_id=post.campaign_id,
            tags=post.tags,
            created_at=post.created_at,
            variants=[VariantRead.of(t) for t in post.variants],
        )


class AttemptRead(BaseModel):
    """One logged try: what was sent, what came back, how long it took."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    action: str
    outcome: str
    worker: str
    request_summary: dict[str, Any]
    response: dict[str, Any]
    error_code: str
    error: str
    started_at: datetime
    duration_ms: int

    @field_validator("request_summary", "response", mode="before")
    @classmethod
    def _empty_when_none(cls, value: dict[str, Any] | None) -> dict[str, Any]:
        return value or {}
