"""The workspace's retention page (``/w/{slug}/settings/retention``): how long each kind of
raw row is kept, what its deletions did; owners change the periods."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.retention import service
from guanxi.web.deps import Db, Owner, Reader, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def parse_keep_days(text: str) -> int | None:
    """A form's period: empty means forever; anything else must be a whole number of days."""
    text = text.strip()
    if not text:
        return None
    # isdigit alone takes ³ and other digits int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise UserError(
            N_("Enter a whole number of days, or leave the field empty to keep the data forever.")
        )
    return int(text)


def _page(
    request: Request, db: Session, membership: Membership, *, error: str = "", saved: bool = False
) -> Response:
    return render(
        request,
        "retention/settings.html",
        {
            "section": "settings",
            "slug": membership.workspace.slug,
            "kinds": service.workspace_retention(db, workspace_id=membership.workspace_id),
            "can_change": membership.can(Permission.MANAGE_MEMBERS),
            "error": error,
            "saved": saved,
        },
        status_code=400 if error else 200,
    )


@router.get("/w/{slug}/settings/retention")
def retention_page(request: Request, db: Db, membership: Reader) -> Response:
    """How long the workspace keeps each kind of raw row."""
    return _page(request, db, membership, saved=request.query_params.get("saved") == "1")


@router.post("/w/{slug}/settings/retention")
def retention_save(request: Request, db: Db, membership: Owner, form: SubmittedForm) -> Response:
    """Save every kind's period (owners); a refused one keeps nothing of the form."""
    try:
        for shown in service.workspace_retention(db, workspace_id=membership.workspace_id):
            field = f"keep_days.{shown.kind.key}"
            if field not in form:
                continue
            service.set_retention(
                db,
                workspace=membership.workspace,
                actor=membership.user,
                kind=shown.kind.key,
                keep_days=parse_keep_days(form_value(form, field)),
            )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return _page(request, db, membership, error=exc.translated(i18n.gettext))
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/settings/retention?saved=1", status_code=303
    )
