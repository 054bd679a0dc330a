"""``/api/v1/w/{slug}/publish`` for publishing: posts, their variants, review, scheduling,
attempts.

A token acts as its member in the token's workspace, with that member's role: the same
services and rules as the pages (checks before scheduling, approvals, audit).
"""

from __future__ import annotations

from fastapi import Request

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.errors import UserError
from guanxi.publishing import approvals, composer, link_tracking, scheduling, service, variants
from guanxi.publishing.models import (
    AttemptRead,
    Decision,
    Override,
    Post,
    PostCreate,
    PostRead,
    PostUpdate,
    ScheduleRequest,
    Variant,
    VariantRead,
    VariantUpdate,
)
from guanxi.publishing.tags import checked_tags
from guanxi.web.api import (
    API_ROOT,
    ApiApprover,
    ApiReader,
    ApiWriter,
    keep_former_paths,
    workspace_api,
)
from guanxi.web.deps import Db, app_settings
from guanxi.web.limits import QueryField

router = workspace_api("publish", tags=["posts"])


def _load(db: Db, membership: Membership, post_id: int) -> Post:
    return service.get_post(db, workspace=membership.workspace, post_id=post_id)


def _load_variant(
    db: Db, membership: Membership, post_id: int, variant_id: int
) -> tuple[Post, Variant]:
    return service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, variant_id=variant_id
    )


@router.get("/posts", response_model=list[PostRead])
def api_posts(
    request: Request,
    db: Db,
    membership: ApiReader,
    state: QueryField = "",
    channel_id: int | None = None,
    campaign_id: int | None = None,
    tag: QueryField = "",
) -> list[PostRead]:
    """The workspace's posts, newest first; filter by a variant state, channel, campaign or
    tag."""
    i18n.set_language(request.state.language)
    posts = service.list_posts(
        db,
        workspace=membership.workspace,
        state=state,
        channel_id=channel_id,
        campaign_id=campaign_id,
        tag=tag,
    )
    return [PostRead.of(post) for post in posts]


@router.post("/posts", status_code=201, response_model=PostRead)
def api_create_post(
    request: Request, db: Db, membership: ApiWriter, payload: PostCreate
) -> PostRead:
    """Create a post with a variant per account, its web addresses tracked (unless
    ``track_links`` is false), each checked (editors and up)."""
    i18n.set_language(request.state.language)
    post = composer.compose_post(
        db,
        membership=membership,
        title=payload.title,
        body=payload.body,
        campaign=str(payload.campaign_id or ""),
        channel_ids=[str(channel_id) for channel_id in payload.channel_ids],
        media_ids=[],
        uploads=[],
        settings=app_settings(request),
        tags=payload.tags,
        track_links=payload.track_links,
    )
    db.commit()
    return PostRead.of(post)


@router.patch("/posts/{post_id}", response_model=PostRead)
def api_update_post(
    request: Request, db: Db, membership: ApiWriter, post_id: int, payload: PostUpdate
) -> PostRead:
    """Change a post's internal title, master text or tags (editors and up)."""
    i18n.set_language(request.state.language)
    post = _load(db, membership, post_id)
    service.update_post(
        db,
        post=post,
        actor=membership.user,
        title=post.title if payload.title is None else payload.title,
        body=post.body if payload.body is None else payload.body,
        campaign=str(post.campaign_id or ""),
        tags=None if payload.tags is None else checked_tags(payload.tags),
    )
    db.commit()
    return PostRead.of(post)


@router.get("/posts/{post_id}", response_model=PostRead)
def api_post(request: Request, db: Db, membership: ApiReader, post_id: int) -> PostRead:
    """One post and its variants; 404 for another workspace's post."""
    i18n.set_language(request.state.language)
    return PostRead.of(_load(db, membership, post_id))


@router.put("/posts/{post_id}/variants/{variant_id}", response_model=VariantRead)
def api_update_variant(
    request: Request,
    db: Db,
    membership: ApiWriter,
    post_id: int,
    variant_id: int,
    payload: VariantUpdate,
) -> VariantRead:
    """Replace a variant's content and re-run its checks (not while scheduled or live)."""
    i18n.set_language(request.state.language)
    _post, variant = _load_variant(db, membership, post_id, variant_id)
    variant.track_links = payload.track_links
    variant.untracked_urls = link_tracking.checked_untracked(payload.untracked_urls)
    variants.update_variant(
        db,
        variant=variant,
        actor=membership.user,
        text=payload.text,
        title=payload.title,
        digest=payload.digest,
        link=payload.link,
        media_ids=[str(media_id) for media_id in payload.media_ids],
        cover_media_id=str(payload.cover_media_id or ""),
        settings=app_settings(request),
    )
    variants.check_variant(db, variant=variant, settings=app_settings(request))
    db.commit()
    return VariantRead.of(variant)


@router.post("/posts/{post_id}/submit", response_model=PostRead)
def api_submit(request: Request, db: Db, membership: ApiWriter, post_id: int) -> PostRead:
    """Send the post's draft variants for review."""
    i18n.set_language(request.state.language)
    post = _load(db, membership, post_id)
    approvals.submit_for_review(
        db, post=post, membership=membership, settings=app_settings(request)
    )
    db.commit()
    return PostRead.of(post)


@router.post("/posts/{post_id}/variants/{variant_id}/decision", response_model=VariantRead)
def api_decide(
    request: Request,
    db: Db,
    membership: ApiApprover,
    post_id: int,
    variant_id: int,
    payload: Decision,
) -> VariantRead:
    """Approve or reject the next review step of a variant (a rejection needs a comment)."""
    i18n.set_language(request.state.language)
    post, variant = _load_variant(db, membership, post_id, variant_id)
    approvals.decide(
        db,
        variant=variant,
        post=post,
        membership=membership,
        approved=payload.approved,
        comment=payload.comment,
        settings=app_settings(request),
    )
    db.commit()
    return VariantRead.of(variant)


@router.post("/posts/{post_id}/variants/{variant_id}/overrides", response_model=VariantRead)
def api_override(
    request: Request,
    db: Db,
    membership: ApiApprover,
    post_id: int,
    variant_id: int,
    payload: Override,
) -> VariantRead:
    """Let a warning of the variant's last checks pass (managers); errors cannot be."""
    i18n.set_language(request.state.language)
    _post, variant = _load_variant(db, membership, post_id, variant_id)
    variants.override_warning(
        db, variant=variant, membership=membership, code=payload.code, reason=payload.reason
    )
    db.commit()
    return VariantRead.of(variant)


@router.post("/posts/{post_id}/variants/{variant_id}/schedule", response_model=VariantRead)
def api_schedule(
    request: Request,
    db: Db,
    membership: ApiWriter,
    post_id: int,
    variant_id: int,
    payload: ScheduleRequest,
) -> VariantRead:
    """Schedule an approved, checked variant at ``at`` (null: publish now)."""
    i18n.set_language(request.state.language)
    _post, variant = _load_variant(db, membership, post_id, variant_id)
    try:
        scheduling.schedule_variant(
            db,
            variant=variant,
            membership=membership,
            when=payload.at,
            settings=app_settings(request),
        )
    except UserError:
        db.rollback()
        raise
    db.commit()
    return VariantRead.of(variant)


@router.post("/posts/{post_id}/variants/{variant_id}/unschedule", response_model=VariantRead)
def api_unschedule(
    request: Request, db: Db, membership: ApiWriter, post_id: int, variant_id: int
) -> VariantRead:
    """Take a scheduled variant off the queue; it stays approved."""
    i18n.set_language(request.state.language)
    _post, variant = _load_variant(db, membership, post_id, variant_id)
    scheduling.unschedule_variant(db, variant=variant, membership=membership)
    db.commit()
    return VariantRead.of(variant)


@router.get("/posts/{post_id}/variants/{variant_id}/attempts", response_model=list[AttemptRead])
def api_attempts(
    request: Request, db: Db, membership: ApiReader, post_id: int, variant_id: int
) -> list[AttemptRead]:
    """Every logged attempt at publishing the variant, oldest first."""
    i18n.set_language(request.state.language)
    _post, variant = _load_variant(db, membership, post_id, variant_id)
    return [
        AttemptRead.model_validate(attempt)
        for attempt in service.list_attempts(db, variant=variant)
    ]


keep_former_paths(router, former=API_ROOT)  # /api/v1/posts/...
