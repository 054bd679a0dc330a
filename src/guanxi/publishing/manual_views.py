"""The guided manual path: the copy-ready package of a variant that a person posts by hand.

``/w/{slug}/publish/manual/{variant_id}`` shows the final text (with a copy button), the
media to download, who it is assigned to and by when, a QR code that opens the package on
a phone, and a form to paste the live URL. The phone link ``/m/{token}`` is signed, names
one variant of one workspace, is read-only, and expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission, User, Workspace
from guanxi.catalog.service import get_catalog
from guanxi.channels.models import Channel
from guanxi.connectors.base import Capability
from guanxi.connectors.registry import connector_capabilities
from guanxi.core import fields, i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.settings import Settings, get_settings
from guanxi.publishing.media import media_path
from guanxi.publishing.models import (
    TARGET_STATE_LABELS,
    MediaAsset,
    Post,
    Variant,
    VariantState,
)
from guanxi.publishing.outcomes import complete_manual_variant
from guanxi.web import zones
from guanxi.web.deps import Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


PHONE_LINK_LIFETIME = timedelta(hours=48)
PHONE_LINK_SALT = "guanxi.manual-package.v1"
# States in which a person is expected to post the variant and paste its URL.
AWAITING_PERSON = frozenset({VariantState.PROCESSING, VariantState.NEEDS_ATTENTION})
LIVE_URL_MAX_LENGTH = 1000
# The phone page carries a credential in its URL: keep it out of caches, referrers, indexes.
PHONE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


class LinkExpiredError(UserError):
    """A phone link past its lifetime."""

    status_code = 410


NOT_MANUAL = N_("No post waiting to be posted by hand has this number in this workspace.")
BAD_LINK = N_("This link is not valid. Scan the QR code on the package page again.")
EXPIRED_LINK = N_(
    "This link has expired. Open the package in guanxi and scan its QR code again for a new one."
)


@dataclass(frozen=True)
class ManualPackage:
    """Everything a person needs to post one variant by hand."""

    variant: Variant
    post: Post
    channel: Channel
    workspace: Workspace
    platform_name: str
    media: list[MediaAsset]
    assignee: User | None


def load_package(db: Session, *, workspace_id: int, variant_id: int) -> ManualPackage:
    """The package of a manual variant of this workspace; NotFound for anything else."""
    variant = db.get(Variant, variant_id)
    if variant is None or variant.workspace_id != workspace_id:
        raise NotFoundError(NOT_MANUAL)
    channel = db.get_one(Channel, variant.channel_id)
    # As for the engine: a connector that cannot follow a publish hands it to a person.
    capabilities = connector_capabilities({channel.connector}, get_settings())
    if Capability.PUBLISH_STATUS in capabilities.get(
        channel.connector, {Capability.PUBLISH_STATUS}
    ):
        raise NotFoundError(NOT_MANUAL)
    wanted = [*variant.media_ids]
    if variant.cover_media_id is not None and variant.cover_media_id not in wanted:
        wanted.append(variant.cover_media_id)
    found = {
        asset.id: asset
        for asset in db.scalars(
            select(MediaAsset).where(
                MediaAsset.id.in_(wanted), MediaAsset.workspace_id == workspace_id
            )
        )
    }
    platform = get_catalog().get(channel.platform)
    if platform is None:
        platform_name = channel.platform
    else:
        zh = i18n.current_language() == "zh_Hans"
        platform_name = platform.name_zh if zh else platform.name_en
    return ManualPackage(
        variant=variant,
        post=db.get_one(Post, variant.post_id),
        channel=channel,
        workspace=db.get_one(Workspace, workspace_id),
        platform_name=platform_name,
        media=[found[i] for i in wanted if i in found],
        assignee=db.get(User, variant.assignee_id) if variant.assignee_id else None,
    )


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=PHONE_LINK_SALT)


def phone_link_token(
    variant: Variant,
    *,
    secret_key: str,
    now: datetime,
    lifetime: timedelta = PHONE_LINK_LIFETIME,
) -> str:
    """A signed token naming the variant and its workspace, valid until ``now + lifetime``."""
    expires = int((now + lifetime).timestamp())
    return _serializer(secret_key).dumps({"t": variant.id, "w": variant.workspace_id, "e": expires})


def read_phone_link_token(token: str, *, secret_key: str, now: datetime) -> tuple[int, int]:
    """The (workspace id, variant id) a token names; raises if forged or expired."""
    try:
        data = _serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise NotFoundError(BAD_LINK) from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in "twe"):
        raise NotFoundError(BAD_LINK)
    if now.timestamp() >= data["e"]:
        raise LinkExpiredError(EXPIRED_LINK)
    return data["w"], data["t"]


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of ``url`` (generated here: no third-party service sees it)."""
    qr = segno.make(url, error="m")
    return Markup(qr.svg_inline(scale=4, border=2, dark="#111", light="#fff"))  # noqa: S704 - segno's own SVG, no user markup


def _zone(name: str | None, fallback: str) -> str:
    for candidate in (name, fallback):
        if candidate and fields.zone_or_none(candidate) is not None:
            return candidate
    return "Asia/Shanghai"


def _context(package: ManualPackage) -> dict[str, Any]:
    """What both the package page and the phone page show."""
    variant = package.variant
    return {
        "package": package,
        "variant": variant,
        "state_label": TARGET_STATE_LABELS[VariantState(variant.state)],
        "account_zone": _zone(package.channel.timezone, package.workspace.timezone),
        "media_names": {asset.id: Path(asset.filename).name for asset in package.media},
        "due_iso": variant.due_at.isoformat() if variant.due_at else "",
        "is_late": bool(
            variant.due_at
            and variant.due_at < utcnow()
            and VariantState(variant.state) in AWAITING_PERSON
        ),
    }


def _package_page(
    request: Request,
    db: Session,
    membership: Membership,
    variant_id: int,
    *,
    error: str = "",
    live_url: str = "",
    status_code: int = 200,
) -> Response:
    i18n.set_language(request.state.language)
    package = load_package(db, workspace_id=membership.workspace_id, variant_id=variant_id)
    settings = app_settings(request)
    token = phone_link_token(
        package.variant, secret_key=settings.resolved_secret_key(), now=utcnow()
    )
    phone_url = f"{settings.base_url.rstrip('/')}/m/{token}"
    return render(
        request,
        "publishing/manual.html",
        {
            **_context(package),
            "section": "publish",
            "slug": membership.workspace.slug,
            "viewer_zone": zones.viewer_zone(request, membership.workspace.timezone)[0],
            "phone_url": phone_url,
            "qr": qr_svg(phone_url),
            "phone_link_hours": int(PHONE_LINK_LIFETIME.total_seconds() // 3600),
            "can_write": membership.can(Permission.WRITE),
            "awaiting": VariantState(package.variant.state) in AWAITING_PERSON,
            "error": error,
            "live_url": live_url,
            "live_url_max": LIVE_URL_MAX_LENGTH,
        },
        status_code=status_code,
    )


def _file(asset: MediaAsset, settings: Settings) -> FileResponse:
    root = settings.data_dir.resolve()
    path = media_path(asset, settings.data_dir).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError(N_("This file is no longer in the media library."))
    return FileResponse(path, media_type=asset.content_type, filename=Path(asset.filename).name)


def _asset_of(package: ManualPackage, media_id: int) -> MediaAsset:
    asset = next((a for a in package.media if a.id == media_id), None)
    if asset is None:
        raise NotFoundError(N_("This file is not part of the package."))
    return asset


@router.get("/w/{slug}/publish/manual/{variant_id}")
def package_page(request: Request, variant_id: int, membership: Member, db: Db) -> Response:
    """The copy-ready package of a variant posted by hand."""
    return _package_page(request, db, membership, variant_id)


@router.get("/w/{slug}/publish/manual/{variant_id}/media/{media_id}")
def package_media(
    request: Request, variant_id: int, media_id: int, membership: Member, db: Db
) -> Response:
    """Download one file of the package."""
    package = load_package(db, workspace_id=membership.workspace_id, variant_id=variant_id)
    return _file(_asset_of(package, media_id), app_settings(request))


@router.post("/w/{slug}/publish/manual/{variant_id}/done")
def mark_done(
    request: Request,
    variant_id: int,
    membership: Writer,
    db: Db,
    live_url: Annotated[str, Form(max_length=LIVE_URL_MAX_LENGTH)] = "",
) -> Response:
    """The person posted it: record the live URL (checked against the platform's site)."""
    package = load_package(db, workspace_id=membership.workspace_id, variant_id=variant_id)
    try:
        complete_manual_variant(
            db, variant=package.variant, live_url=live_url, actor=membership.user
        )
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        return _package_page(
            request,
            db,
            membership,
            variant_id,
            error=exc.translated(i18n.gettext),
            live_url=live_url,
            status_code=400,
        )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/publish/manual/{variant_id}", status_code=303
    )


def _phone_package(request: Request, db: Session, token: str) -> ManualPackage:
    workspace_id, variant_id = read_phone_link_token(
        token, secret_key=app_settings(request).resolved_secret_key(), now=utcnow()
    )
    return load_package(db, workspace_id=workspace_id, variant_id=variant_id)


@router.get("/m/{token}")
def phone_page(request: Request, token: str, db: Db) -> Response:
    """The package on a phone, without signing in: read-only, for one variant."""
    i18n.set_language(request.state.language)
    try:
        package = _phone_package(request, db, token)
    except UserError as exc:
        response = render(
            request,
            "publishing/manual_phone_error.html",
            {"message": exc.translated(i18n.gettext)},
            status_code=exc.status_code,
        )
        response.headers.update(PHONE_HEADERS)
        return response
    response = render(
        request, "publishing/manual_phone.html", {**_context(package), "token": token}
    )
    response.headers.update(PHONE_HEADERS)
    return response


@router.get("/m/{token}/media/{media_id}")
def phone_media(request: Request, token: str, media_id: int, db: Db) -> Response:
    """Download one file of the package from the phone link."""
    package = _phone_package(request, db, token)
    response = _file(_asset_of(package, media_id), app_settings(request))
    response.headers.update(PHONE_HEADERS)
    return response
