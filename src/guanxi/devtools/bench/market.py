"""`guanxi bench market`: import a large synthetic chart history into a scratch database
and time what the pages compute on it (matrix, movers, history, reach, a campaign effect).

The charts are random but reproducible (``seed``); one app gets a known lift in one
country, so the effect estimate can be checked as well as timed.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, WorkspaceCreate
from guanxi.core import migrate
from guanxi.core.db import make_engine, make_session_factory
from guanxi.market import analysis, campaigns, presenting, service
from guanxi.market.fetchers import ParsedChart, RankedApp
from guanxi.market.models import Chart, Store

LIFTED_APP = "app-0030"  # charted around #30-#45: room to climb 15 places
LIFT_PLACES = 15
PASSWORD = "bench-password-0"  # noqa: S105 - a scratch user in a scratch database


@dataclass(frozen=True)
class MarketBenchConfig:
    """What to generate: countries × days × depth ranks."""

    countries: int = 50
    days: int = 90
    depth: int = 100
    apps: int = 300
    seed: int = 0
    database_url: str = ""  # empty: a scratch SQLite file


@dataclass
class MarketBenchResult:
    """Timings in seconds, and the effect found for the known lift."""

    ranks: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    effect_places: float = 0.0
    effect_low: float = 0.0
    effect_high: float = 0.0


def country_codes(count: int) -> list[str]:
    """``count`` distinct two-letter codes (AA, AB, ...)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [a + b for a in letters for b in letters][:count]


def synthetic_charts(config: MarketBenchConfig) -> list[ParsedChart]:
    """Reproducible charts; LIFTED_APP climbs LIFT_PLACES in the first country mid-way."""
    rng = random.Random(config.seed)  # noqa: S311 - reproducible test data, not secrets
    first = date(2024, 1, 1)
    start = first + timedelta(days=config.days // 2)
    apps = [f"app-{n:04d}" for n in range(config.apps)]
    charts = []
    for index, country in enumerate(country_codes(config.countries)):
        base = {app: n + rng.uniform(0, 30) for n, app in enumerate(apps)}
        for offset in range(config.days):
            day = first + timedelta(days=offset)
            scores = {app: level + rng.gauss(0, 2) for app, level in base.items()}
            if index == 0 and day >= start:
                scores[LIFTED_APP] -= LIFT_PLACES
            ordered = sorted(apps, key=scores.__getitem__)[: config.depth]
            entries = tuple(RankedApp(r, app, app.upper(), "") for r, app in enumerate(ordered, 1))
            charts.append(ParsedChart(Store.APPLE, country, Chart.TOP_FREE, "", day, entries))
    return charts


def _timed(result: MarketBenchResult, name: str, work: Callable[[], object]) -> None:
    began = time.perf_counter()
    work()
    result.timings[name] = time.perf_counter() - began


def run_market_bench(config: MarketBenchConfig) -> MarketBenchResult:
    """Generate, import and query; returns the timings."""
    result = MarketBenchResult()
    with tempfile.TemporaryDirectory() as scratch:
        url = config.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        charts: list[ParsedChart] = []
        _timed(result, "generate", lambda: charts.extend(synthetic_charts(config)))
        result.ranks = sum(len(chart.entries) for chart in charts)
        with make_session_factory(engine)() as db:
            person = UserCreate(email="bench@guanxi.example", name="Bench", password=PASSWORD)
            owner = accounts.create_user(db, data=person)
            workspace = accounts.create_workspace(
                db, data=WorkspaceCreate(slug="market-bench", name="Bench"), owner=owner
            )
            dataset = service.find_or_create_dataset(
                db, workspace=workspace, name="Bench", source="csv"
            )
            _timed(
                result,
                "import",
                lambda: service.import_charts(db, dataset=dataset, charts=charts, alert=False),
            )
            db.commit()
            selection = analysis.ChartSelection(dataset.id, Store.APPLE, Chart.TOP_FREE)
            days = analysis.chart_days(db, selection=selection)
            last, middle = days[-1], days[len(days) // 2]
            _timed(
                result,
                "matrix (top 10)",
                lambda: presenting.matrix_payload(db, selection=selection, day=last, top=10),
            )
            _timed(
                result,
                "movers (top 10)",
                lambda: analysis.movers_between(
                    analysis.ranks_on(db, selection=selection, day=days[0]),
                    analysis.ranks_on(db, selection=selection, day=last),
                    top=10,
                ),
            )
            _timed(
                result,
                "rank history (all countries)",
                lambda: analysis.rank_history(db, selection=selection, app_key=LIFTED_APP),
            )
            watched = ["app-0000", "app-0001", LIFTED_APP]
            _timed(
                result,
                "reach over time (3 apps)",
                lambda: analysis.reach_over_time(db, selection=selection, app_keys=watched, top=10),
            )
            data = campaigns.parse_campaign(
                name="Lift",
                app_key=LIFTED_APP,
                countries=country_codes(1)[0],
                store="apple",
                starts_on=middle.isoformat(),
            )
            campaign = campaigns.create_campaign(
                db, workspace=workspace, data=data, dataset=dataset, actor=None
            )
            campaigns.campaign_effect(db, campaign=campaign, dataset=dataset)  # warm the imports
            reports: list[campaigns.EffectReport] = []
            _timed(
                result,
                "campaign effect",
                lambda: reports.append(
                    campaigns.campaign_effect(db, campaign=campaign, dataset=dataset)
                ),
            )
            estimate = reports[0].estimate
            if estimate is not None:
                result.effect_places = reports[0].places
                result.effect_low, result.effect_high = -estimate.high, -estimate.low
        engine.dispose()
    return result
