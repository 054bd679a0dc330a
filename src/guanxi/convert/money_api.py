"""The money API of conversions: ``/api/v1/w/{slug}/costs`` (list, record: idempotent on
the cost's natural key), ``/kols`` and ``/promo-codes`` (list, add), and ``/revenue`` (a
period's report with costs, ROAS and cost per order, under the workspace's defaults unless
the query names a window).

The same services as the pages; for a token of the workspace (writing needs write access).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query

from guanxi.convert import costs, kols, reports
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.convert.models import (
    CostCreate,
    CostEntry,
    CostRead,
    Kol,
    KolCreate,
    KolRead,
    PromoCodeCreate,
    PromoCodeRead,
)
from guanxi.core.db import utcnow
from guanxi.web.api import ApiReader, ApiWriter, workspace_api
from guanxi.web.deps import Db

costs_router = workspace_api("costs", tags=["costs"])
kols_router = workspace_api("kols", tags=["kols"])
codes_router = workspace_api("promo-codes", tags=["kols"])
revenue_router = workspace_api("revenue", tags=["revenue"])


def _cost_read(entry: CostEntry, *, created: bool = True) -> CostRead:
    return CostRead(
        id=entry.id,
        target=entry.target,
        campaign_id=entry.campaign_id,
        kol_id=entry.kol_id,
        post_id=entry.post_id,
        platform=entry.platform,
        kind=entry.kind,
        amount=entry.amount_fen / 100,
        currency=entry.currency,
        starts_on=entry.starts_on,
        ends_on=entry.ends_on,
        note=entry.note,
        natural_key=entry.natural_key,
        created=created,
    )


@costs_router.get("", response_model=list[CostRead])
def list_costs_api(membership: ApiReader, db: Db) -> list[CostRead]:
    """The workspace's costs, latest days first (at most 500)."""
    return [
        _cost_read(entry) for entry in costs.list_costs(db, workspace_id=membership.workspace_id)
    ]


@costs_router.post("", response_model=CostRead, status_code=201)
def record_cost_api(body: CostCreate, membership: ApiWriter, db: Db) -> CostRead:
    """Record a cost; the same cost (what it is for, its kind and days) posted again updates
    its amount and note and adds nothing (``created`` is then false)."""
    entry, created = costs.record_cost(
        db,
        workspace_id=membership.workspace_id,
        cost=costs.CostInput(
            target=body.target,
            kind=body.kind,
            amount_fen=round(body.amount * 100),
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            campaign_id=body.campaign_id,
            kol_id=body.kol_id,
            post_id=body.post_id,
            platform=body.platform.strip().lower(),
            currency=body.currency,
            note=body.note,
        ),
    )
    db.commit()
    return _cost_read(entry, created=created)


def _kol_read(kol: Kol) -> KolRead:
    return KolRead(
        id=kol.id,
        name=kol.name,
        platform=kol.platform,
        handle=kol.handle,
        created_at=kol.created_at,
    )


@kols_router.get("", response_model=list[KolRead])
def list_kols_api(membership: ApiReader, db: Db) -> list[KolRead]:
    """The workspace's KOLs by name."""
    return [_kol_read(kol) for kol in kols.list_kols(db, workspace_id=membership.workspace_id)]


@kols_router.post("", response_model=KolRead, status_code=201)
def create_kol_api(body: KolCreate, membership: ApiWriter, db: Db) -> KolRead:
    """Add a KOL; a ``fee`` is recorded as their KOL-fee cost of ``fee_on`` (today when
    empty, in UTC)."""
    kol = kols.create_kol(
        db,
        workspace_id=membership.workspace_id,
        name=body.name,
        platform=body.platform,
        handle=body.handle,
        fee_fen=None if body.fee is None else round(body.fee * 100),
        fee_on=body.fee_on or utcnow().date(),
    )
    db.commit()
    return _kol_read(kol)


@codes_router.get("", response_model=list[PromoCodeRead])
def list_codes_api(membership: ApiReader, db: Db) -> list[PromoCodeRead]:
    """The workspace's promo codes, newest first, with the paid orders that carried them."""
    return [
        PromoCodeRead(
            id=use.code.id,
            code=use.code.code,
            kol_id=use.code.kol_id,
            campaign_id=use.code.campaign_id,
            uses=use.uses,
            revenue=use.revenue,
            created_at=use.code.created_at,
        )
        for use in kols.code_uses(db, workspace_id=membership.workspace_id)
    ]


@codes_router.post("", response_model=PromoCodeRead, status_code=201)
def create_code_api(body: PromoCodeCreate, membership: ApiWriter, db: Db) -> PromoCodeRead:
    """Give a KOL (and a campaign) a promo code: unique in the workspace whatever its case
    (409 when taken), 3 to 40 letters, digits, - or _."""
    promo = kols.create_code(
        db,
        workspace_id=membership.workspace_id,
        code=body.code,
        kol_id=body.kol_id,
        campaign_id=body.campaign_id,
    )
    db.commit()
    return PromoCodeRead(
        id=promo.id,
        code=promo.code,
        kol_id=promo.kol_id,
        campaign_id=promo.campaign_id,
        uses=0,
        revenue=0,
        created_at=promo.created_at,
    )


@revenue_router.get("")
def revenue_api(
    membership: ApiReader,
    db: Db,
    first: Annotated[date, Query(alias="from", description="First day (YYYY-MM-DD).")],
    last: Annotated[date, Query(alias="to", description="Last day, included.")],
    model: AttributionModel = AttributionModel.LAST_TOUCH,
    window: Annotated[
        int | None, Query(description="7, 15 or 30 days; the workspace's default when empty.")
    ] = None,
) -> dict[str, Any]:
    """Revenue, orders, costs, ROAS and cost per order per campaign, post, KOL and platform
    (attributed, under ``model`` and the window), with the unattributed orders."""
    workspace = membership.workspace
    report = reports.revenue_report(
        db,
        workspace_id=workspace.id,
        first_day=first,
        last_day=last,
        zone=workspace.timezone,
        model=model,
        window_days=window,
    )
    return reports.report_document(report, workspace=workspace.slug, zone=workspace.timezone)
