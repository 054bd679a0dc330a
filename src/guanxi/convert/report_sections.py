"""What conversions add to a report: the period's paid orders and revenue against the
period compared, the revenue attributed to touches (last touch, the revenue page's first
view) and, apart, each campaign's incremental revenue estimated against control regions;
ROAS, and orders and revenue per platform and per campaign (``reports.revenue_report`` and
``incrementality.campaign_estimates``, the revenue page's figures).

Attributed and incremental revenue answer different questions (who was touched before
buying; what the campaign added), so each figure says which it is and they are never added.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.catalog.service import platform_names
from guanxi.convert import incrementality
from guanxi.convert.attribution.weights import MODEL_LABELS, AttributionModel
from guanxi.convert.reports import Line, RevenueReport, revenue_report
from guanxi.core.errors import N_
from guanxi.core.report import (
    Block,
    Chart,
    ChartKind,
    Column,
    Direction,
    Figure,
    Number,
    Paragraph,
    ReportQuery,
    ReportSection,
    Series,
    Table,
    Text,
    TextValue,
    Unit,
    compared,
    shown,
    table_rows,
)

KEY = "convert.revenue"
TITLE = N_("Conversions and ROI")
CURRENCY = "CNY"
MODEL = AttributionModel.LAST_TOUCH

_REVENUE = {
    Direction.UP: N_(
        "Paid orders: {orders}, worth {revenue}, {change} more than in the period compared."
    ),
    Direction.DOWN: N_(
        "Paid orders: {orders}, worth {revenue}, {change} less than in the period compared."
    ),
    Direction.SAME: N_(
        "Paid orders: {orders}, worth {revenue}, as much as in the period compared."
    ),
    Direction.UNKNOWN: N_("Paid orders: {orders}, worth {revenue}."),
}
_ATTRIBUTED = N_("{attributed} of it was attributed to a campaign, post or KOL ({model} model).")
_ROAS = N_("Return on ad spend: {roas} on {cost} of costs.")
_NO_COSTS = N_("No cost was entered for the period, so there is no return on ad spend.")
ATTRIBUTED_NOTE = N_(
    "Attributed ({model}): credited to the touches before each order, not proof the touch "
    "caused it."
)
INCREMENTAL_NOTE = N_(
    "Incremental: estimated against control regions ({low} to {high}); not to be added to "
    "attributed revenue."
)


def _money(value: float | None) -> Number:
    return Number(value, Unit.MONEY, CURRENCY)


def _model() -> Text:
    return Text(MODEL_LABELS[MODEL])


def revenue(db: Session, query: ReportQuery) -> ReportSection:
    """The conversions section (see the module's docstring)."""
    workspace = db.get_one(Workspace, query.workspace_id)
    zone = workspace.timezone
    now = revenue_report(
        db, workspace_id=workspace.id, first_day=query.start, last_day=query.end, zone=zone
    )
    estimates = [
        found
        for found in incrementality.campaign_estimates(
            db,
            workspace_id=workspace.id,
            first_day=query.start,
            last_day=query.end,
            zone=zone,
            today=incrementality.today_in(zone),
        )
        if not found.error and (query.campaign_id is None or found.campaign_id == query.campaign_id)
    ]
    if not now.orders and not now.costs_entered:
        return ReportSection(KEY, Text(TITLE), empty=Text(N_("No paid order in this period.")))
    before: RevenueReport | None = None
    if query.compare_start is not None and query.compare_end is not None:
        before = revenue_report(
            db,
            workspace_id=workspace.id,
            first_day=query.compare_start,
            last_day=query.compare_end,
            zone=zone,
        )
    blocks: list[Block] = [Paragraph(text) for text in _narrative(now, before)]
    blocks += _figures(now, before)
    for found in estimates:
        bounds: dict[str, TextValue] = {
            "low": _money(found.revenue_low),
            "high": _money(found.revenue_high),
        }
        blocks.append(
            Figure(
                f"incremental.{found.campaign_id}",
                Text(N_("Incremental revenue: {campaign}"), {"campaign": found.campaign}),
                _money(found.revenue),
                note=Text(INCREMENTAL_NOTE, bounds),
            )
        )
    if now.platforms:
        blocks.append(_platforms_chart(now.platforms))
    campaigns = now.campaigns
    if query.campaign_id is not None:
        campaigns = [line for line in campaigns if line.key == str(query.campaign_id)]
    blocks.append(_campaigns(campaigns))
    return ReportSection(KEY, Text(TITLE), shown(blocks))


def _narrative(now: RevenueReport, before: RevenueReport | None) -> list[Text]:
    was = before.revenue if before else None
    way, change = compared(now.revenue, was)
    values: dict[str, TextValue] = {
        "orders": Number(now.orders),
        "revenue": _money(now.revenue),
        "change": change,
    }
    sentences = [Text(_REVENUE[way], values)]
    if now.revenue:
        attributed: dict[str, TextValue] = {
            "attributed": _money(now.attributed_revenue),
            "model": _model(),
        }
        sentences.append(Text(_ATTRIBUTED, attributed))
    if now.roas is not None:
        sentences.append(Text(_ROAS, {"roas": Number(now.roas), "cost": _money(now.cost)}))
    else:
        sentences.append(Text(_NO_COSTS))
    return sentences


def _figures(now: RevenueReport, before: RevenueReport | None) -> list[Block]:
    attributed_note = Text(ATTRIBUTED_NOTE, {"model": _model()})
    return [
        Figure(
            "revenue",
            Text(N_("Revenue of paid orders")),
            _money(now.revenue),
            _money(before.revenue) if before else None,
        ),
        Figure(
            "orders",
            Text(N_("Paid orders")),
            Number(now.orders),
            Number(before.orders) if before else None,
        ),
        Figure(
            "attributed_revenue",
            Text(N_("Attributed revenue")),
            _money(now.attributed_revenue),
            _money(before.attributed_revenue) if before else None,
            note=attributed_note,
        ),
        Figure(
            "roas",
            Text(N_("Return on ad spend")),
            Number(now.roas),
            Number(before.roas) if before else None,
            note=attributed_note,
        ),
    ]


def _platforms_chart(lines: list[Line]) -> Chart:
    """Attributed orders per platform, most revenue first (touches with none last)."""
    named = [line for line in lines if line.key]
    return Chart(
        "orders_per_platform",
        Text(N_("Attributed orders per platform")),
        ChartKind.BAR,
        tuple(platform_names(line.key) for line in named),
        (Series(Text(N_("Attributed orders")), tuple(line.orders for line in named)),),
    )


def _campaigns(lines: list[Line]) -> Table:
    rows = [
        (
            line.name or Text(N_("No campaign")),
            line.revenue,
            line.orders,
            line.cost,
            line.roas,
        )
        for line in lines
    ]
    kept, more = table_rows(rows)
    return Table(
        "campaigns",
        Text(N_("Attributed revenue per campaign")),
        (
            Column(Text(N_("Campaign"))),
            Column(Text(N_("Attributed revenue")), Unit.MONEY),
            Column(Text(N_("Attributed orders")), Unit.COUNT),
            Column(Text(N_("Cost")), Unit.MONEY),
            Column(Text(N_("Return on ad spend")), Unit.COUNT),
        ),
        kept,
        more,
    )
