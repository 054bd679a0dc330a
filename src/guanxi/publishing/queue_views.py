"""The approvals queue page (``/w/{slug}/publish/approvals``): what waits, since when, for
which step, who wrote it, on which account, with its open errors and warnings; approve or
reject in place (HTMX, after a confirmation), the row then says what was recorded.

Only members who approve in the workspace see the page and its nav entry, whose badge
counts what waits for their decision now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from guanxi.accounts.models import Membership
from guanxi.catalog.service import get_catalog
from guanxi.core import i18n
from guanxi.core.errors import N_, NotFoundError, PermissionDeniedError, UserError
from guanxi.publishing import approvals, queue
from guanxi.publishing.models import Variant, VariantState
from guanxi.web.deps import Approver, Db, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import register_context, render, renders_a_fragment
from guanxi.web.zones import viewer_zone

router = APIRouter(dependencies=[Depends(verify_csrf)])

NOT_AN_APPROVER = N_(
    "Only the members who approve in this workspace see the approvals queue. Ask an owner "
    "if you should."
)


def platform_name(slug: str, language: str) -> str:
    """The platform's name as the catalog gives it (the slug when the catalog lacks it)."""
    platform = get_catalog().get(slug)
    if platform is None:
        return slug
    return platform.name_zh if language.startswith("zh") else platform.name_en


def _approver(db: Session, membership: Membership) -> None:
    if not queue.may_use_queue(db, membership):
        raise PermissionDeniedError(NOT_AN_APPROVER)


def _variant(db: Session, membership: Membership, variant_id: int) -> Variant:
    variant = db.get(Variant, variant_id)
    if variant is None or variant.workspace_id != membership.workspace_id:
        raise NotFoundError(N_("No such post in this workspace."))
    return variant


@router.get("/w/{slug}/publish/approvals")
def approvals_queue(request: Request, membership: Approver, db: Db) -> Response:
    """Everything waiting for approval in the workspace, oldest first."""
    _approver(db, membership)
    items = queue.waiting(db, membership=membership)
    zone, _source = viewer_zone(request, membership.workspace.timezone)
    return render(
        request,
        "publishing/approvals_queue.html",
        {
            "section": "approvals",
            "slug": membership.workspace.slug,
            "items": items,
            "yours": sum(1 for item in items if item.yours),
            "viewer_zone": zone,
            "platform_name": platform_name,
            "language": request.state.language,
        },
    )


@router.post("/w/{slug}/publish/approvals/{variant_id}")
def approvals_decide(
    request: Request, membership: Approver, db: Db, variant_id: int, form: SubmittedForm
) -> Response:
    """Approve or reject a variant's next step from the queue; HTMX gets the row back."""
    _approver(db, membership)
    variant = _variant(db, membership, variant_id)
    post = variant.post
    decision = form_value(form, "decision")
    approved = decision == "approve"
    error = _decide(request, db, membership, variant, decision, form_value(form, "comment"))
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(
            f"/w/{membership.workspace.slug}/publish/approvals", status_code=303
        )
    db.refresh(variant)
    return render(
        request,
        "publishing/_approval_done.html",
        {
            "slug": membership.workspace.slug,
            "variant": variant,
            "post": post,
            "approved": approved,
            "complete": variant.state == VariantState.APPROVED,
            "error": error,
        },
    )


def _decide(
    request: Request,
    db: Session,
    membership: Membership,
    variant: Variant,
    decision: str,
    comment: str,
) -> str:
    """Record the decision; the error to show in the row, or "" when it was recorded."""
    i18n.set_language(request.state.language)
    if decision not in {"approve", "reject"}:
        return i18n.gettext(N_("Choose Approve or Reject."))
    try:
        approvals.decide(
            db,
            variant=variant,
            post=variant.post,
            membership=membership,
            approved=decision == "approve",
            comment=comment,
            settings=app_settings(request),
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return exc.translated(i18n.gettext)
    return ""


def queue_context(request: Request, base: Mapping[str, Any]) -> dict[str, Any]:
    """``approvals_waiting`` for the nav: what waits for the signed-in approver's decision,
    or None for someone who does not approve here (then the entry is not shown)."""
    user, workspace = base.get("user"), base.get("nav_workspace")
    if user is None or workspace is None or renders_a_fragment(request):
        return {"approvals_waiting": None}
    cached = getattr(request.state, "approvals_waiting", -1)
    if cached != -1:
        return {"approvals_waiting": cached}
    db = object_session(user)
    if db is None or not db.is_active:
        return {"approvals_waiting": None}
    with db.no_autoflush:
        membership = next(
            (m for m in base.get("memberships", ()) if m.workspace_id == workspace.id), None
        ) or db.scalar(
            select(Membership).where(
                Membership.user_id == user.id, Membership.workspace_id == workspace.id
            )
        )
        count = queue.badge_count(db, membership=membership) if membership is not None else None
    request.state.approvals_waiting = count
    return {"approvals_waiting": count}


def set_up(app: FastAPI) -> None:
    """The nav's Approvals entry and its badge on every page."""
    register_context(app, queue_context)
