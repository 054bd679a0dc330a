"""What the market adds to a report: on the workspace's default chart (the one its market
page opens on), in how many countries each tracked app is in the top 10 at the end of the
period against the end of the period compared, that reach day by day, and the period's
biggest risers and fallers (the movers page's, between the period's first and last charted
days)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.errors import N_
from guanxi.core.report import (
    MAX_POINTS,
    Block,
    Chart,
    ChartKind,
    Column,
    Figure,
    Name,
    Number,
    Paragraph,
    ReportQuery,
    ReportSection,
    Series,
    Table,
    Text,
    TextValue,
    Unit,
    fit_series,
    shown,
)
from guanxi.market import analysis
from guanxi.market.analysis import Move
from guanxi.market.campaigns import campaign_effect, effect_message, list_campaigns
from guanxi.market.models import CHART_LABELS, STORE_LABELS, TrackedApp
from guanxi.market.presenting import DEFAULT_TOP, ChartChoice, choose_chart, country_names
from guanxi.market.service import get_dataset, list_tracked_apps

KEY = "market.ranks"
TITLE = N_("Market")
MOVERS = 10

_REACH = N_("{app} was in the top {top} in {countries} countries on {day}.")
_REACH_BEFORE = N_(
    "{app} was in the top {top} in {countries} countries on {day}, against {previous} on "
    "{previous_day}."
)
_RISER = N_("The biggest riser was {app} in {country}, from #{before} to #{rank}.")
_NO_RISER = N_("No app rose within the top {top} in the period.")
_CHART = N_("Chart: {store}, {chart}.")


def _days_in(choice: ChartChoice, start: date, end: date) -> list[date]:
    return [day for day in choice.days if start <= day <= end]


def _country(code: str) -> Name:
    return Name(country_names("en").get(code, code), country_names("zh_Hans").get(code, code))


def ranks(db: Session, query: ReportQuery) -> ReportSection:
    """The market section (see the module's docstring)."""
    workspace = db.get_one(Workspace, query.workspace_id)
    choice = choose_chart(db, workspace, dataset=None)
    days = _days_in(choice, query.start, query.end) if choice else []
    if choice is None or not days:
        return ReportSection(
            KEY, Text(TITLE), empty=Text(N_("No app-store chart was recorded in this period."))
        )
    selection = choice.selection
    first, last = days[0], days[-1]
    compared: list[date] = []
    if query.compare_start is not None and query.compare_end is not None:
        compared = _days_in(choice, query.compare_start, query.compare_end)
    apps = list_tracked_apps(db, workspace=workspace)
    end_ranks = analysis.ranks_on(db, selection=selection, day=last)
    before_ranks = analysis.ranks_on(db, selection=selection, day=compared[-1]) if compared else {}
    moves = analysis.movers_between(
        analysis.ranks_on(db, selection=selection, day=first), end_ranks, top=DEFAULT_TOP
    )
    keys = {m.app_key for m in (*moves.risers[:MOVERS], *moves.fallers[:MOVERS])}
    names = {
        key: name
        for key, (name, _) in analysis.names_on(db, selection=selection, app_keys=keys).items()
    }
    chart_name: dict[str, TextValue] = {
        "store": Text(STORE_LABELS[selection.store]),
        "chart": Text(CHART_LABELS[selection.chart]),
    }
    blocks: list[Block] = [Paragraph(Text(_CHART, chart_name))]
    figures: list[Block] = []
    for app in apps:
        now = len(analysis.in_top(end_ranks, app_key=app.app_key, top=DEFAULT_TOP))
        was = (
            len(analysis.in_top(before_ranks, app_key=app.app_key, top=DEFAULT_TOP))
            if compared
            else None
        )
        figures.append(
            Figure(
                f"reach.{app.app_key}",
                Text(
                    N_("{app}: countries in the top {top}"), {"app": app.name, "top": DEFAULT_TOP}
                ),
                Number(now),
                Number(was) if was is not None else None,
            )
        )
        if len(blocks) == 1:
            blocks.append(Paragraph(_reach_sentence(app, now, was, last, compared)))
    blocks.append(Paragraph(_riser_sentence(moves.risers, names)))
    blocks += figures
    if apps:
        blocks.append(_reach_chart(db, choice, apps, days))
    blocks += _effects(db, workspace, query, {a.app_key: a.name for a in apps})
    blocks.append(_movers("risers", N_("Biggest risers"), moves.risers, names))
    blocks.append(_movers("fallers", N_("Biggest fallers"), moves.fallers, names))
    return ReportSection(KEY, Text(TITLE), shown(blocks))


def _effects(
    db: Session, workspace: Workspace, query: ReportQuery, tracked: dict[str, str]
) -> list[Block]:
    """Each campaign running in the period: its estimated effect on its app's rank (places
    gained against comparable countries), the campaign page's sentence as the note."""
    found: list[Block] = []
    for campaign in list_campaigns(db, workspace=workspace):
        ends = campaign.ends_on or date.max
        if campaign.dataset_id is None or campaign.starts_on > query.end or ends < query.start:
            continue
        dataset = get_dataset(db, workspace=workspace, dataset_id=campaign.dataset_id)
        report = campaign_effect(db, campaign=campaign, dataset=dataset)
        countries = Name(
            ", ".join(_country(c).en for c in campaign.countries),
            "、".join(_country(c).zh for c in campaign.countries),
        )
        app = tracked.get(campaign.app_key, campaign.app_key)
        message, values = effect_message(report, app=app, countries=countries)
        found.append(
            Figure(
                f"effect.{campaign.id}",
                Text(N_("{campaign}: places gained in the chart"), {"campaign": campaign.name}),
                Number(report.places if report.estimate else None),
                note=Text(message, values),
            )
        )
    return found


def _reach_sentence(
    app: TrackedApp, now: int, was: int | None, last: date, compared: list[date]
) -> Text:
    values: dict[str, TextValue] = {
        "app": app.name,
        "top": DEFAULT_TOP,
        "countries": Number(now),
        "day": last.isoformat(),
    }
    if was is None:
        return Text(_REACH, values)
    values |= {"previous": Number(was), "previous_day": compared[-1].isoformat()}
    return Text(_REACH_BEFORE, values)


def _riser_sentence(risers: list[Move], names: dict[str, str]) -> Text:
    if not risers:
        return Text(_NO_RISER, {"top": DEFAULT_TOP})
    best = risers[0]
    values: dict[str, TextValue] = {
        "app": names.get(best.app_key, best.app_key),
        "country": _country(best.country),
        "before": best.before or 0,
        "rank": best.after or 0,
    }
    return Text(_RISER, values)


def _reach_chart(
    db: Session, choice: ChartChoice, apps: list[TrackedApp], days: list[date]
) -> Chart:
    """Each tracked app's countries in the top 10, on each charted day of the period (every
    n-th day, and the last, when there are more days than a chart has points)."""
    step = -(-len(days) // MAX_POINTS)
    shown = days[::step]
    if shown[-1] != days[-1]:
        shown = [*shown[: MAX_POINTS - 1], days[-1]]
    reach = analysis.reach_over_time(
        db, selection=choice.selection, app_keys=[a.app_key for a in apps], top=DEFAULT_TOP
    )
    series = []
    for app in apps:
        by_day = dict(reach.get(app.app_key, []))
        values = tuple(float(by_day.get(day, 0)) for day in shown)
        series.append((values[-1], Series(Text(app.name), values)))
    series.sort(key=lambda entry: -entry[0])
    return Chart(
        "reach",
        Text(N_("Countries in the top {top}"), {"top": DEFAULT_TOP}),
        ChartKind.LINE,
        tuple(shown),
        fit_series([s for _, s in series], Text(N_("Other apps"))),
    )


def _movers(key: str, title: str, moves: list[Move], names: dict[str, str]) -> Table:
    return Table(
        key,
        Text(title),
        (
            Column(Text(N_("App"))),
            Column(Text(N_("Country"))),
            Column(Text(N_("Rank before")), Unit.RANK),
            Column(Text(N_("Rank after")), Unit.RANK),
            Column(Text(N_("Places gained")), Unit.COUNT),
        ),
        tuple(
            (names.get(m.app_key, m.app_key), _country(m.country), m.before, m.after, m.delta)
            for m in moves[:MOVERS]
        ),
    )
