"""The conversions API: ``/api/v1/w/{slug}/links`` (tracked links: list them with their
clicks, make one) and ``/api/v1/w/{slug}/conversions`` (an order from the brand's own shop
or mini program, idempotent on its order id).

The same services as the pages; for a token of the workspace (writing needs write access).
"""

from __future__ import annotations

from fastapi import Request

from guanxi.convert import links
from guanxi.convert.models import (
    ConversionCreate,
    ConversionRead,
    LinkCreate,
    LinkRead,
    TrackedLink,
)
from guanxi.convert.orders import service as orders
from guanxi.web.api import ApiReader, ApiWriter, workspace_api
from guanxi.web.deps import Db, app_settings

router = workspace_api("links", tags=["links"])
conversions_router = workspace_api("conversions", tags=["conversions"])


def _read(request: Request, link: TrackedLink, counts: links.LinkCounts) -> LinkRead:
    return LinkRead(
        id=link.id,
        key=link.key,
        short_url=links.short_url(app_settings(request), link.key),
        url=link.original_url,
        destination=link.destination,
        label=link.label,
        campaign_id=link.campaign_id,
        post_id=link.post_id,
        created_at=link.created_at,
        clicks=counts.counted,
        all_clicks=counts.visits,
        bot_clicks=counts.bots,
    )


@router.get("", response_model=list[LinkRead])
def list_links_api(request: Request, membership: ApiReader, db: Db) -> list[LinkRead]:
    """The workspace's tracked links, newest first, with their clicks."""
    rows = links.list_links(db, workspace_id=membership.workspace_id)
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
    return _read(request, link, links.LinkCounts())


@conversions_router.post("", response_model=ConversionRead)
def record_conversion(body: ConversionCreate, membership: ApiWriter, db: Db) -> ConversionRead:
    """Record an order; posting the same order id again updates it (status, refunds) and
    adds nothing, so a shop may retry freely."""
    stored = orders.record_conversion(db, workspace_id=membership.workspace_id, conversion=body)
    db.commit()
    return stored
