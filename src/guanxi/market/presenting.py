"""What the market pages, the API and the CLI show, assembled from the analysis.

Shared by ``views``, ``api`` and ``cli/market.py`` so the three say the same:
which chart is shown, the matrix of a day, an app's rank history with campaign markers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from babel import Locale
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core import fields
from guanxi.core.errors import N_, UserError
from guanxi.market import analysis, campaigns, service
from guanxi.market.models import Chart, ChartDataset, Store

NO_DATA = N_(
    "No chart data yet. Import a CSV or feed with `guanxi charts import`, or set "
    "GUANXI_MARKET_COUNTRIES to take daily snapshots."
)
DEFAULT_HISTORY_COUNTRIES = 6
DEFAULT_TOP = 10
MAX_TOP = 200


@dataclass(frozen=True)
class ChartChoice:
    """The chart a page shows, and what could be chosen instead."""

    dataset: ChartDataset
    selection: analysis.ChartSelection
    datasets: list[ChartDataset]
    charts: tuple[tuple[Store, Chart, str], ...]
    days: list[date]

    @property
    def last_day(self) -> date | None:
        """The chart's newest day."""
        return self.days[-1] if self.days else None

    @property
    def first_day(self) -> date | None:
        """The chart's oldest day."""
        return self.days[0] if self.days else None

    def default_day(self) -> date | None:
        """The dataset's focus day when it has one, else the newest."""
        focus = self.dataset.focus_day
        return focus if focus in self.days else self.last_day

    def query(self) -> str:
        """The query string that selects this chart again."""
        s = self.selection
        extra = f"&category={s.category}" if s.category else ""
        return f"dataset={s.dataset_id}&store={s.store.value}&chart={s.chart.value}{extra}"


def choose_chart(
    db: Session,
    workspace: Workspace,
    *,
    dataset: int | None,
    store: str = "",
    chart: str = "",
    category: str = "",
) -> ChartChoice | None:
    """The chart the query asks for (or the default one); None when there is no data."""
    datasets = service.visible_datasets(db, workspace=workspace)
    if dataset is not None:
        chosen = service.get_dataset(db, workspace=workspace, dataset_id=dataset)
    elif datasets:
        chosen = datasets[0]
    else:
        return None
    return chart_of(db, chosen, datasets, store=store, chart=chart, category=category)


def chart_of(
    db: Session,
    dataset: ChartDataset,
    datasets: list[ChartDataset],
    *,
    store: str = "",
    chart: str = "",
    category: str = "",
) -> ChartChoice:
    """The chart of ``dataset`` that matches the request best (else its first chart)."""
    charts = service.summarize(db, dataset=dataset).charts
    wanted = next(
        (c for c in charts if (c[0].value, c[1].value, c[2]) == (store, chart, category)), None
    )
    if wanted is None:
        wanted = next(
            (c for c in charts if c[1].value == chart and (not store or c[0].value == store)),
            None,
        )
    if wanted is None and charts and not chart:
        wanted = charts[0]
    if wanted is None:
        empty = analysis.ChartSelection(dataset.id, Store.GOOGLE_PLAY, Chart.TOP_FREE)
        return ChartChoice(dataset, empty, datasets, charts, [])
    selection = analysis.ChartSelection(dataset.id, *wanted)
    days = analysis.chart_days(db, selection=selection)
    return ChartChoice(dataset, selection, datasets, charts, days)


def clamp_top(top: int) -> int:
    """A top N between 1 and MAX_TOP."""
    return max(1, min(top, MAX_TOP))


def parse_day(value: str, fallback: date | None) -> date | None:
    """A YYYY-MM-DD value, or ``fallback`` when empty; a UserError when malformed."""
    if not value.strip():
        return fallback
    try:
        found = date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(N_("{value} is not a date. Enter it as YYYY-MM-DD."), value=value) from None
    return fields.usable_day(found, field=N_("Date"))


@cache
def country_names(language: str) -> dict[str, str]:
    """Country names by ISO code in ``language`` (from the CLDR data Babel ships)."""
    locale = Locale.parse("zh_Hans" if language == "zh_Hans" else "en")
    return {code: name for code, name in locale.territories.items() if len(code) == 2}


@dataclass
class MatrixView:
    """The matrix of one day, ready to show."""

    day: date | None
    top: int
    countries: list[str]  # charted that day
    rows: list[analysis.MatrixRow]
    names: dict[str, tuple[str, str]]
    compared: bool  # whether any country had an earlier snapshot to compare with
    previous: dict[str, date] = field(default_factory=dict)

    def as_json(self, choice: ChartChoice) -> dict[str, Any]:
        """The matrix as the API and ``guanxi charts matrix --format json`` give it."""
        return {
            "dataset": {
                "id": choice.dataset.id,
                "name": choice.dataset.name,
                "illustrative": choice.dataset.illustrative,
            },
            "store": choice.selection.store.value,
            "chart": choice.selection.chart.value,
            "category": choice.selection.category,
            "day": self.day.isoformat() if self.day else None,
            "top": self.top,
            "countries_charted": self.countries,
            "apps": [
                {
                    "app_id": row.app_key,
                    "name": self.names.get(row.app_key, (row.app_key, ""))[0],
                    "publisher": self.names.get(row.app_key, ("", ""))[1],
                    "countries_in_top": row.countries_in_top,
                    "number_ones": row.number_ones,
                    "ranks": {country: cell.rank for country, cell in sorted(row.cells.items())},
                    "changes": {
                        country: cell.change.value for country, cell in sorted(row.cells.items())
                    },
                }
                for row in self.rows
            ],
        }


def matrix_payload(
    db: Session, *, selection: analysis.ChartSelection, day: date | None, top: int
) -> MatrixView:
    """The day's matrix: apps in the top ``top`` of any country, with their moves."""
    if day is None:
        return MatrixView(None, top, [], [], {}, compared=False)
    current = analysis.ranks_on(db, selection=selection, day=day)
    previous = analysis.ranks_before(db, selection=selection, day=day)
    rows = analysis.matrix_rows(current, previous, top=top)
    keys = [row.app_key for row in rows]
    names = analysis.names_on(db, selection=selection, app_keys=keys, day=day)
    return MatrixView(day, top, sorted(current), rows, names, compared=bool(previous))


@dataclass
class HistoryView:
    """An app's rank history, ready to show and to chart."""

    app_key: str
    app_name: str
    countries: list[str]  # shown
    available: list[str]  # where the app was ever charted
    chart: dict[str, Any]


def campaign_markers(
    db: Session,
    *,
    workspace: Workspace,
    app_keys: list[str],
    selection: analysis.ChartSelection,
) -> list[dict[str, Any]]:
    """The workspace's campaigns for these apps, as chart markers (start, end, colour)."""
    days = analysis.chart_days(db, selection=selection)
    last = days[-1] if days else None
    markers = []
    for campaign in campaigns.list_campaigns(db, workspace=workspace):
        if campaign.app_key not in app_keys:
            continue
        end = max(campaign.ends_on or last or campaign.starts_on, campaign.starts_on)
        markers.append(
            {
                "id": campaign.id,
                "name": campaign.name,
                "color": campaign.color,
                "start": campaign.starts_on.isoformat(),
                "end": end.isoformat(),
                "countries": campaign.countries,
                "app": campaign.app_key,
            }
        )
    return markers


def history_payload(
    db: Session,
    *,
    workspace: Workspace,
    choice_selection: analysis.ChartSelection,
    app_key: str,
    countries: list[str],
    focus: date | None,
) -> HistoryView:
    """The app's rank per country and day; by default its best countries on ``focus`` and
    the countries of its campaigns."""
    history = analysis.rank_history(db, selection=choice_selection, app_key=app_key)
    available = sorted(history)
    chosen = [c.strip().upper() for c in countries if c.strip().upper() in history]
    if not chosen:
        on_focus = sorted(
            ((days[focus], country) for country, days in history.items() if focus in days),
        )
        chosen = [country for _rank, country in on_focus[:DEFAULT_HISTORY_COUNTRIES]]
        for campaign in campaigns.list_campaigns(db, workspace=workspace, app_key=app_key):
            chosen += [c for c in campaign.countries if c in history and c not in chosen]
    days = analysis.chart_days(db, selection=choice_selection)
    names = analysis.names_on(db, selection=choice_selection, app_keys=[app_key])
    charted = analysis.charted_days(db, selection=choice_selection, countries=chosen)
    series = []
    for country in chosen:
        ranks, seen = history.get(country, {}), set(charted.get(country, []))
        series.append(
            {
                "country": country,
                # null: not in the chart that day; a day without a snapshot is left out.
                "data": [[d.isoformat(), ranks.get(d)] for d in days if d in seen],
            }
        )
    deepest = max((r for c in history.values() for r in c.values()), default=1)
    chart = {
        "app": app_key,
        "series": series,
        "markers": campaign_markers(
            db, workspace=workspace, app_keys=[app_key], selection=choice_selection
        ),
        "depth": deepest,
    }
    return HistoryView(app_key, names.get(app_key, (app_key, ""))[0], chosen, available, chart)
