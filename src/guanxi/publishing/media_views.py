"""The media library pages: upload, list, and files served to members of the workspace only."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import require
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.publishing import media
from guanxi.publishing.models import MediaAsset
from guanxi.web.deps import Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.limits import body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _media_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    messages: list[str] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "publishing/media.html",
        {
            "section": "publish",
            "assets": media.list_media(db, workspace=membership.workspace),
            "can_write": membership.can(Permission.WRITE),
            "limits": {kind.value: size // media.MB for kind, size in media.MAX_BYTES.items()},
            "formats": media.ACCEPTED_LABELS,
            "messages": messages or [],
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/media")
def media_page(request: Request, db: Db, membership: Member) -> Response:
    """The workspace's media library."""
    return _media_page(request, db, membership)


@router.post("/w/{slug}/media", openapi_extra=body_limit(media.MAX_UPLOAD_REQUEST_BYTES))
async def media_upload(request: Request, db: Db, membership: Writer) -> Response:
    """Upload one or more files; each bad file is explained, the good ones are kept."""
    async with request.form() as form:
        uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
        # Hashing and decoding large files would block the event loop: do it in a thread.
        messages, errors = await run_in_threadpool(_store_uploads, request, db, membership, uploads)
    return _media_page(
        request,
        db,
        membership,
        messages=messages,
        errors=errors,
        status_code=400 if errors and not messages else 200,
    )


def _store_uploads(
    request: Request, db: Session, membership: Membership, uploads: list[UploadFile]
) -> tuple[list[str], list[str]]:
    i18n.set_language(request.state.language)
    messages: list[str] = []
    errors: list[str] = []
    named = [upload for upload in uploads if upload.filename]
    if not named:
        errors.append(i18n.gettext(N_("Choose at least one image or video to upload.")))
    for upload in named:
        try:
            asset, new = media.store_media(
                db,
                workspace=membership.workspace,
                filename=upload.filename or "",
                stream=upload.file,
                data_dir=app_settings(request).data_dir,
                actor=membership.user,
            )
            db.commit()
        except UserError as exc:
            db.rollback()
            errors.append(exc.translated(i18n.gettext))
            continue
        template = N_("Added {name}.") if new else N_("{name} is already in the library.")
        messages.append(i18n.gettext(template).format(name=asset.filename))
    return messages, errors


def file_response(asset: MediaAsset, data_dir: Path) -> Response:
    """The asset's file, private to whoever was allowed to ask for it.

    Its type is the one recognised at upload, browsers may not guess another (nosniff),
    and opened on its own it downloads rather than renders: <img> and <video> still show it.
    """
    path = media.media_path(asset, data_dir)
    if not path.is_file():
        raise media.media_not_found()
    return FileResponse(
        path,
        media_type=asset.content_type,
        filename=asset.filename,
        content_disposition_type="attachment",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/w/{slug}/media/{media_id}/file")
def media_download(request: Request, db: Db, membership: Member, media_id: int) -> Response:
    """A library file, for members of its workspace only."""
    require(membership, Permission.READ)
    asset = media.get_media(db, workspace=membership.workspace, media_id=media_id)
    return file_response(asset, app_settings(request).data_dir)
