"""Routes on one variant of a post (a ``Variant``: the post as one account publishes
it): save, check as typed, override a warning, approve or reject, schedule, unschedule,
retry. Each comes back to the post page with a confirmation or the reason it was refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from guanxi.accounts.models import Membership
from guanxi.channels.models import Channel
from guanxi.connectors.base import VariantDraft
from guanxi.core.errors import N_, UserError
from guanxi.publishing import approvals, scheduling, service, variants
from guanxi.publishing.models import Post, Variant
from guanxi.publishing.post_page import act, highlighted_text, present_findings, typed_zone
from guanxi.web.deps import Approver, Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
VARIANT = "/w/{slug}/posts/{post_id}/variants/{variant_id}"


@dataclass(frozen=True)
class LoadedVariant:
    """The variant a route acts on, with its post."""

    post: Post
    variant: Variant


def load_variant(db: Db, membership: Member, post_id: int, variant_id: int) -> LoadedVariant:
    """Variant ``variant_id`` of post ``post_id`` in the member's workspace; 404 for any other.
    (The route's own role dependency comes first: a role too low is told so.)"""
    post, variant = service.get_variant(
        db, workspace=membership.workspace, post_id=post_id, variant_id=variant_id
    )
    return LoadedVariant(post, variant)


VariantParam = Annotated[LoadedVariant, Depends(load_variant)]


def _act(
    request: Request,
    db: Db,
    membership: Membership,
    loaded: LoadedVariant,
    action: Callable[[], object],
    notice: str,
) -> Response:
    """``act`` on the variant: back to its post, with the notice or the reason it was refused."""
    return act(
        request, db, membership, loaded.post, action, notice=notice, variant_id=loaded.variant.id
    )


@router.post(VARIANT)
def variant_save(
    request: Request, db: Db, membership: Writer, loaded: VariantParam, form: SubmittedForm
) -> Response:
    """Save a variant and check it again; an approved one whose content changed needs review."""
    variant = loaded.variant

    def save() -> None:
        variants.update_variant(
            db,
            variant=variant,
            actor=membership.user,
            text=form_value(form, "text"),
            title=form_value(form, "title"),
            digest=form_value(form, "digest"),
            link=form_value(form, "link"),
            media_ids=form.get("media", []),
            cover_media_id=form_value(form, "cover"),
            links=_link_choices(form),
            settings=app_settings(request),
        )
        variants.check_variant(db, variant=variant, settings=app_settings(request))

    return _act(request, db, membership, loaded, save, N_("Variant saved."))


def _link_choices(form: dict[str, list[str]]) -> variants.LinkChoices | None:
    """The editor's tracking choices; None from a form without them (tracking as before)."""
    if form_value(form, "links_shown") != "1":
        return None
    return variants.LinkChoices(
        track=form_value(form, "track_links") == "1",
        listed=tuple(form.get("link_listed", [])),
        ticked=tuple(form.get("link_tracked", [])),
    )


@router.post(VARIANT + "/check")
def variant_check(request: Request, db: Db, loaded: VariantParam, form: SubmittedForm) -> Response:
    """HTMX: the findings on the variant as typed, for any member (nothing is saved)."""
    variant = loaded.variant
    channel = db.get(Channel, variant.channel_id)
    assert channel is not None
    # The text as typed, with the media as saved (attachments change on save).
    saved = variants.variant_draft(db, variant, app_settings(request).data_dir)
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
            "findings": present_findings(findings, variant.overrides or []),
            "live": True,
            "can_override": False,
            "override_action": "",
            # The typed text with the hits marked, swapped in behind the textarea.
            "variant_id": variant.id,
            "segments": highlighted_text(draft.text, findings),
            "text": draft.text,
        },
    )


@router.post(VARIANT + "/override")
def variant_override(
    request: Request,
    db: Db,
    membership: Approver,
    loaded: VariantParam,
    form: SubmittedForm,
) -> Response:
    """A manager lets a warning pass, with a reason."""
    return _act(
        request,
        db,
        membership,
        loaded,
        lambda: variants.override_warning(
            db,
            variant=loaded.variant,
            membership=membership,
            code=form_value(form, "code"),
            reason=form_value(form, "reason"),
        ),
        N_("Warning overridden; your reason is recorded."),
    )


@router.post(VARIANT + "/decide")
def variant_decide(
    request: Request,
    db: Db,
    membership: Approver,
    loaded: VariantParam,
    form: SubmittedForm,
) -> Response:
    """Approve or reject the variant's next review step, with a comment."""
    approved = form_value(form, "decision") == "approve"
    return _act(
        request,
        db,
        membership,
        loaded,
        lambda: approvals.decide(
            db,
            variant=loaded.variant,
            post=loaded.post,
            membership=membership,
            approved=approved,
            comment=form_value(form, "comment"),
            settings=app_settings(request),
        ),
        N_("Variant approved.") if approved else N_("Variant rejected."),
    )


@router.post(VARIANT + "/schedule")
def variant_schedule(
    request: Request,
    db: Db,
    membership: Writer,
    loaded: VariantParam,
    form: SubmittedForm,
) -> Response:
    """Schedule the variant at a time typed in the viewer's zone, or publish it now."""
    variant = loaded.variant
    zone = typed_zone(request, form, membership.workspace.timezone)
    now = form_value(form, "now") == "1"

    def schedule() -> None:
        when = None if now else scheduling.parse_local_time(form_value(form, "when"), zone)
        try:
            scheduling.schedule_variant(
                db,
                variant=variant,
                membership=membership,
                when=when,
                settings=app_settings(request),
            )
        except UserError:
            # Refused: keep the fresh check results so the page shows what blocks it.
            db.rollback()
            variants.check_variant(db, variant=variant, settings=app_settings(request))
            db.commit()
            raise

    notice = N_("Variant queued to publish now.") if now else N_("Variant scheduled.")
    return _act(request, db, membership, loaded, schedule, notice)


@router.post(VARIANT + "/unschedule")
def variant_unschedule(
    request: Request, db: Db, membership: Writer, loaded: VariantParam
) -> Response:
    """Take the variant off the queue (it stays approved)."""
    return _act(
        request,
        db,
        membership,
        loaded,
        lambda: scheduling.unschedule_variant(db, variant=loaded.variant, membership=membership),
        N_("Variant taken off the queue; it stays approved."),
    )


@router.post(VARIANT + "/retry")
def variant_retry(
    request: Request,
    db: Db,
    membership: Writer,
    loaded: VariantParam,
    form: SubmittedForm,
) -> Response:
    """Queue a failed variant again (one needing attention only after a manager confirms)."""
    return _act(
        request,
        db,
        membership,
        loaded,
        lambda: scheduling.retry_variant(
            db,
            variant=loaded.variant,
            membership=membership,
            confirmed=form_value(form, "confirm") == "1",
        ),
        N_("Variant queued again."),
    )
