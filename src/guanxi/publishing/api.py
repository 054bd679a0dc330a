"""``/api/v1`` for publishing: posts, their variants, review, scheduling, attempts.

A token acts as its member in the token's workspace, with that member's role: the same
services and rules as the pages (checks before scheduling, approvals, audit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.bounds import FIELD_MAX_LENGTH, LIST_MAX_LENGTH, TEXT_MAX_LENGTH, DbInt
from guanxi.core.errors import UserError
from guanxi.publishing import approvals, service
from guanxi.publishing.models import Post, PublishAttempt, PublishTarget, TargetState
from guanxi.web.deps import ApiApprover, ApiMember, ApiWriter, Db, app_settings
from guanxi.web.limits import QueryField

api_router = APIRouter(tags=["posts"])


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


class VariantUpdate(BaseModel):
    """A variant's content for its account; approvals of older content stop counting."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=TEXT_MAX_LENGTH)
    title: str = Field(default="", max_length=service.VARIANT_TITLE_MAX_LENGTH)
    digest: str = Field(default="", max_length=service.DIGEST_MAX_LENGTH)
    link: str = Field(default="", max_length=service.LINK_MAX_LENGTH)
    media_ids: list[DbInt] = Field(default_factory=list, max_length=LIST_MAX_LENGTH)
    cover_media_id: DbInt | None = None


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
    comment: str = Field(default="", max_length=service.COMMENT_MAX_LENGTH)


class Override(BaseModel):
    """A manager lets a warning pass, with a reason that is recorded."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        max_length=FIELD_MAX_LENGTH, description="The finding's code, from the variant's checks."
    )
    reason: str = Field(max_length=service.COMMENT_MAX_LENGTH)


class VariantRead(BaseModel):
    """A variant as the API shows it: content, checks, state and what the platform said."""

    id: int
    channel_id: int
    state: TargetState
    state_reason: str
    text: str
    title: str
    digest: str
    link: str
    media_ids: list[int]
    cover_media_id: int | None
    checks: list[dict[str, Any]]
    overrides: list[dict[str, Any]]
    scheduled_at: datetime | None
    published_at: datetime | None
    late: bool
    external_id: str
    external_url: str
    last_error: str


class PostRead(BaseModel):
    """A post with its variants."""

    id: int
    title: str
    body: str
    campaign_id: int | None
    created_at: datetime
    variants: list[VariantRead]


class AttemptRead(BaseModel):
    """One logged try: what was sent, what came back, how long it took."""

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


def _variant(target: PublishTarget) -> VariantRead:
    return VariantRead(
        id=target.id, channel_id=target.channel_id, state=TargetState(target.state),
        state_reason=i18n.gettext(target.state_reason) if target.state_reason else "",
        text=target.text, title=target.title, digest=target.digest, link=target.link,
        media_ids=list(target.media_ids or []), cover_media_id=target.cover_media_id,
        checks=list(target.checks or []), overrides=list(target.overrides or []),
        scheduled_at=target.scheduled_at, published_at=target.published_at, late=target.late,
        external_id=target.external_id, external_url=target.external_url,
        last_error=target.last_error,
    )  # fmt: skip


def _post(post: Post) -> PostRead:
    return PostRead(
        id=post.id, title=post.title, body=post.body, campaign_id=post.campaign_id,
        created_at=post.created_at, variants=[_variant(target) for target in post.targets],
    )  # fmt: skip


def _load(db: Db, membership: Membership, post_id: int) -> Post:
    return service.get_post(db, workspace=membership.workspace, post_id=post_id)


def _load_variant(
    db: Db, membership: Membership, post_id: int, target_id: int
) -> tuple[Post, PublishTarget]:
    return service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )


@api_router.get("/posts", response_model=list[PostRead])
def api_posts(
    request: Request,
    db: Db,
    membership: ApiMember,
    state: QueryField = "",
    channel_id: int | None = None,
    campaign_id: int | None = None,
) -> list[PostRead]:
    """The workspace's posts, newest first; filter by a variant state, channel or campaign."""
    i18n.set_language(request.state.language)
    posts = service.list_posts(
        db, workspace=membership.workspace, state=state, channel_id=channel_id,
        campaign_id=campaign_id,
    )  # fmt: skip
    return [_post(post) for post in posts]


@api_router.post("/posts", status_code=201, response_model=PostRead)
def api_create_post(
    request: Request, db: Db, membership: ApiWriter, payload: PostCreate
) -> PostRead:
    """Create a post with a variant per account, each checked (editors and up)."""
    i18n.set_language(request.state.language)
    post = service.create_post(
        db, workspace=membership.workspace, actor=membership.user, title=payload.title,
        body=payload.body, campaign=str(payload.campaign_id or ""),
        channel_ids=[str(channel_id) for channel_id in payload.channel_ids],
    )  # fmt: skip
    for target in post.targets:
        service.check_variant(db, target=target, settings=app_settings(request))
    db.commit()
    return _post(post)


@api_router.get("/posts/{post_id}", response_model=PostRead)
def api_post(request: Request, db: Db, membership: ApiMember, post_id: int) -> PostRead:
    """One post and its variants; 404 for another workspace's post."""
    i18n.set_language(request.state.language)
    return _post(_load(db, membership, post_id))


@api_router.put("/posts/{post_id}/variants/{target_id}", response_model=VariantRead)
def api_update_variant(
    request: Request,
    db: Db,
    membership: ApiWriter,
    post_id: int,
    target_id: int,
    payload: VariantUpdate,
) -> VariantRead:
    """Replace a variant's content and re-run its checks (not while scheduled or live)."""
    i18n.set_language(request.state.language)
    _post, target = _load_variant(db, membership, post_id, target_id)
    service.update_variant(
        db, target=target, actor=membership.user, text=payload.text, title=payload.title,
        digest=payload.digest, link=payload.link,
        media_ids=[str(media_id) for media_id in payload.media_ids],
        cover_media_id=str(payload.cover_media_id or ""),
    )  # fmt: skip
    service.check_variant(db, target=target, settings=app_settings(request))
    db.commit()
    return _variant(target)


@api_router.post("/posts/{post_id}/submit", response_model=PostRead)
def api_submit(request: Request, db: Db, membership: ApiWriter, post_id: int) -> PostRead:
    """Send the post's draft variants for review."""
    i18n.set_language(request.state.language)
    post = _load(db, membership, post_id)
    approvals.submit_for_review(db, post=post, membership=membership)
    db.commit()
    return _post(post)


@api_router.post("/posts/{post_id}/variants/{target_id}/decision", response_model=VariantRead)
def api_decide(
    request: Request,
    db: Db,
    membership: ApiApprover,
    post_id: int,
    target_id: int,
    payload: Decision,
) -> VariantRead:
    """Approve or reject the next review step of a variant (a rejection needs a comment)."""
    i18n.set_language(request.state.language)
    post, target = _load_variant(db, membership, post_id, target_id)
    approvals.decide(
        db, target=target, post=post, membership=membership, approved=payload.approved,
        comment=payload.comment,
    )  # fmt: skip
    db.commit()
    return _variant(target)


@api_router.post("/posts/{post_id}/variants/{target_id}/overrides", response_model=VariantRead)
def api_override(
    request: Request,
    db: Db,
    membership: ApiApprover,
    post_id: int,
    target_id: int,
    payload: Override,
) -> VariantRead:
    """Let a warning of the variant's last checks pass (managers); errors cannot be."""
    i18n.set_language(request.state.language)
    _post, target = _load_variant(db, membership, post_id, target_id)
    service.override_warning(
        db, target=target, membership=membership, code=payload.code, reason=payload.reason
    )
    db.commit()
    return _variant(target)


@api_router.post("/posts/{post_id}/variants/{target_id}/schedule", response_model=VariantRead)
def api_schedule(
    request: Request,
    db: Db,
    membership: ApiWriter,
    post_id: int,
    target_id: int,
    payload: ScheduleRequest,
) -> VariantRead:
    """Schedule an approved, checked variant at ``at`` (null: publish now)."""
    i18n.set_language(request.state.language)
    _post, target = _load_variant(db, membership, post_id, target_id)
    try:
        service.schedule_target(
            db, target=target, membership=membership, when=payload.at,
            settings=app_settings(request),
        )  # fmt: skip
    except UserError:
        db.rollback()
        raise
    db.commit()
    return _variant(target)


@api_router.post("/posts/{post_id}/variants/{target_id}/unschedule", response_model=VariantRead)
def api_unschedule(
    request: Request, db: Db, membership: ApiWriter, post_id: int, target_id: int
) -> VariantRead:
    """Take a scheduled variant off the queue; it stays approved."""
    i18n.set_language(request.state.language)
    _post, target = _load_variant(db, membership, post_id, target_id)
    service.unschedule_target(db, target=target, membership=membership)
    db.commit()
    return _variant(target)


@api_router.get("/posts/{post_id}/variants/{target_id}/attempts", response_model=list[AttemptRead])
def api_attempts(
    request: Request, db: Db, membership: ApiMember, post_id: int, target_id: int
) -> list[AttemptRead]:
    """Every logged attempt at publishing the variant, oldest first."""
    i18n.set_language(request.state.language)
    _post, target = _load_variant(db, membership, post_id, target_id)
    return [_attempt(attempt) for attempt in service.list_attempts(db, target=target)]


def _attempt(attempt: PublishAttempt) -> AttemptRead:
    return AttemptRead(
        number=attempt.number, action=attempt.action, outcome=attempt.outcome,
        worker=attempt.worker, request_summary=attempt.request_summary or {},
        response=attempt.response or {}, error_code=attempt.error_code, error=attempt.error,
        started_at=attempt.started_at, duration_ms=attempt.duration_ms,
    )  # fmt: skip
