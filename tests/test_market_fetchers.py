"""Reading charts from Apple's feeds (recorded payloads of the documented formats), the
pluggable Google Play fetcher, and what a bad payload does: that chart is recorded as
failed and retried, nothing else is lost."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from guanxi.core.settings import ConfigurationError, Settings, get_settings
from guanxi.market import collect, fetchers, scheduled
from guanxi.market.fetchers import (
    AppleRssFetcher,
    ChartFetchError,
    ChartPayloadError,
    ParsedChart,
    parse_apple_v2,
    parse_itunes,
)
from guanxi.market.models import Chart, ChartEntry, ChartSnapshot, SnapshotStatus, Store
from tests.cli import PREFIX, upgraded
from tests.market_support import DAY, FIXTURES, chart


def payload(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# --- Apple RSS v2 ----------------------------------------------------------------------------


def test_v2_feed_rank_is_the_position_and_the_feed_describes_itself() -> None:
    """Given a recorded v2 feed (no rank field), then rank = position, and the country,
    chart and day come from feed.country, feed.id and feed.updated."""
    parsed = parse_apple_v2(payload("apple_v2_it_top_free.json"))

    assert (parsed.store, parsed.country, parsed.chart, parsed.day) == (
        Store.APPLE,
        "IT",
        Chart.TOP_FREE,
        DAY,
    )
    assert [(e.rank, e.app_key, e.app_name) for e in parsed.entries[:2]] == [
        (1, "414478124", "WeChat"),
        (2, "310633997", "WhatsApp Messenger"),
    ]
    assert parsed.entries[1].publisher == "WhatsApp Inc."
    assert [e.rank for e in parsed.entries] == [1, 2, 3, 4, 5]


def test_v2_feed_with_more_than_100_results_is_refused() -> None:
    feed = payload("apple_v2_it_top_free.json")
    feed["feed"]["results"] = [{"id": str(n), "name": f"App {n}"} for n in range(101)]

    with pytest.raises(ChartPayloadError, match="at most 100"):
        parse_apple_v2(feed)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f["feed"].pop("results"), "feed.results"),
        (lambda f: f["feed"]["results"][1].pop("id"), "Result 2"),
        (lambda f: f["feed"]["results"].append(dict(f["feed"]["results"][0])), "appears twice"),
        (lambda f: f.update(feed=[]), "no object at feed"),
        (lambda f: f["feed"].update(updated="yesterday"), "feed.updated"),
    ],
)
def test_broken_v2_feeds_say_what_is_wrong(change: Any, message: str) -> None:
    feed = payload("apple_v2_it_top_free.json")
    change(feed)

    with pytest.raises(ChartPayloadError, match=message):
        parse_apple_v2(feed)


# --- Legacy iTunes RSS -----------------------------------------------------------------------


def test_itunes_feed_reads_country_chart_genre_and_day_from_its_id() -> None:
    parsed = parse_itunes(payload("itunes_us_top_grossing_social.json"))

    assert (parsed.country, parsed.chart, parsed.category, parsed.day) == (
        "US",
        Chart.TOP_GROSSING,
        "6005",
        DAY,
    )
    assert [(e.rank, e.app_key, e.app_name, e.publisher) for e in parsed.entries] == [
        (1, "310633997", "WhatsApp Messenger", "WhatsApp Inc."),
        (2, "443904275", "LINE", "LINE Corporation"),
        (3, "414478124", "WeChat", "Tencent Technology (Shenzhen) Company Limited"),
    ]


def test_itunes_feed_with_one_entry_gives_an_object_not_a_list() -> None:
    parsed = parse_itunes(payload("itunes_single_entry.json"))

    assert parsed.country == "HK"
    assert [(e.rank, e.app_name) for e in parsed.entries] == [(1, "WeChat")]


def test_itunes_entry_without_an_id_is_refused() -> None:
    feed = payload("itunes_us_top_grossing_social.json")
    del feed["feed"]["entry"][2]["id"]

    with pytest.raises(ChartPayloadError, match="Entry 3"):
        parse_itunes(feed)


def test_truncated_json_is_a_clear_error() -> None:
    raw = (FIXTURES / "apple_v2_truncated.json").read_text(encoding="utf-8")

    with pytest.raises(ChartPayloadError, match="is not JSON"):
        fetchers.load_json(raw, "apple_v2_truncated.json")


# --- Fetching over HTTP ----------------------------------------------------------------------


def fetcher_answering(handler: Any, settings: Settings) -> AppleRssFetcher:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return AppleRssFetcher(client, settings, today=DAY)


def test_top_free_is_read_from_the_v2_feed_and_top_grossing_from_the_legacy_one(
    settings: Settings,
) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        name = (
            "apple_v2_it_top_free.json"
            if "/api/v2/" in str(request.url)
            else ("itunes_us_top_grossing_social.json")
        )
        return httpx.Response(200, content=(FIXTURES / name).read_bytes())

    fetcher = fetcher_answering(handler, settings)
    free = fetcher.fetch(country="IT", chart=Chart.TOP_FREE, category="", depth=5)
    grossing = fetcher.fetch(country="US", chart=Chart.TOP_GROSSING, category="6005", depth=3)

    assert asked == [
        "https://rss.applemarketingtools.com/api/v2/it/apps/top-free/5/apps.json",
        "https://itunes.apple.com/us/rss/topgrossingapplications/limit=3/genre=6005/json",
    ]
    assert (free.country, free.day, len(free.entries)) == ("IT", DAY, 5)
    assert (grossing.chart, grossing.category) == (Chart.TOP_GROSSING, "6005")


def test_an_http_error_is_a_fetch_error_and_a_bad_body_a_payload_error(settings: Settings) -> None:
    down = fetcher_answering(lambda _r: httpx.Response(503, text="busy"), settings)
    garbage = fetcher_answering(lambda _r: httpx.Response(200, text="<html>"), settings)

    with pytest.raises(ChartFetchError, match="HTTP 503"):
        down.fetch(country="IT", chart=Chart.TOP_FREE, category="", depth=10)
    with pytest.raises(ChartPayloadError, match="not JSON"):
        garbage.fetch(country="IT", chart=Chart.TOP_FREE, category="", depth=10)


# --- The daily snapshot: a bad chart is skipped and retried, nothing else lost ------------------


class FakeFetcher:
    """Answers a chart per country; countries in ``broken`` send a bad payload."""

    store = Store.APPLE

    def __init__(self, broken: set[str]) -> None:
        self.broken = broken

    def fetch(self, *, country: str, chart: Chart, category: str, depth: int) -> ParsedChart:
        if country in self.broken:
            raise ChartPayloadError("The v2 feed has no list at feed.results")
        return chart_of(country)


def chart_of(country: str) -> ParsedChart:
    return chart(country, DAY, ["wechat", "whatsapp", "line"], store=Store.APPLE)


def configured(settings: Settings, countries: str) -> Settings:
    return settings.model_copy(update={"market_countries": countries})


def test_one_bad_payload_fails_that_chart_only_and_keeps_earlier_ranks(
    db: Session, settings: Settings
) -> None:
    """Given three configured countries, one of which sends a broken payload, when the
    daily snapshot runs, then the other two are stored, the broken one is recorded as
    failed with its error (to retry), and its earlier good snapshot of the day is kept."""
    settings = configured(settings, "it,ar,cl")
    fetcher = FakeFetcher(broken=set())
    collect.fetch_due(
        db, settings=settings, fetcher_for=lambda s: fetcher if s is Store.APPLE else None, day=DAY
    )
    fetcher.broken = {"AR"}

    outcomes = collect.fetch_due(
        db,
        settings=settings,
        fetcher_for=lambda s: fetcher if s is Store.APPLE else None,
        day=DAY,
        only_due=False,
    )

    assert [(o.target.country, o.ok, o.retry) for o in outcomes] == [
        ("IT", True, False),
        ("AR", False, True),
        ("CL", True, False),
    ]
    argentina = db.scalar(select(ChartSnapshot).where(ChartSnapshot.country == "AR"))
    assert argentina is not None
    assert argentina.status == SnapshotStatus.OK  # the good ranks of the day are not lost
    assert "feed.results" in argentina.error
    assert db.scalar(select(func.count(ChartEntry.id))) == 9


def test_a_chart_that_never_arrived_is_due_again_until_it_is_given_up(
    db: Session, settings: Settings
) -> None:
    settings = configured(settings, "ar")
    fetcher = FakeFetcher(broken={"AR"})
    target = collect.SnapshotTarget(Store.APPLE, "AR", Chart.TOP_FREE)
    dataset = collect.public_dataset(db, store=Store.APPLE)

    outcome = collect.fetch_one(db, settings=settings, fetcher=fetcher, target=target, day=DAY)

    snapshot = db.scalar(select(ChartSnapshot).where(ChartSnapshot.country == "AR"))
    assert snapshot is not None
    assert (outcome.ok, outcome.retry, snapshot.status) == (False, True, SnapshotStatus.FAILED)
    assert collect.is_due(db, dataset=dataset, target=target, day=DAY)
    snapshot.attempts = collect.MAX_ATTEMPTS_PER_DAY
    assert not collect.is_due(db, dataset=dataset, target=target, day=DAY)
    fetcher.broken = set()
    collect.fetch_one(db, settings=settings, fetcher=fetcher, target=target, day=DAY)
    assert snapshot.status == SnapshotStatus.OK
    assert not collect.is_due(db, dataset=dataset, target=target, day=DAY)


def test_the_queue_job_retries_a_failed_chart() -> None:
    """The job has an explicit retry policy and raises when the chart should be retried."""
    assert scheduled.snapshot_chart.retries == scheduled.RETRIES == 3
    assert scheduled.snapshot_chart.retry_delay == scheduled.RETRY_DELAY_S
    assert [job.name for job in scheduled.SCHEDULE] == ["market-snapshots"]


def test_configured_targets_and_a_wrong_setting(settings: Settings) -> None:
    good = settings.model_copy(
        update={"market_countries": "it, ar", "market_charts": "top-free,top-grossing"}
    )
    wrong = settings.model_copy(update={"market_countries": "italy"})

    targets = collect.configured_targets(good, stores=(Store.APPLE,))

    assert [(t.country, t.chart) for t in targets] == [
        ("IT", Chart.TOP_FREE),
        ("IT", Chart.TOP_GROSSING),
        ("AR", Chart.TOP_FREE),
        ("AR", Chart.TOP_GROSSING),
    ]
    with pytest.raises(ConfigurationError, match="GUANXI_MARKET_COUNTRIES"):
        collect.configured_targets(wrong, stores=(Store.APPLE,))


def make_play_fetcher(settings: Settings) -> FakeFetcher:
    """A Google Play fetcher factory, as a plugin would provide."""
    fetcher = FakeFetcher(broken=set())
    fetcher.store = Store.GOOGLE_PLAY
    return fetcher


def test_a_google_play_fetcher_is_plugged_in_by_a_setting(settings: Settings) -> None:
    plugged = settings.model_copy(
        update={"market_play_fetcher": "tests.test_market_fetchers:make_play_fetcher"}
    )
    missing = settings.model_copy(update={"market_play_fetcher": "tests.nowhere:factory"})

    fetcher = fetchers.load_play_fetcher(plugged)

    assert fetcher is not None
    assert fetcher.store is Store.GOOGLE_PLAY
    assert fetchers.load_play_fetcher(settings) is None
    with pytest.raises(ConfigurationError, match="GUANXI_MARKET_PLAY_FETCHER"):
        fetchers.load_play_fetcher(missing)


def test_v2_and_itunes_addresses() -> None:
    assert fetchers.apple_v2_url("http://x/", country="IT", chart=Chart.TOP_PAID, depth=50) == (
        "http://x/api/v2/it/apps/top-paid/50/apps.json"
    )
    assert fetchers.itunes_url("http://y", country="JP", chart=Chart.TOP_FREE, depth=200) == (
        "http://y/jp/rss/topfreeapplications/limit=200/json"
    )
    assert date(2013, 7, 27) == DAY


def test_the_job_records_a_failure_raises_for_a_retry_and_the_tick_queues_what_is_due(
    cli_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given Italy and Argentina configured and Argentina's feed broken, when the queue
    job runs for each, then Italy is stored, Argentina's failure is recorded and the job
    raises (so Huey retries it); the hourly tick then queues Argentina only."""
    upgraded(cli_database)
    monkeypatch.setenv(PREFIX + "MARKET_COUNTRIES", "it,ar")
    get_settings.cache_clear()
    scheduled.sessions.cache_clear()
    fetcher = FakeFetcher(broken={"AR"})
    monkeypatch.setattr(
        collect,
        "store_fetchers",
        lambda _s, **_kw: lambda store: fetcher if store is Store.APPLE else None,
    )
    queued: list[tuple[str, ...]] = []
    monkeypatch.setattr(scheduled, "snapshot_chart", lambda *args: queued.append(args))

    stored = scheduled.snapshot_chart_now("apple", "IT", "top-free")
    with pytest.raises(scheduled.SnapshotFailedError, match=r"feed\.results"):
        scheduled.snapshot_chart_now("apple", "AR", "top-free")
    due = scheduled.run_due_snapshots()

    assert stored == 3
    assert due == 1
    assert queued == [("apple", "AR", "top-free", "")]
    with Session(cli_database) as db:
        statuses = dict(db.execute(select(ChartSnapshot.country, ChartSnapshot.status)).all())
    assert statuses == {"IT": "ok", "AR": "failed"}
    scheduled.sessions.cache_clear()
