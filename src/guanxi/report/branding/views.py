"""The report branding page: the logo, colours and PowerPoint master of a workspace's reports.
Managers and owners change it; it is their brand's face to head office."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.report.branding import service
from guanxi.report.branding.models import (
    LOGO_MAX_BYTES,
    LOGO_MAX_SIDE,
    TEMPLATE_MAX_BYTES,
)
from guanxi.report.files.labels import logo_data_uri
from guanxi.web.deps import Approver, CurrentUser, Db, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value, with_upload
from guanxi.web.limits import UPLOAD_FORM_OVERHEAD, body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

NO_FILE = N_("Choose a file to upload.")
PARTS = ("logo", "template", "colours")


def _root(membership: Membership) -> str:
    return f"/w/{membership.workspace.slug}/reports/branding"


def _page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str = "",
    colours: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    kept = service.get_brand(db, workspace=membership.workspace)
    brand = service.brand_of(db, workspace=membership.workspace)
    context: dict[str, Any] = {
        "section": "reports",
        "brand": brand,
        "logo": logo_data_uri(brand),
        "template_name": kept.template_name if kept is not None else "",
        "colours": colours or {"primary": brand.primary_colour, "accent": brand.accent_colour},
        "error": error,
        "limits": {
            "logo_kb": LOGO_MAX_BYTES // 1000,
            "logo_side": LOGO_MAX_SIDE,
            "template_mb": TEMPLATE_MAX_BYTES // 1_000_000,
        },
    }
    return render(request, "report/branding.html", context, status)


@router.get("/w/{slug}/reports/branding")
def branding_page(request: Request, db: Db, membership: Approver) -> Response:
    """The workspace's report branding, and the forms that change it."""
    return _page(request, db, membership)


@router.post("/w/{slug}/reports/branding/colours")
def branding_colours(
    request: Request, db: Db, user: CurrentUser, membership: Approver, form: SubmittedForm
) -> Response:
    """Set the reports' primary and accent colours."""
    colours = {"primary": form_value(form, "primary"), "accent": form_value(form, "accent")}
    try:
        service.set_colours(
            db,
            workspace=membership.workspace,
            actor=user,
            primary=colours["primary"],
            accent=colours["accent"],
        )
    except UserError as exc:
        db.rollback()
        error = exc.translated(i18n.gettext)
        return _page(request, db, membership, error=error, colours=colours, status=400)
    db.commit()
    return RedirectResponse(_root(membership), status_code=303)


def _read(upload: UploadFile | None, limit: int) -> bytes:
    """The upload's bytes, at most ``limit`` + 1 (the service says when it is too big)."""
    if upload is None or not upload.filename:
        raise UserError(NO_FILE)
    return upload.file.read(limit + 1)


def _save(
    request: Request,
    db: Session,
    user: Any,
    membership: Membership,
    part: str,
    _values: dict[str, str],
    upload: UploadFile | None,
) -> Response:
    try:
        if part == "logo":
            content = _read(upload, LOGO_MAX_BYTES)
            service.set_logo(db, workspace=membership.workspace, actor=user, content=content)
        else:
            content = _read(upload, TEMPLATE_MAX_BYTES)
            name = upload.filename if upload is not None and upload.filename else ""
            service.set_template(
                db, workspace=membership.workspace, actor=user, content=content, name=name
            )
    except UserError as exc:
        db.rollback()
        return _page(request, db, membership, error=exc.translated(i18n.gettext), status=400)
    db.commit()
    return RedirectResponse(_root(membership), status_code=303)


@router.post(
    "/w/{slug}/reports/branding/logo",
    openapi_extra=body_limit(LOGO_MAX_BYTES + UPLOAD_FORM_OVERHEAD),
)
async def branding_logo(
    request: Request, db: Db, user: CurrentUser, membership: Approver
) -> Response:
    """Upload the reports' logo: a PNG, JPEG or SVG."""
    return await with_upload(request, (), partial(_save, request, db, user, membership, "logo"))


@router.post(
    "/w/{slug}/reports/branding/template",
    openapi_extra=body_limit(TEMPLATE_MAX_BYTES + UPLOAD_FORM_OVERHEAD),
)
async def branding_template(
    request: Request, db: Db, user: CurrentUser, membership: Approver
) -> Response:
    """Upload the PowerPoint master the reports' decks are laid out on."""
    return await with_upload(request, (), partial(_save, request, db, user, membership, "template"))


@router.post("/w/{slug}/reports/branding/remove")
def branding_remove(
    request: Request, db: Db, user: CurrentUser, membership: Approver, form: SubmittedForm
) -> Response:
    """Go back to the default logo (none), colours or PowerPoint layout."""
    part = form_value(form, "part")
    if part not in PARTS:
        return _page(
            request,
            db,
            membership,
            error=i18n.gettext(N_("Choose what to remove: the logo, the template or the colours.")),
            status=400,
        )
    service.remove(db, workspace=membership.workspace, actor=user, what=part)
    db.commit()
    return RedirectResponse(_root(membership), status_code=303)
