"""Publishing pages: the posts list, the composer, and a post with what applies to all its
variants (the master text, accounts, submitting, scheduling every variant at once, comments,
the external review link). Routes on one variant live in ``variant_views``; the post page's
presentation in ``post_page``; the media library and review link in their own modules."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import ROLE_LABELS, Membership, Permission, Role
from guanxi.channels.service import list_channels
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.publishing import (
    approvals,
    composer,
    media,
    our_posts,
    outcomes,
    scheduling,
    service,
    tags,
    variants,
)
from guanxi.publishing.campaigns import list_campaigns
from guanxi.publishing.models import TAGS_MAX
from guanxi.publishing.policy import get_policy
from guanxi.publishing.post_page import NOTICE, act, post_page, typed_zone
from guanxi.publishing.states import state_labels
from guanxi.publishing.tags import parse_tags
from guanxi.web.deps import Approver, Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import QueryField, body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
POSTS_PER_PAGE = 50


# --- Posts list --------------------------------------------------------------------------


@router.get("/w/{slug}/publish")
def posts_page(
    request: Request,
    db: Db,
    membership: Member,
    state: QueryField = "",
    channel: QueryField = "",
    campaign: QueryField = "",
    tag: QueryField = "",
    page: QueryField = "",
) -> Response:
    """The workspace's posts, newest first, with each variant's state; filterable, in pages."""
    workspace = membership.workspace
    error = None
    channel_id, campaign_id, size = parse_id(channel), parse_id(campaign), POSTS_PER_PAGE
    try:
        found = service.count_posts(
            db,
            workspace=workspace,
            state=state,
            channel_id=channel_id,
            campaign_id=campaign_id,
            tag=tag,
        )
        pages = max(1, -(-found // size))
        number = min(max(parse_id(page) or 1, 1), pages)
        posts = service.post_lines(
            db,
            workspace=workspace,
            state=state,
            channel_id=channel_id,
            campaign_id=campaign_id,
            tag=tag,
            limit=size,
            offset=(number - 1) * size,
        )
    except UserError as exc:
        error, posts, number, pages = exc.translated(i18n.gettext), [], 1, 1
    channels = {c.id: c for c in list_channels(db, workspace=workspace)}
    policy = get_policy(db, workspace=workspace)
    db.commit()  # the policy row, created with its defaults on first read
    kept = {"state": state, "channel": channel, "campaign": campaign, "tag": tag}
    notice = request.session.pop(NOTICE, None)
    return render(
        request,
        "publishing/list.html",
        {
            "section": "publish",
            "posts": posts,
            "channels": channels,
            "campaigns": list_campaigns(db, workspace=workspace),
            "tags": tags.workspace_tags(db, workspace_id=workspace.id),
            "filters": kept,
            "pager": {
                "page": number,
                "pages": pages,
                "query": urlencode({k: v for k, v in kept.items() if v}),
            },
            "state_labels": state_labels(),
            "policy": policy,
            "approver_label": ROLE_LABELS[Role(policy.approver_role)],
            "can_write": membership.can(Permission.WRITE),
            "notice": i18n.gettext(notice) if notice else None,
            "error": error,
        },
        status_code=400 if error else 200,
    )


# --- Composer ----------------------------------------------------------------------------


def _new_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    values: dict[str, list[str]] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    return render(
        request,
        "publishing/new.html",
        {
            "section": "publish",
            "accounts": composer.composer_accounts(
                db, workspace=workspace, settings=app_settings(request)
            ),
            "campaigns": list_campaigns(db, workspace=workspace),
            "library": media.list_media(db, workspace=workspace),
            "formats": media.ACCEPTED_LABELS,
            "workspace_tags": tags.workspace_tags(db, workspace_id=workspace.id),
            "tags_max": TAGS_MAX,
            "tags_value": form_value(values or {}, "tags"),
            "values": values or {},
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/publish/new")
def new_post_page(request: Request, db: Db, membership: Writer) -> Response:
    """The composer: the text (Chinese first) with a live preview per chosen account, media
    attached before the variants exist, campaign and internal title."""
    return _new_page(request, db, membership)


@router.post("/w/{slug}/publish/new", openapi_extra=body_limit(media.MAX_UPLOAD_REQUEST_BYTES))
async def new_post(request: Request, db: Db, membership: Writer) -> Response:
    """Create the post with a variant per chosen account, each with the attached media; a
    bad form comes back explained, with what was typed."""
    async with request.form() as form:
        values = {
            key: [value for value in form.getlist(key) if isinstance(value, str)]
            for key in form
            if key != "csrf_token"
        }
        uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
        return await run_in_threadpool(_create_post, request, db, membership, values, uploads)


def _create_post(
    request: Request,
    db: Session,
    membership: Membership,
    form: dict[str, list[str]],
    uploads: list[UploadFile],
) -> Response:
    """Store the uploads, create the post and its checked variants, in one transaction."""
    i18n.set_language(request.state.language)
    settings = app_settings(request)
    try:
        post = composer.compose_post(
            db,
            membership=membership,
            title=form_value(form, "title"),
            body=form_value(form, "body"),
            campaign=form_value(form, "campaign"),
            channel_ids=form.get("channels", []),
            media_ids=form.get("media", []),
            uploads=[(upload.filename or "", upload.file) for upload in uploads if upload.filename],
            settings=settings,
            tags=parse_tags(form_value(form, "tags")),
            # A form that shows the choice sends the box only when ticked.
            track_links=form_value(form, "links_shown") != "1"
            or bool(form_value(form, "track_links")),
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        message = exc.translated(i18n.gettext)
        return _new_page(request, db, membership, values=form, error=message, status_code=400)
    request.session[NOTICE] = N_("Post created with a variant per account. Adapt each one below.")
    return RedirectResponse(f"/w/{membership.workspace.slug}/posts/{post.id}", status_code=303)


# --- A post ------------------------------------------------------------------------------


@router.get("/w/{slug}/posts/{post_id}")
def show_post(request: Request, db: Db, membership: Member, post_id: int) -> Response:
    """A post: its master text, each variant with checks, approvals, schedule and attempts."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    return post_page(request, db, membership, post)


@router.post("/w/{slug}/posts/{post_id}")
def post_update(
    request: Request, db: Db, membership: Writer, post_id: int, form: SubmittedForm
) -> Response:
    """Save the post's internal title, master text and campaign."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    return act(
        request,
        db,
        membership,
        post,
        lambda: service.update_post(
            db,
            post=post,
            actor=membership.user,
            title=form_value(form, "title"),
            body=form_value(form, "body"),
            campaign=form_value(form, "campaign"),
            tags=parse_tags(form_value(form, "tags")) if "tags" in form else None,
        ),
        notice=N_("Master text saved. The variants keep their own text."),
    )


@router.post("/w/{slug}/posts/{post_id}/channels")
def post_add_channels(
    request: Request, db: Db, membership: Writer, post_id: int, form: SubmittedForm
) -> Response:
    """Add variants for more accounts, with the media the post's variants already show."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)

    def add() -> None:
        composer.add_accounts(
            db,
            post=post,
            membership=membership,
            channel_ids=form.get("channels", []),
            settings=app_settings(request),
        )

    return act(request, db, membership, post, add, notice=N_("Variants added."))


@router.post("/w/{slug}/posts/{post_id}/submit")
def post_submit(request: Request, db: Db, membership: Writer, post_id: int) -> Response:
    """Send the post's draft variants to review."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    return act(
        request,
        db,
        membership,
        post,
        lambda: approvals.submit_for_review(
            db, post=post, membership=membership, settings=app_settings(request)
        ),
        notice=N_("Sent for review. The approvers can now approve each variant."),
    )


@router.post("/w/{slug}/posts/{post_id}/schedule")
def post_schedule(
    request: Request, db: Db, membership: Writer, post_id: int, form: SubmittedForm
) -> Response:
    """Schedule the ticked variants at once: one time for all, or a time each
    (``when-<variant id>``), or publish them all now. All go on the queue, or none."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    zone = typed_zone(request, form, membership.workspace.timezone)
    settings = app_settings(request)
    try:
        times = _times_for_all(form, zone, [variant.id for variant in post.variants])
        scheduling.schedule_variants(
            db, post=post, membership=membership, times=times, settings=settings
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        refused = exc.variant_id if isinstance(exc, scheduling.VariantRefusedError) else None
        if refused is not None:  # keep its fresh check results, to show what blocks it
            variant = next(t for t in post.variants if t.id == refused)
            variants.check_variant(db, variant=variant, settings=settings)
            db.commit()
        db.refresh(post)
        return post_page(
            request,
            db,
            membership,
            post,
            error=exc.translated(i18n.gettext),
            error_variant=refused,
            status_code=exc.status_code,
        )
    request.session[NOTICE] = (
        N_("Variants queued to publish now.")
        if form_value(form, "now") == "1"
        else N_("Variants scheduled.")
    )
    return RedirectResponse(f"/w/{membership.workspace.slug}/posts/{post.id}", status_code=303)


def _times_for_all(
    form: dict[str, list[str]], zone: str, variant_ids: list[int]
) -> dict[int, datetime | None]:
    """Each ticked variant's time (None: now) from the schedule-all form."""
    ticked = [parse_id(value) for value in form.get("variants", [])]
    ids = [i for i in ticked if i is not None and i in variant_ids]
    if not ids:
        raise UserError(N_("Tick at least one variant to schedule."))
    if form_value(form, "now") == "1":
        return dict.fromkeys(ids)
    if form_value(form, "mode") == "each":
        return {i: scheduling.parse_local_time(form_value(form, f"when-{i}"), zone) for i in ids}
    when = scheduling.parse_local_time(form_value(form, "when"), zone)
    return dict.fromkeys(ids, when)


@router.post("/w/{slug}/posts/{post_id}/comments")
def post_comment(
    request: Request, db: Db, membership: Writer, post_id: int, form: SubmittedForm
) -> Response:
    """Comment on the post (editors and above; analysts read)."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    user = membership.user
    return act(
        request,
        db,
        membership,
        post,
        lambda: service.add_comment(
            db, post=post, body=form_value(form, "body"), author=user, author_label=user.name
        ),
        notice=N_("Comment added."),
    )


@router.post("/w/{slug}/posts/{post_id}/review-link")
def post_review_link(
    request: Request, db: Db, membership: Approver, post_id: int, form: SubmittedForm
) -> Response:
    """Create a signed, expiring link for an external reviewer and show it once."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    try:
        token, _expires = approvals.review_link_token(
            db,
            post=post,
            membership=membership,
            reviewer=form_value(form, "reviewer"),
            days=form_value(form, "days"),
            settings=app_settings(request),
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return post_page(
            request,
            db,
            membership,
            post,
            error=exc.translated(i18n.gettext),
            status_code=exc.status_code,
        )
    link = f"{app_settings(request).base_url.rstrip('/')}/review/{token}"
    return post_page(request, db, membership, post, review_link=link)


def set_up(app: FastAPI) -> None:
    """Publish results the platforms push are applied to their variants; the inbox can
    name the brand's posts."""
    outcomes.register_push_handlers()
    our_posts.register()
