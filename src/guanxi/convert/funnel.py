"""A campaign's funnel: the views of its posts (as analytics measured them) → the people who
clicked its tracked links → the follows and scans of its WeChat codes → its attributed
orders → their revenue. A stage guanxi has no figure for is None, never 0: the chart leaves
it out and the table says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from guanxi.convert import flows
from guanxi.convert.follows import code_follows
from guanxi.convert.models import TrackedLink
from guanxi.convert.reports import Line, RevenueReport
from guanxi.convert.store import convert_store
from guanxi.core.errors import N_
from guanxi.web import charts


@dataclass(frozen=True)
class Funnel:
    """One campaign's stages over a period."""

    views: int | None
    clicks: int
    follows: int | None  # follows and scans of its WeChat scene codes; None: it has none
    orders: float
    revenue: float  # yuan, attributed
    cost: float | None

    @property
    def click_rate(self) -> float | None:
        """Clicks per view (%)."""
        return round(100 * self.clicks / self.views, 2) if self.views else None

    @property
    def order_rate(self) -> float | None:
        """Orders per click (%)."""
        return round(100 * self.orders / self.clicks, 2) if self.clicks else None


def default_period(
    starts_on: date | None, ends_on: date | None, *, window_days: int, today: date
) -> tuple[date, date]:
    """The campaign's days and the lookback window after them (its buyers pay later), up to
    today; the last 30 days when it has no dates."""
    if starts_on is None:
        return today - timedelta(days=29), today
    last = min((ends_on or today) + timedelta(days=window_days), today)
    return starts_on, max(last, starts_on)


def counted_clicks(
    db: Session, *, workspace_id: int, campaign_id: int, start: datetime, end: datetime
) -> int:
    """People's clicks (counted, no bots) in [``start``, ``end``) on the links made for the
    campaign or one of its posts."""
    post_ids = flows.campaign_post_ids(db, workspace_id, campaign_id)
    made_for = TrackedLink.campaign_id == campaign_id
    if post_ids:
        made_for = or_(made_for, TrackedLink.post_id.in_(post_ids))
    link_ids = list(
        db.scalars(select(TrackedLink.id).where(TrackedLink.workspace_id == workspace_id, made_for))
    )
    per_link = convert_store(db).counted_by_link(
        workspace_id=workspace_id, link_ids=link_ids, start=start, end=end
    )
    return sum(per_link.values())


def campaign_funnel(
    db: Session,
    *,
    workspace_id: int,
    campaign_id: int,
    report: RevenueReport,
    start: datetime,
    end: datetime,
) -> Funnel:
    """The campaign's funnel over ``report``'s period ([``start``, ``end``))."""
    line = next(
        (line for line in report.campaigns if line.key == str(campaign_id)),
        Line(key=str(campaign_id), name="", revenue=0, orders=0),
    )
    followed = code_follows(db, workspace_id=workspace_id, start=start, end=end)
    follows = followed.of("campaign", campaign_id)
    return Funnel(
        views=flows.campaign_views(db, workspace_id, campaign_id),
        clicks=counted_clicks(
            db, workspace_id=workspace_id, campaign_id=campaign_id, start=start, end=end
        ),
        follows=None if follows is None else follows + followed.scans_by_campaign[campaign_id],
        orders=line.orders,
        revenue=line.revenue,
        cost=line.cost,
    )


STAGE_LABELS = (
    N_("Views"),
    N_("People who clicked"),
    N_("Follows and scans"),
    N_("Orders"),
)


def chart_option(funnel: Funnel, *, labels: tuple[str, str, str, str]) -> dict[str, object]:
    """The ECharts option: the stages that have a figure, in order (revenue is in yuan, not
    people, so it stays in the table)."""
    stages = [
        (label, value)
        for label, value in zip(
            labels, (funnel.views, funnel.clicks, funnel.follows, funnel.orders), strict=True
        )
        if value is not None
    ]
    return {
        "tooltip": {"trigger": "item"},
        "series": [
            charts.funnel(
                [(label, round(value)) for label, value in stages],
                left="5%",
                width="90%",
                minSize="8%",
            )
        ],
    }
