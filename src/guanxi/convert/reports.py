"""A period's revenue report: totals, attributed and unattributed, and the revenue and
orders credited to each campaign, post, KOL and platform, with their names and the costs
entered for them (ROAS, cost per order) — what the revenue page shows, the reports API
answers and `guanxi convert report` prints.

Every ratio is None (shown "—") when its divisor is zero or unknown: no cost entered, no
order, no follower counted.

Followers are of two kinds, never added together: **attributed** follows (a person scanned
a WeChat scene code made for the campaign, post, KOL or platform and followed through it;
``follows``), whose cost per follower is the line's cost ÷ them; and the accounts' own **new
followers** from every source as the platform reports them (platform lines only), whose
cost per new follower is the platform's cost ÷ them. Neither is an incremental estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.convert import costs, flows
from guanxi.convert.attribution.engine import LOOKBACK_DAYS, Credit, attribute
from guanxi.convert.attribution.paths import markov_attribution
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.convert.defaults import defaults_of
from guanxi.convert.follows import Follows, code_follows
from guanxi.convert.models import Kol, Order
from guanxi.convert.retention import CODE_EVENTS
from guanxi.core.errors import N_, UserError
from guanxi.retention.service import detail_kept_from

MAX_DAYS = 366 * 2  # a report covers at most two years


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` rounded to cents, None when either is unknown or the
    divisor is zero (a ratio over nothing is no number)."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


@dataclass(frozen=True)
class Line:
    """One campaign, post, KOL or platform: its credited revenue (yuan) and orders, and the
    costs entered for it over the period (None: none entered)."""

    key: str  # the id, or the platform's slug; "" for "none of them"
    name: str
    revenue: float
    orders: float
    cost: float | None = None
    followers: int | None = None  # follows through its WeChat scene codes; None: not counted
    # Platform lines: the accounts' new followers from every source (platform-reported).
    new_followers: int | None = None

    @property
    def average_order(self) -> float | None:
        """Revenue per order (yuan)."""
        return ratio(self.revenue, self.orders)

    @property
    def roas(self) -> float | None:
        """Return on ad spend: revenue ÷ cost."""
        return ratio(self.revenue, self.cost)

    @property
    def cost_per_order(self) -> float | None:
        """Cost ÷ orders (yuan)."""
        return ratio(self.cost, self.orders)

    @property
    def cost_per_follower(self) -> float | None:
        """Cost ÷ followers won through its scene codes (yuan; attributed)."""
        return ratio(self.cost, self.followers)

    @property
    def cost_per_new_follower(self) -> float | None:
        """Cost ÷ the accounts' new followers from every source (yuan; not attributed)."""
        return ratio(self.cost, self.new_followers)

    def document(self) -> dict[str, Any]:
        """The line as JSON values (the report command and the API)."""
        return {
            "key": self.key,
            "name": self.name,
            "revenue": self.revenue,
            "orders": self.orders,
            "average_order": self.average_order,
            "cost": self.cost,
            "roas": self.roas,
            "cost_per_order": self.cost_per_order,
            "followers": self.followers,
            "cost_per_follower": self.cost_per_follower,
            "new_followers": self.new_followers,
            "cost_per_new_follower": self.cost_per_new_follower,
        }


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
    cost: float = 0.0  # every cost of the period (yuan)
    half_life_days: int = 7
    costs_entered: bool = False  # some cost falls in the period

    @property
    def roas(self) -> float | None:
        """Attributed revenue ÷ every cost of the period."""
        return ratio(self.attributed_revenue, self.cost) if self.costs_entered else None

    @property
    def cost_per_order(self) -> float | None:
        """Every cost of the period ÷ attributed orders."""
        return ratio(self.cost, self.attributed_orders) if self.costs_entered else None


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
    window_days: int | None = None,
) -> RevenueReport:
    """Attribute the period's paid orders, name what they are credited to and set the
    period's costs beside them; ``window_days`` None is the workspace's default window, and
    time decay uses the workspace's half-life."""
    start, end = period_bounds(first_day, last_day, zone)
    defaults = defaults_of(db, workspace_id=workspace_id)
    window_days = checked_window(defaults.window_days if window_days is None else window_days)
    found = attribute(
        db,
        workspace_id=workspace_id,
        start=start,
        end=end,
        model=model,
        window_days=window_days,
        half_life=defaults.half_life,
    )
    spent = costs.period_costs(
        db, workspace_id=workspace_id, first_day=first_day, last_day=last_day
    )
    campaign_names, post_titles = flows.names_of(db, workspace_id)
    kol_names = dict(
        db.execute(select(Kol.id, Kol.name).where(Kol.workspace_id == workspace_id)).all()
    )
    followed = code_follows(db, workspace_id=workspace_id, start=start, end=end)
    gained = flows.account_new_followers(db, workspace_id, first_day, last_day)
    return RevenueReport(
        model=model,
        window_days=window_days,
        half_life_days=defaults.half_life_days,
        cost=_yuan(spent.total_fen),
        costs_entered=bool(spent.by_campaign or spent.by_kol or spent.by_post or spent.by_platform),
        first_day=first_day,
        last_day=last_day,
        revenue=_yuan(found.total.revenue_fen),
        orders=round(found.total.orders),
        attributed_revenue=_yuan(found.attributed.revenue_fen),
        attributed_orders=round(found.attributed.orders, 2),
        unattributed_revenue=_yuan(found.unattributed.revenue_fen),
        unattributed_orders=round(found.unattributed.orders),
        campaigns=_lines(
            found.by_campaign, campaign_names, spent.by_campaign, followed, "campaign"
        ),
        posts=_lines(found.by_post, post_titles, spent.by_post, followed, "post"),
        kols=_lines(found.by_kol, kol_names, spent.by_kol, followed, "kol"),
        platforms=_lines(
            found.by_platform, {}, spent.by_platform, followed, "platform", gained=gained
        ),
        illustrative=spent.illustrative
        or db.scalar(
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
    credited: Mapping[int | None, Credit] | Mapping[str, Credit],
    names: Mapping[int, str],
    spent: Mapping[int, float] | Mapping[str, float],
    followed: Follows,
    kind: str,
    *,
    gained: Mapping[str, int] | None = None,
) -> list[Line]:
    """The credited lines, and those with a cost but no revenue, largest revenue first; the
    "none" line (touches with no campaign, post or KOL) last. Each line has its attributed
    follows (``kind`` names the figure in ``followed``) and, given ``gained``, its accounts'
    new followers."""
    keys: list[Any] = list(credited) + [key for key in spent if key not in credited]
    lines = []
    for key in keys:
        credit = credited.get(key, Credit())
        cost = spent.get(key)
        lines.append(
            Line(
                key="" if key is None else str(key),
                name=names.get(key, "") if isinstance(key, int) else (key or ""),
                revenue=_yuan(credit.revenue_fen),
                orders=round(credit.orders, 2),
                cost=None if cost is None else _yuan(cost),
                followers=followed.of(kind, key),
                new_followers=gained.get(key) if gained is not None and key else None,
            )
        )
    return sorted(lines, key=lambda line: (line.key == "", -line.revenue))


def compare_models(
    db: Session,
    *,
    workspace_id: int,
    first_day: date,
    last_day: date,
    zone: str,
    window_days: int | None = None,
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


def report_document(report: RevenueReport, *, workspace: str, zone: str) -> dict[str, Any]:
    """The report as JSON values: what `guanxi convert report` prints and the API answers."""
    return {
        "workspace": workspace,
        "from": report.first_day.isoformat(),
        "to": report.last_day.isoformat(),
        "time_zone": zone,
        "model": report.model.value,
        "window_days": report.window_days,
        "half_life_days": report.half_life_days,
        "basis": "attributed",
        # followers: scan→follow through scene codes (attributed); new_followers: the
        # accounts' own count from every source (platform lines). Neither is incremental.
        "followers_basis": {"followers": "attributed", "new_followers": "all_sources"},
        "currency": "CNY",
        "illustrative": report.illustrative,
        "revenue": report.revenue,
        "orders": report.orders,
        "attributed": {"revenue": report.attributed_revenue, "orders": report.attributed_orders},
        "unattributed": {
            "revenue": report.unattributed_revenue,
            "orders": report.unattributed_orders,
        },
        # Every cost of the period (spread evenly over each cost's days); None: none entered.
        "costs": report.cost if report.costs_entered else None,
        "roas": report.roas,
        "cost_per_order": report.cost_per_order,
        **{
            name: [line.document() for line in lines]
            for name, lines in (
                ("campaigns", report.campaigns),
                ("posts", report.posts),
                ("kols", report.kols),
                ("platforms", report.platforms),
            )
        },
    }


@dataclass(frozen=True)
class PathEstimate:
    """The data-driven model's answer over WeChat paths (a model estimate, apart from the
    rule-based attribution): the converting paths' revenue shared by removal effect."""

    window_days: int
    people: int  # paths read: people who touched a scene code
    converting_paths: int
    revenue: float  # yuan, on the converting paths
    orders: float
    off_paths_revenue: float  # OpenID orders whose buyer touched no code in the window
    off_paths_orders: int
    campaigns: list[Line]
    # Scans and follows of people who never ordered were deleted before this moment by the
    # workspace's retention, and the period's paths reach back before it (None: whole).
    paths_kept_from: datetime | None = None


def path_estimate(
    db: Session,
    *,
    workspace_id: int,
    first_day: date,
    last_day: date,
    zone: str,
    window_days: int,
) -> PathEstimate:
    """The Markov removal-effect estimate of the period's OpenID orders, by campaign."""
    start, end = period_bounds(first_day, last_day, zone)
    found = markov_attribution(
        db,
        workspace_id=workspace_id,
        start=start,
        end=end,
        window_days=checked_window(window_days),
    )
    campaign_names, _titles = flows.names_of(db, workspace_id)
    kept_from = detail_kept_from(db, workspace_id=workspace_id, kind=CODE_EVENTS)
    if kept_from is not None and kept_from <= start - timedelta(days=window_days):
        kept_from = None  # every path of the period is after the cutoff
    return PathEstimate(
        paths_kept_from=kept_from,
        window_days=window_days,
        people=found.people,
        converting_paths=found.converting_paths,
        revenue=_yuan(found.on_paths.revenue_fen),
        orders=round(found.on_paths.orders, 2),
        off_paths_revenue=_yuan(found.off_paths.revenue_fen),
        off_paths_orders=round(found.off_paths.orders),
        campaigns=[
            line
            for line in _lines(found.by_campaign, campaign_names, {}, Follows(), "campaign")
            if line.orders
        ],
    )
