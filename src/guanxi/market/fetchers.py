"""Reading app-store charts: Apple's two RSS feeds, and a pluggable Google Play fetcher.

Both Apple formats are parsed by pure functions (tested against recorded payloads), so a
fetch is "GET, then parse". A payload that is not what the format documents raises
``ChartPayloadError`` with what was wrong: the caller records that snapshot as failed (to be
retried) and nothing already stored is touched.

- v2 JSON feed, ``/api/v2/<cc>/apps/top-free/<n>/apps.json``: ``feed.results`` in chart
  order, with no rank field (the rank is the position) and at most 100 results; top free
  and top paid only.
- legacy iTunes feed, ``/<cc>/rss/topfreeapplications/limit=<n>/genre=<id>/json``:
  ``feed.entry`` (an object instead of a list when there is one entry), fields wrapped in
  ``{"label": ...}``; the three charts, by genre, up to 200.

Google publishes no chart feed: a ``PlayChartFetcher`` is plugged in by
``GUANXI_MARKET_PLAY_FETCHER`` (``module:factory``), and Play charts can always be imported
from CSV exports (``importers``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from guanxi.core import filelimits
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import ConfigurationError, Settings
from guanxi.market.models import Chart, Store

V2_MAX_RESULTS = 100
ITUNES_MAX_RESULTS = 200
V2_CHARTS = (Chart.TOP_FREE, Chart.TOP_PAID)
ITUNES_FEEDS: dict[Chart, str] = {
    Chart.TOP_FREE: "topfreeapplications",
    Chart.TOP_PAID: "toppaidapplications",
    Chart.TOP_GROSSING: "topgrossingapplications",
}
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
V2_ID_RE = re.compile(r"/api/v2/([a-z]{2})/apps/(top-free|top-paid)/", re.IGNORECASE)
ITUNES_ID_RE = re.compile(r"/([a-z]{2})/rss/(\w+?)/", re.IGNORECASE)
GENRE_RE = re.compile(r"genre=(\d+)")


class ChartPayloadError(UserError):
    """A chart payload is not in the documented format; that snapshot is skipped."""


class ChartFetchError(UserError):
    """The store did not answer with a chart (network error, HTTP error); worth a retry."""

    status_code = 502


@dataclass(frozen=True)
class RankedApp:
    """One line of a chart."""

    rank: int
    app_key: str
    app_name: str
    publisher: str = ""


@dataclass(frozen=True)
class ParsedChart:
    """A chart as read from a feed or a file, before it is stored."""

    store: Store
    country: str
    chart: Chart
    category: str
    day: date
    entries: tuple[RankedApp, ...]
    source_url: str = ""


def normalize_country(value: str) -> str:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code, or a ChartPayloadError."""
    value = value.strip()
    if not COUNTRY_RE.match(value):
        raise ChartPayloadError(
            N_("{value} is not a country code. Use two letters, such as IT or us."), value=value
        )
    return value.upper()


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ChartPayloadError(
            N_("The chart payload has no object at {where}: it is not the documented format."),
            where=where,
        )
    return value


def _text(value: object) -> str:
    """A field as text; the legacy feed wraps values in {"label": ...}."""
    if isinstance(value, Mapping):
        value = value.get("label", "")
    return value.strip() if isinstance(value, str) else ""


def check_unique(entries: list[RankedApp], where: str) -> tuple[RankedApp, ...]:
    """The entries, provided no app appears twice and no rank is taken twice."""
    seen: set[str] = set()
    ranks: set[int] = set()
    for entry in entries:
        if entry.app_key in seen:
            raise ChartPayloadError(
                N_("{where}: the app {app} appears twice in one chart."),
                where=where,
                app=entry.app_key,
            )
        if entry.rank in ranks:
            raise ChartPayloadError(
                N_("{where}: rank {rank} is given twice in one chart."),
                where=where,
                rank=entry.rank,
            )
        seen.add(entry.app_key)
        ranks.add(entry.rank)
    return tuple(sorted(entries, key=lambda e: e.rank))


def load_json(raw: bytes | str, where: str) -> object:
    """The JSON in ``raw``, or a ChartPayloadError saying it is not JSON."""
    try:
        return filelimits.loads_json(raw)  # refuses JSON nested too deep, never recursing
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChartPayloadError(
            N_("{where} is not JSON ({error}). Check that it is a chart feed."),
            where=where,
            error=str(exc)[:120],
        ) from None


def _day_of(stamp: str, *, rfc2822: bool) -> date | None:
    try:
        moment = parsedate_to_datetime(stamp) if rfc2822 else datetime.fromisoformat(stamp)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def parse_apple_v2(
    payload: object,
    *,
    country: str = "",
    chart: Chart | None = None,
    day: date | None = None,
    source_url: str = "",
) -> ParsedChart:
    """A chart from Apple's RSS v2 JSON feed; rank = position (1-based), at most 100.

    ``country``, ``chart`` and ``day`` default to what the feed says about itself
    (``feed.country``, ``feed.id``, ``feed.updated``).
    """
    feed = _mapping(_mapping(payload, "the top level").get("feed"), "feed")
    results = feed.get("results")
    if not isinstance(results, list):
        raise ChartPayloadError(
            N_("The v2 feed has no list at feed.results: it is not the documented format.")
        )
    if len(results) > V2_MAX_RESULTS:
        raise ChartPayloadError(
            N_("The v2 feed has {count} results; Apple's v2 feed gives at most {max}."),
            count=len(results),
            max=V2_MAX_RESULTS,
        )
    described = V2_ID_RE.search(_text(feed.get("id")))
    country = country or _text(feed.get("country")) or (described.group(1) if described else "")
    if not country:
        raise ChartPayloadError(N_("The v2 feed does not say its country; give it."))
    if chart is None:
        if described is None:
            raise ChartPayloadError(N_("The v2 feed does not say its chart; give it."))
        chart = Chart(described.group(2).lower())
    day = day or _day_of(_text(feed.get("updated")), rfc2822=True)
    if day is None:
        raise ChartPayloadError(N_("The v2 feed has no readable feed.updated date; give the day."))
    entries = []
    for position, item in enumerate(results, start=1):
        result = _mapping(item, f"feed.results[{position - 1}]")
        app_key, name = _text(result.get("id")), _text(result.get("name"))
        if not app_key or not name:
            raise ChartPayloadError(
                N_("Result {position} of the v2 feed has no id or no name."), position=position
            )
        entries.append(RankedApp(position, app_key, name, _text(result.get("artistName"))))
    return ParsedChart(
        store=Store.APPLE,
        country=normalize_country(country),
        chart=chart,
        category="",
        day=day,
        entries=check_unique(entries, "v2 feed"),
        source_url=source_url or _text(feed.get("id")),
    )


def parse_itunes(
    payload: object,
    *,
    country: str = "",
    chart: Chart | None = None,
    category: str | None = None,
    day: date | None = None,
    source_url: str = "",
) -> ParsedChart:
    """A chart from the legacy iTunes RSS JSON feed; rank = position, at most 200.

    ``country``, ``chart``, ``category`` (genre id) and ``day`` default to what the feed's
    ``feed.id`` and ``feed.updated`` say.
    """
    feed = _mapping(_mapping(payload, "the top level").get("feed"), "feed")
    raw_entries = feed.get("entry", [])
    # With a single entry the feed gives an object, not a list of one.
    items = [raw_entries] if isinstance(raw_entries, Mapping) else raw_entries
    if not isinstance(items, list):
        raise ChartPayloadError(
            N_("The iTunes feed's feed.entry is not a list: it is not the documented format.")
        )
    if len(items) > ITUNES_MAX_RESULTS:
        raise ChartPayloadError(
            N_("The iTunes feed has {count} entries; it gives at most {max}."),
            count=len(items),
            max=ITUNES_MAX_RESULTS,
        )
    feed_id = _text(feed.get("id"))
    described = ITUNES_ID_RE.search(feed_id)
    country = country or (described.group(1) if described else "")
    if not country:
        raise ChartPayloadError(N_("The iTunes feed does not say its country; give it."))
    if chart is None:
        by_feed = {name: key for key, name in ITUNES_FEEDS.items()}
        found = by_feed.get(described.group(2).lower()) if described else None
        if found is None:
            raise ChartPayloadError(N_("The iTunes feed does not say its chart; give it."))
        chart = found
    if category is None:
        genre = GENRE_RE.search(feed_id)
        category = genre.group(1) if genre else ""
    day = day or _day_of(_text(feed.get("updated")), rfc2822=False)
    if day is None:
        raise ChartPayloadError(
            N_("The iTunes feed has no readable feed.updated date; give the day.")
        )
    entries = []
    for position, item in enumerate(items, start=1):
        entry = _mapping(item, f"feed.entry[{position - 1}]")
        attributes = _mapping(entry.get("id", {}), "id").get("attributes", {})
        app_key = _text(_mapping(attributes, "id.attributes").get("im:id"))
        name = _text(entry.get("im:name"))
        if not app_key or not name:
            raise ChartPayloadError(
                N_("Entry {position} of the iTunes feed has no im:id or no im:name."),
                position=position,
            )
        entries.append(RankedApp(position, app_key, name, _text(entry.get("im:artist"))))
    return ParsedChart(
        store=Store.APPLE,
        country=normalize_country(country),
        chart=chart,
        category=category,
        day=day,
        entries=check_unique(entries, "iTunes feed"),
        source_url=source_url or feed_id,
    )


def apple_v2_url(base: str, *, country: str, chart: Chart, depth: int) -> str:
    """The v2 feed's address for a country's chart."""
    return f"{base.rstrip('/')}/api/v2/{country.lower()}/apps/{chart.value}/{depth}/apps.json"


def itunes_url(base: str, *, country: str, chart: Chart, depth: int, category: str = "") -> str:
    """The legacy feed's address for a country's chart (of a genre, when given)."""
    genre = f"/genre={category}" if category else ""
    return (
        f"{base.rstrip('/')}/{country.lower()}/rss/{ITUNES_FEEDS[chart]}/limit={depth}{genre}/json"
    )


class ChartFetcher(Protocol):
    """Reads one chart of one store for one country, today."""

    store: Store

    def fetch(self, *, country: str, chart: Chart, category: str, depth: int) -> ParsedChart:
        """The chart as the store shows it now; ChartFetchError or ChartPayloadError."""
        ...


# Google Play has no public chart feed: any object with this shape can be plugged in.
PlayChartFetcher = ChartFetcher


class AppleRssFetcher:
    """Apple's charts through its RSS feeds: v2 where it serves the chart, else legacy."""

    store = Store.APPLE

    def __init__(self, client: httpx.Client, settings: Settings, *, today: date) -> None:
        self.client = client
        self.v2_base = settings.market_apple_rss_base
        self.itunes_base = settings.market_itunes_rss_base
        self.today = today

    def fetch(self, *, country: str, chart: Chart, category: str, depth: int) -> ParsedChart:
        """GET the chart and parse it; the day is today (the feeds' own stamp is a time)."""
        use_v2 = chart in V2_CHARTS and not category and depth <= V2_MAX_RESULTS
        if use_v2:
            url = apple_v2_url(self.v2_base, country=country, chart=chart, depth=depth)
        else:
            url = itunes_url(
                self.itunes_base, country=country, chart=chart, depth=depth, category=category
            )
        payload = load_json(self._get(url), url)
        if use_v2:
            return parse_apple_v2(
                payload, country=country, chart=chart, day=self.today, source_url=url
            )
        return parse_itunes(
            payload, country=country, chart=chart, category=category, day=self.today, source_url=url
        )

    def _get(self, url: str) -> bytes:
        try:
            response = self.client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ChartFetchError(
                N_("Could not reach {url}: {error}. It will be tried again."),
                url=url,
                error=str(exc)[:200],
            ) from None
        if response.status_code != 200:
            raise ChartFetchError(
                N_("{url} answered HTTP {status}. It will be tried again."),
                url=url,
                status=response.status_code,
            )
        return response.content


def load_play_fetcher(settings: Settings) -> ChartFetcher | None:
    """The Google Play fetcher named by ``GUANXI_MARKET_PLAY_FETCHER``, or None."""
    target = settings.market_play_fetcher.strip()
    if not target:
        return None
    module_name, _, attribute = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        msg = (
            f"GUANXI_MARKET_PLAY_FETCHER={target!r} cannot be loaded ({exc}). Give "
            "'package.module:factory' of an installed package, or leave it empty."
        )
        raise ConfigurationError(msg) from None
    fetcher: ChartFetcher = factory(settings)
    return fetcher
