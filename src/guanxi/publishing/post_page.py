"""A post's page as its routes show it: each variant with its findings in the viewer's
language, its review, its suggested times and its preview; and ``act``, which runs what a
person asked for and comes back with a confirmation or the reason it was refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission, User
from guanxi.approvals import rules
from guanxi.channels.best_times import suggested_times
from guanxi.channels.models import Channel
from guanxi.channels.service import list_channels
from guanxi.channels.tracking import link_tracker, post_figures
from guanxi.checks.findings import CheckedField, Finding, Segment, highlight
from guanxi.checks.labels import readable_params
from guanxi.core import i18n
from guanxi.core.errors import UserError
from guanxi.publishing import approvals, link_tracking, media, service, tags, variants
from guanxi.publishing.campaigns import list_campaigns
from guanxi.publishing.composer import account_view
from guanxi.publishing.models import (
    ATTEMPT_ACTION_LABELS,
    ATTEMPT_OUTCOME_LABELS,
    TAGS_MAX,
    Approval,
    MediaAsset,
    Post,
    Variant,
    VariantState,
)
from guanxi.publishing.policy import get_policy
from guanxi.publishing.states import state_labels
from guanxi.web.deps import app_settings
from guanxi.web.forms import form_value
from guanxi.web.rendering import render
from guanxi.web.zones import valid_zone, viewer_zone

NOTICE = "notice"  # the session key of the confirmation shown once after an action


def typed_zone(request: Request, form: dict[str, list[str]], fallback: str) -> str:
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


def _suggested_slots(
    db: Session, variant: Variant, channel: Channel, zone: str
) -> list[dict[str, Any]]:
    """The account's best times to post (from its own history, when a capability knows
    them), as values for the schedule form in the viewer's zone; none once scheduled."""
    if variant.state not in {VariantState.DRAFT, VariantState.APPROVED}:
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


def _attached(db: Session, variant: Variant) -> list[MediaAsset]:
    """The files a variant shows, in order (the cover first when it has one)."""
    ids = [
        *([variant.cover_media_id] if variant.cover_media_id else []),
        *(variant.media_ids or []),
    ]
    assets = [db.get(MediaAsset, media_id) for media_id in dict.fromkeys(ids)]
    return [asset for asset in assets if asset is not None]


def _variant_view(
    db: Session,
    request: Request,
    variant: Variant,
    channel: Channel,
    policy: Any,
    membership: Membership,
    decisions: list[Approval],
) -> dict[str, Any]:
    settings = app_settings(request)
    account = account_view(channel, settings)
    errors, warnings = variants.unresolved(variant)
    attached = _attached(db, variant)
    slug = membership.workspace.slug
    status = approvals.review_status(db, variant=variant, policy=policy, decisions=decisions)
    refusal = rules.decision_refusal(status.review, approvals.member_decider(membership))
    return {
        # The approve and reject buttons show only when the rules allow this member to decide.
        "may_decide": refusal is None and membership.can(Permission.APPROVE),
        "decide_refusal": refusal.translated(i18n.gettext) if refusal else None,
        "is_author": rules.member_key(membership.user_id) in status.review.authors,
        "variant": variant,
        "channel": channel,
        "fields": account.fields,
        "limits": account.limits,
        "preview": account.preview,
        "hashtags": account.hashtags,
        "attached": attached,
        "image_urls": [
            f"/w/{slug}/media/{asset.id}/file" for asset in attached if asset.kind == "image"
        ],
        "findings": present_findings(variant.checks or [], variant.overrides or []),
        "highlighted": highlighted_text(variant.text, variant.checks or []),
        "errors": len(errors),
        "blocked": bool(errors or warnings),
        "review": status,
        "decisions": decisions,
        "attempts": service.list_attempts(db, variant=variant),
        "editable": variant.state in variants.EDITABLE_STATES,
        "digest": variants.content_digest(variant),
        "tracking": link_tracker() is not None,
        "links": link_tracking.found_links(
            db, variant=variant, connector=variants.load_connector(channel, settings)
        ),
        "suggested": _suggested_slots(
            db, variant, channel, viewer_zone(request, membership.workspace.timezone)[0]
        ),
    }


def _channels(db: Session, membership: Membership, post: Post) -> dict[int, Channel]:
    """The workspace's accounts, and any a variant still names though disconnected since."""
    channels = {c.id: c for c in list_channels(db, workspace=membership.workspace)}
    for variant in post.variants:
        if variant.channel_id not in channels:
            found = db.get(Channel, variant.channel_id)
            if found is not None:
                channels[found.id] = found
    return channels


def post_page(
    request: Request,
    db: Session,
    membership: Membership,
    post: Post,
    *,
    error: str | None = None,
    error_variant: int | None = None,
    review_link: str | None = None,
    status_code: int = 200,
) -> Response:
    """The post page: the master, a tab per variant (editor, preview, checks, review,
    schedule), scheduling for every variant at once, comments and the review link."""
    workspace = membership.workspace
    policy = get_policy(db, workspace=workspace)
    channels = _channels(db, membership, post)
    author = db.get(User, post.created_by_id) if post.created_by_id else None
    zone, zone_source = viewer_zone(request, workspace.timezone)
    notice = request.session.pop(NOTICE, None)
    # Every variant's decisions in one query, for its review status and its record.
    decisions = approvals.decisions_of(db, [variant.id for variant in post.variants])
    views = [
        _variant_view(
            db,
            request,
            variant,
            channels[variant.channel_id],
            policy,
            membership,
            decisions[variant.id],
        )
        for variant in post.variants
    ]
    return render(
        request,
        "publishing/post.html",
        {
            "section": "publish",
            "post": post,
            "author": author,
            "variants": views,
            "schedulable": [v for v in views if _schedulable(v["variant"], policy)],
            "addable": [
                c for c in channels.values() if c.id not in {t.channel_id for t in post.variants}
            ],
            "library": media.list_media(db, workspace=workspace),
            "campaigns": list_campaigns(db, workspace=workspace),
            "comments": service.list_comments(db, post=post),
            "figures": post_figures(db, workspace_id=workspace.id, post_id=post.id),
            "workspace_tags": tags.workspace_tags(db, workspace_id=workspace.id),
            "tags_max": TAGS_MAX,
            "policy": policy,
            "state_labels": state_labels(),
            "attempt_actions": ATTEMPT_ACTION_LABELS,
            "attempt_outcomes": ATTEMPT_OUTCOME_LABELS,
            "zone": zone,
            "zone_source": zone_source,
            "can_write": membership.can(Permission.WRITE),
            "can_approve": membership.can(Permission.APPROVE)
            and approvals.may_approve(membership, policy),
            "may_issue_link": membership.can(Permission.APPROVE)
            and approvals.may_issue_link(db, post=post, membership=membership),
            "link_days": approvals.REVIEW_LINK_DAYS,
            "error": error,
            "error_variant": error_variant,
            "notice": i18n.gettext(notice) if notice else None,
            "review_link": review_link,
        },
        status_code=status_code,
    )


def _schedulable(variant: Variant, policy: Any) -> bool:
    """The variant may be scheduled now: approved, or a draft where nobody approves."""
    return variant.state == VariantState.APPROVED or (
        variant.state == VariantState.DRAFT and policy.approval_steps == 0
    )


def act(
    request: Request,
    db: Session,
    membership: Membership,
    post: Post,
    action: Callable[[], object],
    *,
    notice: str,
    variant_id: int | None = None,
) -> Response:
    """Run ``action``; commit and go back to the post with ``notice`` (a message id) shown
    once, or show the post with the reason it was refused."""
    try:
        action()
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        db.refresh(post)
        return post_page(
            request,
            db,
            membership,
            post,
            error=exc.translated(i18n.gettext),
            error_variant=variant_id,
            status_code=exc.status_code,
        )
    request.session[NOTICE] = notice
    anchor = f"#variant-{variant_id}" if variant_id else ""
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/posts/{post.id}{anchor}", status_code=303
    )
