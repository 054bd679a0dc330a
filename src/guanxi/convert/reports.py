"""A period's revenue report: totals, attributed and unattributed, and the revenue and
orders credited to each campaign, post, KOL and platform, with their names — what the
revenue page shows and `guanxi convert report` prints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.convert import flows
from guanxi.convert.attribution.engine import LOOKBACK_DAYS, Credit, attribute
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.convert.models import Kol, Order
from guanxi.core.errors import N_, UserError

MAX_DAYS = 366 * 2  # a report covers at most two years


@dataclass(frozen=True)
class Line:
    """One campaign, post, KOL or platform: its credited revenue (yuan) and orders."""

    key: str  # the id, or the platform's slug; "" for "none of them"
    name: str
    revenue: float
    orders: float


@dataclass(frozen=True)
class RevenueReport:
    """A period's attributed revenue under one model and window."""

    model: AttributionModel
    window_days: int
    first_day: date
    last_day: date
    revenue: float
    orders: int
    attributed_revenue: float
    attributed_orders: float
    unattributed_revenue: float
    unattributed_orders: int
    campaigns: list[Line]
    posts: list[Line]
    kols: list[Line]
    platforms: list[Line]
    illustrative: bool  # the period holds orders the demo made up


def period_bounds(first_day: date, last_day: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the days ``first_day``..``last_day`` in ``zone``; a UserError when the
    range is backwards or longer than ``MAX_DAYS``."""
    if last_day < first_day:
        raise UserError(N_("The period ends before it starts: swap the dates."))
    if (last_day - first_day).days >= MAX_DAYS:
        raise UserError(N_("A report covers at most two years: choose a shorter period."))
    tz = ZoneInfo(zone)
    start = datetime.combine(first_day, time(), tz)
    return start, datetime.combine(last_day + timedelta(days=1), time(), tz)


def checked_window(window_days: int) -> int:
    """``window_days`` if it is one of the lookback windows offered, else a UserError."""
    if window_days not in LOOKBACK_DAYS:
        raise UserError(
            N_("The lookback window is {days} days: choose 7, 15 or 30."), days=window_days
        )
    return window_days


def revenue_report(
    db: Session,
    *,
    workspace_id: int,
    first_day: date,
    last_day: date,
    zone: str,
    model: AttributionModel = AttributionModel.LAST_TOUCH,
    window_days: int = 30,
) -> RevenueReport:
    """Attribute the period's paid orders and name what they are credited to."""
    start, end = period_bounds(first_day, last_day, zone)
    found = attribute(
        db,
        workspace_id=workspace_id,
        start=start,
        end=end,
        model=model,
        window_days=checked_window(window_days),
    )
    campaign_names, post_titles = flows.names_of(db, workspace_id)
    kol_names = dict(
        db.execute(select(Kol.id, Kol.name).where(Kol.workspace_id == workspace_id)).all()
    )
    return RevenueReport(
        model=model,
        window_days=window_days,
        first_day=first_day,
        last_day=last_day,
        revenue=_yuan(found.total.revenue_fen),
        orders=round(found.total.orders),
        attributed_revenue=_yuan(found.attributed.revenue_fen),
        attributed_orders=round(found.attributed.orders, 2),
        unattributed_revenue=_yuan(found.unattributed.revenue_fen),
        unattributed_orders=round(found.unattributed.orders),
        campaigns=_lines(found.by_campaign, campaign_names),
        posts=_lines(found.by_post, post_titles),
        kols=_lines(found.by_kol, kol_names),
        platforms=_lines(found.by_platform, {}),
        illustrative=db.scalar(
            select(Order.id)
            .where(
                Order.workspace_id == workspace_id,
                Order.illustrative,
                Order.ordered_at >= start,
                Order.ordered_at < end,
            )
            .limit(1)
        )
        is not None,
    )


def _yuan(fen: float) -> float:
    return round(fen / 100, 2)


def _lines(
    credited: Mapping[int | None, Credit] | Mapping[str, Credit], names: Mapping[int, str]
) -> list[Line]:
    """The credited lines, largest revenue first; the "none" line (touches with no campaign,
    post or KOL) last."""
    lines = [
        Line(
            key="" if key is None else str(key),
            name=names.get(key, "") if isinstance(key, int) else (key or ""),
            revenue=_yuan(credit.revenue_fen),
            orders=round(credit.orders, 2),
        )
        for key, credit in credited.items()
    ]
    return sorted(lines, key=lambda line: (line.key == "", -line.revenue))


def compare_models(
    db: Session,
    *,
    workspace_id: int,
    first_day: date,
    last_day: date,
    zone: str,
    window_days: int = 30,
) -> dict[AttributionModel, RevenueReport]:
    """The same period under every model, to see how much the answer depends on it."""
    return {
        model: revenue_report(
            db,
            workspace_id=workspace_id,
            first_day=first_day,
            last_day=last_day,
            zone=zone,
            model=model,
            window_days=window_days,
        )
        for model in AttributionModel
    }
