"""The daily snapshots: which charts to fetch, and fetching one of them.

The configured countries × charts (``GUANXI_MARKET_COUNTRIES``, ``GUANXI_MARKET_CHARTS``)
are fetched once a day from each store that has a fetcher (Apple always, Google Play when
``GUANXI_MARKET_PLAY_FETCHER`` names one) into that store's public dataset. Each chart is
fetched on its own: a bad payload or an unreachable store fails that chart only (recorded
with its error, to be retried), never the others and never ranks already stored.
``guanxi charts fetch`` and the worker's schedule call the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core.settings import ConfigurationError, Settings
from guanxi.market import service
from guanxi.market.fetchers import (
    AppleRssFetcher,
    ChartFetcher,
    ChartFetchError,
    ChartPayloadError,
    load_play_fetcher,
    normalize_country,
)
from guanxi.market.models import Chart, ChartDataset, ChartSnapshot, SnapshotStatus, Store

# Failed attempts on one chart and day after which the schedule stops trying until tomorrow.
MAX_ATTEMPTS_PER_DAY = 6
DATASET_NAMES: dict[Store, str] = {
    Store.APPLE: "App Store charts (Apple RSS)",
    Store.GOOGLE_PLAY: "Google Play charts (fetched)",
}


@dataclass(frozen=True)
class SnapshotTarget:
    """One chart to snapshot every day."""

    store: Store
    country: str
    chart: Chart
    category: str = ""


@dataclass(frozen=True)
class FetchOutcome:
    """What fetching one chart did."""

    target: SnapshotTarget
    ok: bool
    entries: int
    error: str
    retry: bool  # worth trying again (the store was unreachable, or its payload was bad)


def configured_targets(settings: Settings, *, stores: tuple[Store, ...]) -> list[SnapshotTarget]:
    """Every configured country × chart, for each store in ``stores``."""
    names = [name.strip().lower() for name in settings.market_charts.split(",") if name.strip()]
    codes = [code.strip() for code in settings.market_countries.split(",") if code.strip()]
    try:
        charts = [Chart(name) for name in names]
        countries = [normalize_country(code) for code in codes]
    except (ValueError, ChartPayloadError) as exc:
        msg = (
            f"GUANXI_MARKET_CHARTS={settings.market_charts!r} or GUANXI_MARKET_COUNTRIES="
            f"{settings.market_countries!r} is wrong ({exc}). Charts are "
            f"{', '.join(Chart)}; countries are two-letter codes such as us,it."
        )
        raise ConfigurationError(msg) from None
    return [
        SnapshotTarget(store, country, chart)
        for store in stores
        for country in countries
        for chart in charts
    ]


def public_dataset(db: Session, *, store: Store) -> ChartDataset:
    """The public (workspace-less) dataset the schedule fills for ``store``."""
    source = "apple-rss" if store is Store.APPLE else "play-fetcher"
    return service.find_or_create_dataset(
        db, workspace=None, name=DATASET_NAMES[store], source=source
    )


def is_due(db: Session, *, dataset: ChartDataset, target: SnapshotTarget, day: date) -> bool:
    """Whether ``target`` still needs today's snapshot (none yet, or failed but not given up)."""
    snapshot = db.scalar(
        select(ChartSnapshot).where(
            ChartSnapshot.dataset_id == dataset.id,
            ChartSnapshot.store == target.store,
            ChartSnapshot.country == target.country,
            ChartSnapshot.chart == target.chart,
            ChartSnapshot.category == target.category,
            ChartSnapshot.day == day,
        )
    )
    if snapshot is None:
        return True
    return snapshot.status == SnapshotStatus.FAILED and snapshot.attempts < MAX_ATTEMPTS_PER_DAY


def fetch_one(
    db: Session,
    *,
    settings: Settings,
    fetcher: ChartFetcher,
    target: SnapshotTarget,
    day: date,
) -> FetchOutcome:
    """Fetch and store one chart; a failure is recorded on that chart's row and returned."""
    dataset = public_dataset(db, store=target.store)
    try:
        parsed = fetcher.fetch(
            country=target.country,
            chart=target.chart,
            category=target.category,
            depth=settings.market_chart_depth,
        )
    except (ChartFetchError, ChartPayloadError) as exc:
        service.record_failure(
            db,
            dataset=dataset,
            store=target.store,
            country=target.country,
            chart=target.chart,
            category=target.category,
            day=day,
            error=str(exc),
        )
        return FetchOutcome(target, ok=False, entries=0, error=str(exc), retry=True)
    if parsed.day != day or parsed.country != target.country:
        parsed = type(parsed)(
            parsed.store,
            target.country,
            parsed.chart,
            parsed.category,
            day,
            parsed.entries,
            parsed.source_url,
        )
    service.import_charts(db, dataset=dataset, charts=[parsed], settings=settings)
    return FetchOutcome(target, ok=True, entries=len(parsed.entries), error="", retry=False)


FetcherFactory = Callable[[Store], ChartFetcher | None]


def fetch_due(
    db: Session,
    *,
    settings: Settings,
    fetcher_for: FetcherFactory,
    day: date,
    only_due: bool = True,
    progress: Callable[[FetchOutcome], None] | None = None,
) -> list[FetchOutcome]:
    """Fetch every configured chart still due today, committing after each one."""
    outcomes = []
    for store in Store:
        fetcher = fetcher_for(store)
        if fetcher is None:
            continue
        for target in configured_targets(settings, stores=(store,)):
            dataset = public_dataset(db, store=store)
            if only_due and not is_due(db, dataset=dataset, target=target, day=day):
                continue
            outcome = fetch_one(db, settings=settings, fetcher=fetcher, target=target, day=day)
            db.commit()  # each chart stands alone: a later failure loses nothing
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return outcomes


def due_targets(
    db: Session, *, settings: Settings, stores: tuple[Store, ...], day: date
) -> list[SnapshotTarget]:
    """The configured charts of ``stores`` that still need today's snapshot."""
    due = []
    for target in configured_targets(settings, stores=stores):
        dataset = public_dataset(db, store=target.store)
        if is_due(db, dataset=dataset, target=target, day=day):
            due.append(target)
    return due


def store_fetchers(
    settings: Settings, *, day: date, client: object | None = None
) -> FetcherFactory:
    """The fetcher of each store: Apple's RSS feeds, and the configured Google Play one."""
    http = client if isinstance(client, httpx.Client) else httpx.Client(timeout=30.0)
    apple = AppleRssFetcher(http, settings, today=day)
    play = load_play_fetcher(settings)

    def fetcher_for(store: Store) -> ChartFetcher | None:
        return apple if store is Store.APPLE else play

    return fetcher_for
