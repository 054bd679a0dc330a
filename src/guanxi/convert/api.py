"""The conversions API: ``/api/v1/w/{slug}/links`` (tracked links: list them with their
clicks, make one), ``/api/v1/w/{slug}/codes`` (WeChat scene codes: list them with their
scans, follows and orders, make one) and ``/api/v1/w/{slug}/conversions`` (an order from
the brand's own shop or mini program, idempotent on its order id).

The same services as the pages; for a token of the workspace (writing needs write access).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from guanxi.convert import code_views, codes, kols, links
from guanxi.convert.models import (
    ConversionCreate,
    ConversionRead,
    LinkCreate,
    LinkRead,
    TrackedLink,
)
from guanxi.convert.orders import service as orders
from guanxi.convert.scene_models import CodeCreate, CodeRead, SceneCode
from guanxi.convert.store.base import LinkCounts
from guanxi.web.api import ApiReader, ApiWriter, workspace_api
from guanxi.web.deps import Db, app_settings

router = workspace_api("links", tags=["links"])
conversions_router = workspace_api("conversions", tags=["conversions"])
codes_router = workspace_api("codes", tags=["codes"])


def _read(request: Request, link: TrackedLink, counts: LinkCounts) -> LinkRead:
    return LinkRead(
        id=link.id,
        key=link.key,
        short_url=links.short_url(app_settings(request), link.key),
        url=link.original_url,
        destination=link.destination,
        label=link.label,
        campaign_id=link.campaign_id,
        post_id=link.post_id,
        kol_id=link.kol_id,
        created_at=link.created_at,
        clicks=counts.counted,
        all_clicks=counts.visits,
        bot_clicks=counts.bots,
    )


@router.get("", response_model=list[LinkRead])
def list_links_api(
    request: Request,
    membership: ApiReader,
    db: Db,
    kol_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only this KOL's.")] = None,
) -> list[LinkRead]:
    """The workspace's tracked links (one KOL's, with ``kol_id``), newest first, with their
    clicks."""
    kol = kols.kol_in_workspace(db, membership.workspace_id, kol_id)
    rows = links.list_links(
        db, workspace_id=membership.workspace_id, kol_id=kol.id if kol else None
    )
    return [_read(request, link, counts) for link, counts in rows]


@router.post("", response_model=LinkRead, status_code=201)
def create_link_api(request: Request, body: LinkCreate, membership: ApiWriter, db: Db) -> LinkRead:
    """Make a tracked link; UTM parameters not given come from its campaign and post."""
    link = links.create_link(
        db,
        workspace_id=membership.workspace_id,
        link=links.LinkInput(**body.model_dump()),
        created_by_id=membership.user_id,
    )
    db.commit()
    return _read(request, link, LinkCounts())


@conversions_router.post("", response_model=ConversionRead)
def record_conversion(body: ConversionCreate, membership: ApiWriter, db: Db) -> ConversionRead:
    """Record an order; posting the same order id again updates it (status, refunds) and
    adds nothing, so a shop may retry freely."""
    stored = orders.record_conversion(db, workspace_id=membership.workspace_id, conversion=body)
    db.commit()
    return stored


def _code_read(row: SceneCode, counts: codes.CodeCounts, orders: float) -> CodeRead:
    return CodeRead(
        id=row.id,
        kind=row.kind,
        channel_id=row.channel_id,
        scene=row.scene,
        label=row.label,
        url=row.url,
        campaign_id=row.campaign_id,
        post_id=row.post_id,
        kol_id=row.kol_id,
        expires_at=row.expires_at,
        created_at=row.created_at,
        scans=counts.scans,
        follows=counts.follows,
        orders=round(orders),
    )


@codes_router.get("", response_model=list[CodeRead])
def list_codes_api(membership: ApiReader, db: Db) -> list[CodeRead]:
    """The workspace's live scene codes, newest first, with scans, follows and orders
    (last touch, 30-day window, over 90 days)."""
    orders = code_views.code_orders(db, membership.workspace_id)
    rows = codes.list_codes(db, workspace_id=membership.workspace_id)
    return [_code_read(row, counts, orders.get(row.id, 0.0)) for row, counts in rows]


@codes_router.post("", response_model=CodeRead, status_code=201)
def create_code_api(request: Request, body: CodeCreate, membership: ApiWriter, db: Db) -> CodeRead:
    """Make a scene code on a WeChat account; the platform's limits are checked first."""
    with code_views.maker(request, db) as maker_for:
        row = codes.create_code(
            db,
            workspace_id=membership.workspace_id,
            code=codes.CodeInput(**body.model_dump()),
            maker_for=maker_for,
            created_by_id=membership.user_id,
        )
    db.commit()
    return _code_read(row, codes.CodeCounts(), 0.0)
