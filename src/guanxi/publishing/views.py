"""Publishing pages: the posts list, the composer, a post's variants, approvals and
scheduling. The media library and the external review link have modules of their own,
whose routes this router includes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import ROLE_LABELS, Membership, Permission, Role, User
from guanxi.approvals import rules
from guanxi.channels.best_times import suggested_times
from guanxi.channels.models import Channel
from guanxi.channels.service import list_channels
from guanxi.checks.findings import CheckedField, Finding, Segment, highlight
from guanxi.checks.labels import readable_params
from guanxi.connectors.base import VariantDraft
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import UserError
from guanxi.publishing import approvals, media, outcomes, scheduling, service, variants
from guanxi.publishing.campaigns import list_campaigns
from guanxi.publishing.models import Post, PublishTarget, TargetState
from guanxi.publishing.policy import get_policy
from guanxi.publishing.states import state_labels
from guanxi.web.deps import (
    Approver,
    CurrentUser,
    Db,
    Member,
    Writer,
    app_settings,
    verify_csrf,
)
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render
from guanxi.web.zones import valid_zone, viewer_zone

router = APIRouter(dependencies=[Depends(verify_csrf)])
POSTS_PER_PAGE = 50


def _typed_zone(request: Request, form: dict[str, list[str]], fallback: str) -> str:
    """The zone a time in ``form`` was typed in: the one the form says (the page shows the
    viewer's zone beside the field), else the viewer's."""
    sent = form_value(form, "tz")
    return sent if valid_zone(sent) else viewer_zone(request, fallback)[0]


def present_findings(
    checks: list[dict[str, Any]], overrides: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Stored findings in the viewer's language, each with who overrode it (if anyone)."""
    by_code = {override["code"]: override for override in overrides}
    shown = []
    for finding in checks:
        message = i18n.gettext(str(finding["message"]))
        params = readable_params(finding.get("params") or {}, i18n.gettext)
        try:
            text = message.format(**params) if params else message
        except (KeyError, IndexError, ValueError):
            text = message
        shown.append(
            {**finding, "text": text, "override": by_code.get(finding["code"])}
            if finding["severity"] == "warning"
            else {**finding, "text": text, "override": None}
        )
    return shown


def highlighted_text(text: str, checks: list[dict[str, Any]]) -> list[Segment]:
    """The variant's text cut into segments, the hits of its stored findings marked;
    empty when no finding points into the text."""
    findings = [Finding.from_dict(check) for check in checks if check.get("spans")]
    segments = highlight(text, findings, CheckedField.TEXT)
    return segments if any(segment.severity for segment in segments) else []


# --- Posts list --------------------------------------------------------------------------


def _int_or_none(value: str) -> int | None:
    return parse_id(value)


@router.get("/w/{slug}/publish")
def posts_page(
    request: Request,
    db: Db,
    membership: Member,
    state: QueryField = "",
    channel: QueryField = "",
    campaign: QueryField = "",
    page: QueryField = "",
) -> Response:
    """The workspace's posts, newest first, with each variant's state; filterable, in pages."""
    workspace = membership.workspace
    error = None
    channel_id, campaign_id, size = _int_or_none(channel), _int_or_none(campaign), POSTS_PER_PAGE
    try:
        found = service.count_posts(
            db, workspace=workspace, state=state, channel_id=channel_id, campaign_id=campaign_id
        )
        pages = max(1, -(-found // size))
        number = min(max(_int_or_none(page) or 1, 1), pages)
        posts = service.list_posts(
            db,
            workspace=workspace,
            state=state,
            channel_id=channel_id,
            campaign_id=campaign_id,
            limit=size,
            offset=(number - 1) * size,
        )
    except UserError as exc:
        error, posts, number, pages = exc.translated(i18n.gettext), [], 1, 1
    channels = {c.id: c for c in list_channels(db, workspace=workspace)}
    policy = get_policy(db, workspace=workspace)
    db.commit()  # the policy row, created with its defaults on first read
    kept = {"state": state, "channel": channel, "campaign": campaign}
    return render(
        request,
        "publishing/list.html",
        {
            "section": "publish",
            "posts": posts,
            "channels": channels,
            "campaigns": list_campaigns(db, workspace=workspace),
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
            "channels": list_channels(db, workspace=workspace),
            "campaigns": list_campaigns(db, workspace=workspace),
            "values": values or {},
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/publish/new")
def new_post_page(request: Request, db: Db, membership: Writer) -> Response:
    """The composer: internal title, the master text (Chinese first), campaign, accounts."""
    return _new_page(request, db, membership)


@router.post("/w/{slug}/publish/new")
def new_post(
    request: Request, db: Db, user: CurrentUser, membership: Writer, form: SubmittedForm
) -> Response:
    """Create the post with a variant per chosen account; a bad form comes back explained."""
    try:
        post = service.create_post(
            db,
            workspace=membership.workspace,
            actor=user,
            title=form_value(form, "title"),
            body=form_value(form, "body"),
            campaign=form_value(form, "campaign"),
            channel_ids=form.get("channels", []),
        )
        for target in post.targets:
            variants.check_variant(db, target=target, settings=app_settings(request))
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        message = exc.translated(i18n.gettext)
        return _new_page(request, db, membership, values=form, error=message, status_code=400)
    return RedirectResponse(f"/w/{membership.workspace.slug}/posts/{post.id}", status_code=303)


# --- A post ------------------------------------------------------------------------------


def _suggested_slots(
    db: Session, target: PublishTarget, channel: Channel, zone: str
) -> list[dict[str, Any]]:
    """The account's best times to post (from its own history, when a capability knows
    them), as values for the schedule form in the viewer's zone; none once scheduled."""
    if target.state not in {TargetState.DRAFT, TargetState.APPROVED}:
        return []
    local = ZoneInfo(zone)
    return [
        {
            "when": found.at.astimezone(local).strftime("%Y-%m-%dT%H:%M"),
            "at": found.at,
            "lift": found.lift,
            "posts": found.posts,
        }
        for found in suggested_times(db, channel, now=datetime.now(UTC))
    ]


def _variant_view(
    db: Session,
    request: Request,
    target: PublishTarget,
    channel: Channel,
    policy: Any,
    membership: Membership,
) -> dict[str, Any]:
    connector = variants.load_connector(channel, app_settings(request))
    errors, warnings = variants.unresolved(target)
    status = approvals.review_status(db, target=target, policy=policy)
    refusal = rules.decision_refusal(status.review, approvals.member_decider(membership))
    return {
        # The approve and reject buttons show only when the rules allow this member to decide.
        "may_decide": refusal is None and membership.can(Permission.APPROVE),
        "decide_refusal": refusal.translated(i18n.gettext) if refusal else None,
        "is_author": rules.member_key(membership.user_id) in status.review.authors,
        "target": target,
        "channel": channel,
        "fields": variants.variant_fields(connector),
        "findings": present_findings(target.checks or [], target.overrides or []),
        "highlighted": highlighted_text(target.text, target.checks or []),
        "blocked": bool(errors or warnings),
        "review": status,
        "decisions": approvals.list_approvals(db, target=target),
        "attempts": service.list_attempts(db, target=target),
        "editable": target.state in variants.EDITABLE_STATES,
        "digest": variants.content_digest(target),
        "suggested": _suggested_slots(
            db, target, channel, viewer_zone(request, membership.workspace.timezone)[0]
        ),
    }


def _post_page(
    request: Request,
    db: Session,
    membership: Membership,
    post: Post,
    *,
    error: str | None = None,
    error_target: int | None = None,
    notice: str | None = None,
    review_link: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    policy = get_policy(db, workspace=workspace)
    channels = {c.id: c for c in list_channels(db, workspace=workspace)}
    for target in post.targets:
        if target.channel_id not in channels:  # disconnected since: still shown
            found = db.get(Channel, target.channel_id)
            if found is not None:
                channels[found.id] = found
    author = db.get(User, post.created_by_id) if post.created_by_id else None
    zone, zone_source = viewer_zone(request, workspace.timezone)
    return render(
        request,
        "publishing/post.html",
        {
            "section": "publish",
            "post": post,
            "author": author,
            "variants": [
                _variant_view(db, request, target, channels[target.channel_id], policy, membership)
                for target in post.targets
            ],
            "addable": [
                c for c in channels.values() if c.id not in {t.channel_id for t in post.targets}
            ],
            "library": media.list_media(db, workspace=workspace),
            "campaigns": list_campaigns(db, workspace=workspace),
            "comments": service.list_comments(db, post=post),
            "policy": policy,
            "state_labels": state_labels(),
            "zone": zone,
            "zone_source": zone_source,
            "can_write": membership.can(Permission.WRITE),
            "can_approve": membership.can(Permission.APPROVE)
            and approvals.may_approve(membership, policy),
            "may_issue_link": membership.can(Permission.APPROVE)
            and approvals.may_issue_link(db, post=post, membership=membership),
            "link_days": approvals.REVIEW_LINK_DAYS,
            "error": error,
            "error_target": error_target,
            "notice": notice,
            "review_link": review_link,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/posts/{post_id}")
def post_page(request: Request, db: Db, membership: Member, post_id: int) -> Response:
    """A post: its master text, each variant with checks, approvals, schedule and attempts."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    return _post_page(request, db, membership, post)


def _act(
    request: Request,
    db: Session,
    membership: Membership,
    post: Post,
    action: Any,
    *,
    target_id: int | None = None,
) -> Response:
    """Run ``action``; commit and go back to the post, or show the post with the message."""
    try:
        action()
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        db.refresh(post)
        return _post_page(
            request,
            db,
            membership,
            post,
            error=exc.translated(i18n.gettext),
            error_target=target_id,
            status_code=exc.status_code,
        )
    anchor = f"#variant-{target_id}" if target_id else ""
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/posts/{post.id}{anchor}", status_code=303
    )


@router.post("/w/{slug}/posts/{post_id}")
def post_update(
    request: Request, db: Db, membership: Writer, post_id: int, form: SubmittedForm
) -> Response:
    """Save the post's internal title, master text and campaign."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    return _act(
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
        ),
    )


@router.post("/w/{slug}/posts/{post_id}/channels")
def post_add_channels(
    request: Request, db: Db, membership: Writer, post_id: int, form: SubmittedForm
) -> Response:
    """Add variants for more accounts."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)

    def add() -> None:
        targets = service.add_channels(
            db, post=post, actor=membership.user, channel_ids=form.get("channels", [])
        )
        for target in targets:
            variants.check_variant(db, target=target, settings=app_settings(request))

    return _act(request, db, membership, post, add)


def _variant_args(form: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "text": form_value(form, "text"),
        "title": form_value(form, "title"),
        "digest": form_value(form, "digest"),
        "link": form_value(form, "link"),
        "media_ids": form.get("media", []),
        "cover_media_id": form_value(form, "cover"),
    }


@router.post("/w/{slug}/posts/{post_id}/variants/{target_id}")
def variant_save(
    request: Request, db: Db, membership: Writer, post_id: int, target_id: int, form: SubmittedForm
) -> Response:
    """Save a variant and check it again; an approved one whose content changed needs review."""
    post, target = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )

    def save() -> None:
        variants.update_variant(db, target=target, actor=membership.user, **_variant_args(form))
        variants.check_variant(db, target=target, settings=app_settings(request))

    return _act(request, db, membership, post, save, target_id=target_id)


@router.post("/w/{slug}/posts/{post_id}/variants/{target_id}/check")
def variant_check(
    request: Request, db: Db, membership: Member, post_id: int, target_id: int, form: SubmittedForm
) -> Response:
    """HTMX: the findings on the variant as typed (nothing is saved)."""
    _post, target = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )
    channel = db.get(Channel, target.channel_id)
    assert channel is not None
    # The text as typed, with the media as saved (attachments change on save).
    saved = variants.variant_draft(db, target, app_settings(request).data_dir)
    draft = VariantDraft(
        text=form_value(form, "text"),
        title=form_value(form, "title"),
        digest=form_value(form, "digest"),
        link=form_value(form, "link"),
        media=saved.media,
        cover=saved.cover,
    )
    findings = variants.check_draft(
        db, channel=channel, draft=draft, settings=app_settings(request)
    )
    db.rollback()
    return render(
        request,
        "publishing/_live_check.html",
        {
            "findings": present_findings(findings, target.overrides or []),
            "live": True,
            "can_override": False,
            "override_action": "",
            # The typed text with the hits marked, swapped in behind the textarea.
            "target_id": target.id,
            "segments": highlighted_text(draft.text, findings),
            "text": draft.text,
        },
    )


@router.post("/w/{slug}/posts/{post_id}/variants/{target_id}/override")
def variant_override(
    request: Request,
    db: Db,
    membership: Approver,
    post_id: int,
    target_id: int,
    form: SubmittedForm,
) -> Response:
    """A manager lets a warning pass, with a reason."""
    post, target = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )
    return _act(
        request,
        db,
        membership,
        post,
        lambda: variants.override_warning(
            db,
            target=target,
            membership=membership,
            code=form_value(form, "code"),
            reason=form_value(form, "reason"),
        ),
        target_id=target_id,
    )


@router.post("/w/{slug}/posts/{post_id}/submit")
def post_submit(request: Request, db: Db, membership: Writer, post_id: int) -> Response:
    """Send the post's draft variants to review."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    return _act(
        request,
        db,
        membership,
        post,
        lambda: approvals.submit_for_review(db, post=post, membership=membership),
    )


@router.post("/w/{slug}/posts/{post_id}/variants/{target_id}/decide")
def variant_decide(
    request: Request,
    db: Db,
    membership: Approver,
    post_id: int,
    target_id: int,
    form: SubmittedForm,
) -> Response:
    """Approve or reject the variant's next review step, with a comment."""
    post, target = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )
    return _act(
        request,
        db,
        membership,
        post,
        lambda: approvals.decide(
            db,
            target=target,
            post=post,
            membership=membership,
            approved=form_value(form, "decision") == "approve",
            comment=form_value(form, "comment"),
        ),
        target_id=target_id,
    )


@router.post("/w/{slug}/posts/{post_id}/variants/{target_id}/schedule")
def variant_schedule(
    request: Request,
    db: Db,
    membership: Writer,
    post_id: int,
    target_id: int,
    form: SubmittedForm,
) -> Response:
    """Schedule the variant at a time typed in the viewer's zone, or publish it now."""
    post, target = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )
    zone = _typed_zone(request, form, membership.workspace.timezone)

    def schedule() -> None:
        now = form_value(form, "now") == "1"
        when = None if now else scheduling.parse_local_time(form_value(form, "when"), zone)
        try:
            scheduling.schedule_target(
                db, target=target, membership=membership, when=when, settings=app_settings(request)
            )
        except UserError:
            # Refused: keep the fresh check results so the page shows what blocks it.
            db.rollback()
            variants.check_variant(db, target=target, settings=app_settings(request))
            db.commit()
            raise

    return _act(request, db, membership, post, schedule, target_id=target_id)


@router.post("/w/{slug}/posts/{post_id}/variants/{target_id}/unschedule")
def variant_unschedule(
    request: Request, db: Db, membership: Writer, post_id: int, target_id: int
) -> Response:
    """Take the variant off the queue (it stays approved)."""
    post, target = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )
    return _act(
        request,
        db,
        membership,
        post,
        lambda: scheduling.unschedule_target(db, target=target, membership=membership),
        target_id=target_id,
    )


@router.post("/w/{slug}/posts/{post_id}/variants/{target_id}/retry")
def variant_retry(
    request: Request,
    db: Db,
    membership: Writer,
    post_id: int,
    target_id: int,
    form: SubmittedForm,
) -> Response:
    """Queue a failed variant again (one needing attention only after a manager confirms)."""
    post, target = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, target_id=target_id
    )
    return _act(
        request,
        db,
        membership,
        post,
        lambda: scheduling.retry_target(
            db, target=target, membership=membership, confirmed=form_value(form, "confirm") == "1"
        ),
        target_id=target_id,
    )


@router.post("/w/{slug}/posts/{post_id}/comments")
def post_comment(
    request: Request, db: Db, membership: Writer, post_id: int, form: SubmittedForm
) -> Response:
    """Comment on the post (editors and above; analysts read)."""
    post = service.get_post(db, workspace=membership.workspace, post_id=post_id)
    user = membership.user
    return _act(
        request,
        db,
        membership,
        post,
        lambda: service.add_comment(
            db, post=post, body=form_value(form, "body"), author=user, author_label=user.name
        ),
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
        return _post_page(
            request,
            db,
            membership,
            post,
            error=exc.translated(i18n.gettext),
            status_code=exc.status_code,
        )
    link = f"{app_settings(request).base_url.rstrip('/')}/review/{token}"
    return _post_page(request, db, membership, post, review_link=link)


def set_up(app: FastAPI) -> None:
    """Publish results the platforms push are applied to their targets."""
    outcomes.register_push_handlers()
