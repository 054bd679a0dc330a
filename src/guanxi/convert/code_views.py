"""The scene codes page: make a WeChat QR code, mini-program code or URL Link for an
account, a campaign, a post or a KOL; see what each brought (scans, follows, orders); and
download its printable poster (PNG, SVG, PDF).

Reading is for every member; making and archiving codes need write access.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Membership, Permission
from guanxi.convert import codes, flows, pages
from guanxi.convert.attribution.engine import attribute
from guanxi.convert.models import Kol
from guanxi.convert.posters import MEDIA_TYPES, PosterFormat, PosterText, poster
from guanxi.convert.scene_models import CodeKind, SceneCode
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings
from guanxi.web.deps import Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SECTION = "convert"
FIELDS = (
    "kind",
    "channel_id",
    "label",
    "campaign_id",
    "post_id",
    "kol_id",
    "days",
    "page",
    "width",
)
ORDERS_OVER = timedelta(days=90)  # the list's orders: last touch, 30-day window, 90 days
MSG_KIND = N_(
    "Choose what to make: a temporary or permanent QR code, a mini-program code or a URL Link."
)
MSG_NUMBER = N_("{field} must be a whole number.")
POSTER_HINT = N_("Scan with WeChat")


@contextmanager
def maker(request: Request, db: Session) -> Iterator[codes.MakerFor]:
    """The channels' connectors with this app's settings, for as long as a request needs."""
    sessions = sessionmaker(bind=db.get_bind(), expire_on_commit=False)
    with httpx.Client(timeout=30.0) as http:
        yield codes.maker_for_channels(
            settings=app_settings(request), http=http, sessions=sessions, owner="convert-web"
        )


def code_orders(db: Session, workspace_id: int) -> dict[int | None, float]:
    """Orders credited to each code over the last 90 days (last touch, 30-day window)."""
    now = utcnow()
    result = attribute(db, workspace_id=workspace_id, start=now - ORDERS_OVER, end=now)
    return {code_id: credit.orders for code_id, credit in result.by_code.items()}


def kols(db: Session, workspace_id: int) -> list[Kol]:
    """The workspace's KOLs by name."""
    return list(db.scalars(select(Kol).where(Kol.workspace_id == workspace_id).order_by(Kol.name)))


def parse_input(values: dict[str, str]) -> codes.CodeInput:
    """The code a form asks for; a UserError for what cannot be read."""
    try:
        kind = CodeKind(values["kind"])
    except ValueError:
        raise UserError(MSG_KIND) from None
    numbers: dict[str, int] = {}
    for name, label, default in (("days", N_("Days"), 30), ("width", N_("Width"), 430)):
        text = values.get(name, "").strip()
        if not text:
            numbers[name] = default
            continue
        if not text.isascii() or not text.isdigit() or len(text) > 6:
            raise UserError(MSG_NUMBER, field=i18n.gettext(label))
        numbers[name] = int(text)
    return codes.CodeInput(
        kind=kind,
        channel_id=parse_id(values["channel_id"]) or 0,
        label=values["label"],
        campaign_id=parse_id(values["campaign_id"]),
        post_id=parse_id(values["post_id"]),
        kol_id=parse_id(values["kol_id"]),
        days=numbers["days"],
        page=values["page"].strip(),
        width=numbers["width"],
    )


def _page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace_id = membership.workspace_id
    settings: Settings = app_settings(request)
    channels = codes.code_channels(db, workspace_id, codes.code_connectors(settings))
    context: dict[str, Any] = {
        "section": SECTION,
        "rows": codes.list_codes(db, workspace_id=workspace_id),
        "orders": code_orders(db, workspace_id),
        "channels": channels,
        "channel_names": {channel.id: channel.name for channel in channels},
        "campaigns": flows.campaigns(db, workspace_id),
        "posts": flows.recent_posts(db, workspace_id),
        "kols": kols(db, workspace_id),
        "names": flows.names_of(db, workspace_id),
        "kinds": [(kind.value, codes.KIND_TITLES[kind]) for kind in CodeKind],
        "kind_names": {kind.value: codes.KIND_TITLES[kind] for kind in CodeKind},
        "pool": {c.id: codes.permanent_in_use(db, c.id) for c in channels},
        "can_write": membership.can(Permission.WRITE),
        "values": values or {"kind": CodeKind.QR_TEMPORARY.value, "days": "30", "width": "430"},
        "error": error,
        "made": parse_id(request.query_params.get("made")),
        "formats": list(PosterFormat),
    }
    return render(request, "convert/codes.html", context, status_code=status_code)


@router.get("/w/{slug}/codes")
def codes_page(request: Request, membership: Member, db: Db) -> Response:
    """The workspace's scene codes with what they brought, and the form to make one."""
    return _page(request, db, membership)


@router.post("/w/{slug}/codes")
def make_code(request: Request, membership: Writer, db: Db, form: SubmittedForm) -> Response:
    """Make a code on its account; the page then offers its poster."""
    values = {name: form_value(form, name) for name in FIELDS}

    def change() -> str:
        with maker(request, db) as maker_for:
            row = codes.create_code(
                db,
                workspace_id=membership.workspace_id,
                code=parse_input(values),
                maker_for=maker_for,
                created_by_id=membership.user_id,
            )
        return f"/w/{membership.workspace.slug}/codes?made={row.id}"

    return pages.form_post(request, db, membership, page=_page, values=values, change=change)


@router.post("/w/{slug}/codes/{code_id}/archive")
def archive(membership: Writer, db: Db, code_id: int) -> Response:
    """Take a code off the list (its scans stay; a permanent scene returns to the pool)."""
    row = codes.get_code(db, workspace_id=membership.workspace_id, code_id=code_id)
    codes.archive_code(row)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/codes", status_code=303)


def poster_text(db: Session, membership: Membership, row: SceneCode) -> PosterText:
    """The brand above the code, its campaign (or label, or post) below."""
    campaign_names, post_titles = flows.names_of(db, membership.workspace_id)
    caption = (
        campaign_names.get(row.campaign_id or 0)
        or row.label
        or post_titles.get(row.post_id or 0)
        or ""
    )
    return PosterText(
        brand=membership.workspace.name, caption=caption, hint=i18n.gettext(POSTER_HINT)
    )


@router.get("/w/{slug}/codes/{code_id}/poster.{kind}")
def download_poster(membership: Member, db: Db, code_id: int, kind: str) -> Response:
    """The code's printable poster as PNG, SVG or PDF."""
    try:
        chosen = PosterFormat(kind)
    except ValueError:
        return Response(status_code=404)
    row = codes.get_code(db, workspace_id=membership.workspace_id, code_id=code_id)
    body = poster(row, poster_text(db, membership, row), chosen)
    name = f"guanxi-code-{row.scene}.{chosen.value}"
    return Response(
        body,
        media_type=MEDIA_TYPES[chosen],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
