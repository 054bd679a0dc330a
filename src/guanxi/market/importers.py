"""Chart files into charts: generic CSV, Google Play CSV exports, Apple's two JSON feeds.

Every importer reads the whole file first and raises ``ChartPayloadError`` listing the
first problems (with their line numbers) before anything is stored: a bad file imports
nothing, so it can be fixed and imported again.

Generic CSV (``--format csv``), one line per app in a chart::

    date,store,country,chart,category,rank,app_id,app_name,publisher
    2013-07-27,google-play,IT,top-free,,1,com.tencent.mm,WeChat,Tencent

``category`` and ``publisher`` may be empty or missing. Google Play CSV (``--format
play-csv``) is a chart-tracker export in Play's own words::

    date,country,collection,category,position,package_name,title,developer

with ``collection`` one of Play's ``topselling_free``, ``topselling_paid``, ``topgrossing``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum
from pathlib import Path

from guanxi.core import filelimits, values
from guanxi.core.errors import N_
from guanxi.market.fetchers import (
    ChartPayloadError,
    ParsedChart,
    RankedApp,
    check_unique,
    load_json,
    normalize_country,
    parse_apple_v2,
    parse_itunes,
)
from guanxi.market.models import Chart, Store

MAX_PROBLEMS_SHOWN = 5
MAX_RANK = 1000
PLAY_COLLECTIONS: dict[str, Chart] = {
    "topselling_free": Chart.TOP_FREE,
    "topselling_paid": Chart.TOP_PAID,
    "topgrossing": Chart.TOP_GROSSING,
}
GENERIC_COLUMNS = ("date", "store", "country", "chart", "rank", "app_id", "app_name")
PLAY_COLUMNS = ("date", "country", "collection", "position", "package_name", "title")


class ImportFormat(StrEnum):
    """The file formats ``guanxi charts import`` reads."""

    CSV = "csv"
    PLAY_CSV = "play-csv"
    APPLE_V2 = "apple-v2"
    ITUNES = "itunes"


ChartKey = tuple[Store, str, Chart, str, date]
Row = dict[str, str]


def _problems(problems: list[str]) -> ChartPayloadError:
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    return ChartPayloadError(
        N_("Nothing was imported: {problems}{more}. Correct the file and import it again."),
        problems=shown,
        more=f" (and {more} more)" if more > 0 else "",
    )


def _read_rows(text: str, required: tuple[str, ...]) -> list[tuple[int, Row]]:
    # strict: a quote never closed is an error, not the rest of the file in one field
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
        rows = list(reader)
    except csv.Error as exc:
        raise _problems([f"line {reader.line_num}: {str(exc)[:120]}"]) from None
    missing = [name for name in required if name not in header]
    if missing:
        raise ChartPayloadError(
            N_("The CSV file lacks the column(s) {columns}. Its first line must name: {all}."),
            columns=", ".join(missing),
            all=",".join(required),
        )
    return [
        (
            number,
            {
                k.strip().lower(): (v if isinstance(v, str) else "").strip()
                for k, v in row.items()
                if k
            },
        )
        for number, row in enumerate(rows, start=2)
    ]


def _parse_day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"date {value!r} is not YYYY-MM-DD") from None
    try:
        return values.day(day)
    except values.InvalidValue:  # a chart of year 9999 (or 1970) is a broken file
        raise ValueError(f"date {value!r} is before 2000 or in the future") from None


def _parse_rank(value: str) -> int:
    if not value.isdecimal() or not 1 <= int(value) <= MAX_RANK:
        raise ValueError(f"rank {value!r} is not a whole number from 1 to {MAX_RANK}")
    return int(value)


def _group(
    rows: list[tuple[int, Row]], read: Callable[[Row], tuple[ChartKey, RankedApp]]
) -> list[ParsedChart]:
    problems: list[str] = []
    charts: dict[ChartKey, list[RankedApp]] = defaultdict(list)
    for number, row in rows:
        try:
            key, entry = read(row)
        except ChartPayloadError as exc:
            problems.append(f"line {number}: {exc}")
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
        else:
            charts[key].append(entry)
    parsed = []
    for key, entries in charts.items():
        store, country, chart, category, day = key
        where = f"{store} {country} {chart} {day}"
        try:
            ordered = check_unique(entries, where)
        except ChartPayloadError as exc:
            problems.append(str(exc))
            continue
        parsed.append(ParsedChart(store, country, chart, category, day, ordered))
    if problems:
        raise _problems(problems)
    if not parsed:
        raise ChartPayloadError(N_("The file holds no chart lines. Nothing was imported."))
    return sorted(parsed, key=lambda c: (c.day, c.store, c.chart, c.category, c.country))


def _generic_row(row: Row) -> tuple[ChartKey, RankedApp]:
    try:
        store, chart = Store(row["store"].lower()), Chart(row["chart"].lower())
    except ValueError:
        stores, charts = ", ".join(Store), ", ".join(Chart)
        msg = f"store must be one of {stores} and chart one of {charts}"
        raise ValueError(msg) from None
    if not row["app_id"] or not row["app_name"]:
        raise ValueError("app_id and app_name must not be empty")
    key = (
        store,
        normalize_country(row["country"]),
        chart,
        row.get("category", ""),
        _parse_day(row["date"]),
    )
    entry = RankedApp(
        _parse_rank(row["rank"]), row["app_id"], row["app_name"], row.get("publisher", "")
    )
    return key, entry


def _play_row(row: Row) -> tuple[ChartKey, RankedApp]:
    chart = PLAY_COLLECTIONS.get(row["collection"].lower())
    if chart is None:
        msg = f"collection must be one of {', '.join(PLAY_COLLECTIONS)}"
        raise ValueError(msg)
    if not row["package_name"] or not row["title"]:
        raise ValueError("package_name and title must not be empty")
    key = (
        Store.GOOGLE_PLAY,
        normalize_country(row["country"]),
        chart,
        row.get("category", ""),
        _parse_day(row["date"]),
    )
    entry = RankedApp(
        _parse_rank(row["position"]), row["package_name"], row["title"], row.get("developer", "")
    )
    return key, entry


def parse_generic_csv(text: str) -> list[ParsedChart]:
    """Charts from a generic CSV file (see the module's docstring for its columns)."""
    return _group(_read_rows(text, GENERIC_COLUMNS), _generic_row)


def parse_play_csv(text: str) -> list[ParsedChart]:
    """Google Play charts from a chart-tracker CSV export in Play's collection names."""
    return _group(_read_rows(text, PLAY_COLUMNS), _play_row)


def parse_text(
    text: str, fmt: ImportFormat, *, where: str = "the file", day: date | None = None
) -> list[ParsedChart]:
    """The charts in ``text`` read as ``fmt``; ``day`` overrides a JSON feed's own date."""
    if fmt is ImportFormat.CSV:
        return parse_generic_csv(text)
    if fmt is ImportFormat.PLAY_CSV:
        return parse_play_csv(text)
    payload = load_json(text, where)
    if fmt is ImportFormat.APPLE_V2:
        return [parse_apple_v2(payload, day=day)]
    return [parse_itunes(payload, day=day)]


def guess_format(path: Path) -> ImportFormat:
    """The format a file's name and first bytes suggest: JSON feeds by their shape."""
    head = path.read_bytes()[:4096].decode("utf-8", errors="ignore")
    return guess_text_format(path.name, head)


def guess_text_format(name: str, head: str) -> ImportFormat:
    """The format a file name and the start of its text suggest."""
    if name.lower().endswith(".json") or head.lstrip().startswith("{"):
        return ImportFormat.APPLE_V2 if '"results"' in head else ImportFormat.ITUNES
    first_line = head.splitlines()[0].lower() if head else ""
    return ImportFormat.PLAY_CSV if "collection" in first_line else ImportFormat.CSV


def decode(raw: bytes, name: str) -> str:
    """``raw`` as text (UTF-8, UTF-16 with a BOM, GBK/GB18030: the encodings the listening
    importers read), or a ChartPayloadError saying how to fix it."""
    text = filelimits.decode_text(raw)
    if text is None:
        raise ChartPayloadError(
            N_("{path} is not UTF-8 text. Save it as UTF-8 and import it again."), path=name
        )
    return text


def read_file(
    path: Path, fmt: ImportFormat | None = None, *, day: date | None = None
) -> list[ParsedChart]:
    """The charts in the file at ``path`` (format guessed when not given)."""
    text = decode(path.read_bytes(), path.name)
    return parse_text(text, fmt or guess_format(path), where=path.name, day=day)


def write_generic_csv(charts: Iterable[ParsedChart]) -> str:
    """``charts`` as a generic CSV file (what ``parse_generic_csv`` reads back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*GENERIC_COLUMNS[:4], "category", *GENERIC_COLUMNS[4:], "publisher"])
    for chart in charts:
        for entry in chart.entries:
            writer.writerow(
                [
                    chart.day.isoformat(),
                    chart.store.value,
                    chart.country,
                    chart.chart.value,
                    chart.category,
                    entry.rank,
                    entry.app_key,
                    entry.app_name,
                    entry.publisher,
                ]
            )
    return out.getvalue()
