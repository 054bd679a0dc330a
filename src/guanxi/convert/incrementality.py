"""Incremental revenue: what a campaign run in some regions and not others added, measured
rather than attributed.

A campaign's treated regions (provinces or cities, as orders name them in ``province``) and
dates are set by a person. The daily paid orders and net revenue of each region, from
``PRE_DAYS`` before the start to the end, go to the difference-in-differences estimator with
placebo intervals (``guanxi.estimates.did``): the treated series is the mean of the treated
regions, the controls are every other region with orders. The effect is per treated region
and day, so the campaign's incremental revenue is it times the treated regions times the
campaign's days, and so are the interval's ends. No identifier is needed: this is the
**incremental** figure, kept apart from the attributed ones.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.convert import flows
from guanxi.convert.models import (
    REGION_MAX,
    REGIONS_MAX,
    CampaignRegions,
    Order,
    OrderRefund,
    OrderStatus,
)
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.estimates.did import EffectEstimate, EstimateError, Wording, estimate_effect

PRE_DAYS = 28  # the days before the start the regions are compared over
MAX_CAMPAIGN_DAYS = 366
MAX_REGIONS = 40
_SEPARATORS = re.compile(r"[,，、;；\s]+")
REGIONS = Wording(
    too_few_controls=N_(
        "An incremental estimate needs at least {min} control regions (regions with orders "
        "where the campaign did not run); there are {count}. Import orders that carry their "
        "province, or run the campaign in fewer regions."
    ),
    too_few_days=N_(
        "An incremental estimate needs at least {pre} days of orders before the campaign's "
        "start and {post} from it; there are {before} and {since}. Choose other dates, or "
        "wait for more days of orders."
    ),
    too_few_placebos=N_(
        "Too few control regions have orders before and after the start ({count}; at least "
        "{min} are needed). Import more days of orders."
    ),
)


@dataclass(frozen=True)
class Incremental:
    """A campaign's incremental revenue and orders with their placebo intervals, or why
    there is none (``error``, a message to translate with ``error_params``)."""

    campaign_id: int
    campaign: str
    regions: list[str]
    starts_on: date
    ends_on: date
    controls: int = 0
    days: int = 0
    revenue: float = 0.0  # yuan over the campaign's days, in all its treated regions
    revenue_low: float = 0.0
    revenue_high: float = 0.0
    orders: float = 0.0
    orders_low: float = 0.0
    orders_high: float = 0.0
    confidence: float = 0.95
    error: str = ""
    error_params: tuple[tuple[str, object], ...] = ()

    def error_text(self, gettext: Callable[[str], str]) -> str:
        """The error in the language of ``gettext`` ("" when there is an estimate)."""
        if not self.error:
            return ""
        return UserError(self.error, **dict(self.error_params)).translated(gettext)

    def as_json(self, gettext: Callable[[str], str]) -> dict[str, object]:
        """The estimate as the report's JSON gives it."""
        return {
            "basis": "incremental",
            "campaign_id": self.campaign_id,
            "campaign": self.campaign,
            "treated_regions": self.regions,
            "control_regions": self.controls,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "days": self.days,
            "confidence": self.confidence,
            "revenue": {
                "estimate": self.revenue,
                "low": self.revenue_low,
                "high": self.revenue_high,
            },
            "orders": {"estimate": self.orders, "low": self.orders_low, "high": self.orders_high},
            "error": self.error_text(gettext) or None,
        }


def today_in(zone: str) -> date:
    """Today in the time zone ``zone``."""
    return utcnow().astimezone(ZoneInfo(zone)).date()


def has_illustrative_orders(db: Session, *, workspace_id: int) -> bool:
    """Whether the workspace's orders include ones the demo made up."""
    found = db.scalar(
        select(Order.id).where(Order.workspace_id == workspace_id, Order.illustrative).limit(1)
    )
    return found is not None


def parse_regions(text: str) -> list[str]:
    """The regions typed (comma, 、 or space separated), each once; a UserError if none,
    too many or too long."""
    regions = list(dict.fromkeys(part for part in _SEPARATORS.split(text.strip()) if part))
    if not regions:
        raise UserError(N_("Name the regions the campaign ran in, e.g. 上海, 浙江."))
    if len(regions) > MAX_REGIONS:
        raise UserError(N_("Name at most {max} regions."), max=MAX_REGIONS)
    for region in regions:
        if len(region) > REGION_MAX:
            raise UserError(
                N_("“{region}” is longer than {max} characters: name a province or city."),
                region=region[:40],
                max=REGION_MAX,
            )
    if len(",".join(regions)) > REGIONS_MAX:
        raise UserError(N_("Name at most {max} regions."), max=MAX_REGIONS)
    return regions


def save_regions(
    db: Session,
    *,
    workspace_id: int,
    campaign_id: int | None,
    regions: str,
    starts_on: date,
    ends_on: date,
) -> CampaignRegions:
    """Set the campaign's treated regions and dates (replacing earlier ones)."""
    campaign = flows.campaign_in_workspace(db, workspace_id, campaign_id)
    if campaign is None:
        raise UserError(N_("Choose the campaign the regions are for."))
    names = parse_regions(regions)
    if ends_on < starts_on:
        raise UserError(N_("The campaign ends before it starts: swap the dates."))
    if (ends_on - starts_on).days >= MAX_CAMPAIGN_DAYS:
        raise UserError(N_("A campaign's dates span at most a year: choose a shorter period."))
    row = db.scalar(select(CampaignRegions).where(CampaignRegions.campaign_id == campaign.id))
    if row is None:
        row = CampaignRegions(workspace_id=workspace_id, campaign_id=campaign.id)
        db.add(row)
    row.regions = ",".join(names)
    row.starts_on, row.ends_on = starts_on, ends_on
    db.flush()
    return row


def daily_by_region(
    db: Session, *, workspace_id: int, first_day: date, last_day: date, zone: str
) -> tuple[dict[str, dict[date, float]], dict[str, dict[date, float]]]:
    """Net revenue (yuan) and paid orders of each region by day, from the first day with an
    order to the last (within ``first_day``..``last_day``), 0 on a day without orders."""
    tz = ZoneInfo(zone)
    start = datetime.combine(first_day, time(), tz)
    end = datetime.combine(last_day + timedelta(days=1), time(), tz)
    refunded = (
        select(
            OrderRefund.source,
            OrderRefund.order_external_id,
            func.sum(OrderRefund.amount_fen).label("fen"),
        )
        .where(OrderRefund.workspace_id == workspace_id)
        .group_by(OrderRefund.source, OrderRefund.order_external_id)
        .subquery()
    )
    rows = db.execute(
        select(Order.province, Order.ordered_at, Order.amount_fen, refunded.c.fen)
        .outerjoin(
            refunded,
            (refunded.c.source == Order.source)
            & (refunded.c.order_external_id == Order.external_id),
        )
        .where(
            Order.workspace_id == workspace_id,
            Order.status == OrderStatus.PAID,
            Order.province != "",
            Order.ordered_at >= start,
            Order.ordered_at < end,
        )
    )
    revenue: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    orders: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    days: set[date] = set()
    for province, ordered_at, amount_fen, refund_fen in rows:
        day = ordered_at.astimezone(tz).date()
        days.add(day)
        revenue[province][day] += max(amount_fen - int(refund_fen or 0), 0) / 100
        orders[province][day] += 1
    if not days:
        return {}, {}
    span = [min(days) + timedelta(days=n) for n in range((max(days) - min(days)).days + 1)]
    return _filled(revenue, span), _filled(orders, span)


def _filled(
    series: dict[str, dict[date, float]], span: Sequence[date]
) -> dict[str, dict[date, float]]:
    return {
        region: {day: by_day.get(day, 0.0) for day in span} for region, by_day in series.items()
    }


def estimate(
    db: Session, *, workspace_id: int, row: CampaignRegions, campaign: str, zone: str, today: date
) -> Incremental:
    """The campaign's incremental revenue and orders, or the reason there are none."""
    base = Incremental(
        campaign_id=row.campaign_id,
        campaign=campaign,
        regions=row.region_list,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
    )
    last_day = min(row.ends_on, today - timedelta(days=1))  # today's orders are not all in
    revenue, orders = daily_by_region(
        db,
        workspace_id=workspace_id,
        first_day=row.starts_on - timedelta(days=PRE_DAYS),
        last_day=max(last_day, row.starts_on),
        zone=zone,
    )
    treated = base.regions
    span = sorted(next(iter(revenue.values()), {}))
    controls = {region: series for region, series in revenue.items() if region not in treated}
    try:
        money = _one(revenue, treated, span, row.starts_on, last_day)
        count = _one(orders, treated, span, row.starts_on, last_day)
    except EstimateError as exc:
        return _with_error(base, exc, len(controls))
    scale = len(treated) * money.post_days
    return Incremental(
        campaign_id=base.campaign_id,
        campaign=base.campaign,
        regions=base.regions,
        starts_on=base.starts_on,
        ends_on=base.ends_on,
        controls=len(controls),
        days=money.post_days,
        revenue=round(money.effect * scale, 2),
        revenue_low=round(money.low * scale, 2),
        revenue_high=round(money.high * scale, 2),
        orders=round(count.effect * scale, 1),
        orders_low=round(count.low * scale, 1),
        orders_high=round(count.high * scale, 1),
        confidence=money.confidence,
    )


def _one(
    series: dict[str, dict[date, float]],
    treated: list[str],
    span: list[date],
    start: date,
    end: date,
) -> EffectEstimate:
    """The estimate on one measure: the treated regions' mean against each control."""
    mean = {
        day: sum(series.get(region, {}).get(day, 0.0) for region in treated) / len(treated)
        for day in span
    }
    controls = {region: values for region, values in series.items() if region not in treated}
    return estimate_effect(treated=mean, controls=controls, start=start, end=end, wording=REGIONS)


def _with_error(base: Incremental, exc: UserError, controls: int) -> Incremental:
    return Incremental(
        campaign_id=base.campaign_id,
        campaign=base.campaign,
        regions=base.regions,
        starts_on=base.starts_on,
        ends_on=base.ends_on,
        controls=controls,
        error=exc.message,
        error_params=tuple(exc.params.items()),
    )


def campaign_estimates(
    db: Session, *, workspace_id: int, first_day: date, last_day: date, zone: str, today: date
) -> list[Incremental]:
    """The incremental estimate of each campaign with regions whose dates meet the period."""
    names, _titles = flows.names_of(db, workspace_id)
    rows = db.scalars(
        select(CampaignRegions)
        .where(
            CampaignRegions.workspace_id == workspace_id,
            CampaignRegions.starts_on <= last_day,
            CampaignRegions.ends_on >= first_day,
        )
        .order_by(CampaignRegions.starts_on, CampaignRegions.id)
    ).all()
    return [
        estimate(
            db,
            workspace_id=workspace_id,
            row=row,
            campaign=names.get(row.campaign_id, ""),
            zone=zone,
            today=today,
        )
        for row in rows
    ]
