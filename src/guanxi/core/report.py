"""Reports: what a capability contributes to a report, as data every format renders alike.

Each capability names its report sections in its declaration (``Capability.report_sections``):
a function that, for a workspace and a period (with the period it is compared to), returns
one ``ReportSection`` made of blocks: headline figures with their previous values, charts,
tables and the sentences that open the section. The figures come from the capability's
own service functions, never from queries written for the report, so a figure never
differs between a page and a report. The ``report`` capability orders the sections, adds
the manager's comments and renders the same document as a web page, a PDF, a PowerPoint
deck and an Excel workbook; the web pages draw a ``Chart`` with ECharts and the files with
vector or native Office charts, from the same definition.

Texts are kept as ``Text``: a message marked with ``N_`` and its named values, translated
when a report is rendered in a language (a report is made in English and in Chinese from
one document). Numbers stay numbers until then, so each format writes them its own way
(万/亿 in Chinese where natural, a number cell in Excel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeVar
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# At most this many rows in a table, points in a series, series in a chart: a report is read
# by people, and every format must stay quick to make for the biggest workspace.
MAX_TABLE_ROWS = 50
MAX_POINTS = 400
MAX_SERIES = 12
# A chart's colours after the brand's (ECharts' default palette), alike on a page, in the
# report's preview and in the PDF's SVG drawings.
PALETTE = ("#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452")

_Row = TypeVar("_Row")


@dataclass(frozen=True)
class Name:
    """A proper name written differently per language (a platform: Weibo, 微博), which no
    message catalog holds: a ``Text`` value, a chart's category or a table's cell."""

    en: str
    zh: str

    def in_language(self, language: str) -> str:
        """The name as ``language`` (a report language: en or zh_Hans) writes it."""
        return self.zh if language == "zh_Hans" else self.en


@dataclass(frozen=True)
class Text:
    """A message marked with ``N_`` and the values it is formatted with, once translated.

    A value that is a ``Number`` is formatted for the report's language, a ``Name`` written
    as that language writes it."""

    message: str
    values: Mapping[str, str | int | float | Number | Text | Name] = field(default_factory=dict)


class Unit(StrEnum):
    """How a number is written."""

    COUNT = "count"  # 1,380 / 1,380; 12.3万 in Chinese above 10,000
    PERCENT = "percent"  # a ratio: 0.042 is written 4.2%
    MONEY = "money"  # in the currency of the figure (``Number.currency``)
    DURATION = "duration"  # seconds, written as minutes or hours
    RANK = "rank"  # a chart position: lower is better


@dataclass(frozen=True)
class Number:
    """A value with its unit (and currency, for money)."""

    value: float | None  # None: not known for this period (written "—")
    unit: Unit = Unit.COUNT
    currency: str = ""


# What a ``Text`` is formatted with.
TextValue = str | int | float | Number | Text | Name


@dataclass(frozen=True)
class Figure:
    """A headline figure: this period's value, the comparison period's, and which way is good."""

    key: str
    label: Text
    current: Number
    previous: Number | None = None
    # Whether a rise is good news (followers) or bad (negative mentions, response time).
    higher_is_better: bool = True
    # Which kind of figure: attributed or incremental (convert), estimated, platform-reported.
    note: Text | None = None


class ChartKind(StrEnum):
    """The charts every format can draw natively."""

    LINE = "line"
    BAR = "bar"  # vertical bars, one group a category
    STACKED_BAR = "stacked_bar"
    HORIZONTAL_BAR = "horizontal_bar"  # rankings: top posts, share of voice
    PIE = "pie"  # one series, its shares


@dataclass(frozen=True)
class Series:
    """One line, one set of bars or the slices of a pie."""

    name: Text
    values: tuple[float | None, ...]  # one a category; None where there is no value


@dataclass(frozen=True)
class Chart:
    """A chart's data and look, drawn alike by the web page and by every file format."""

    key: str
    title: Text
    kind: ChartKind
    # Dates and names are written per language, messages ("Positive") translated.
    categories: tuple[str | date | Name | Text, ...]
    series: tuple[Series, ...]
    unit: Unit = Unit.COUNT


@dataclass(frozen=True)
class Column:
    """A table's column: its heading and how its values are written."""

    heading: Text
    unit: Unit | None = None  # None: text


@dataclass(frozen=True)
class Table:
    """A table (top posts, people, links...), at most ``MAX_TABLE_ROWS`` rows."""

    key: str
    title: Text
    columns: tuple[Column, ...]
    # A cell is text as it is, a number (written per the column's unit), a name, a message
    # to translate ("Unassigned") or a date.
    rows: tuple[tuple[str | float | int | Name | Text | date | None, ...], ...]
    # The rows left out above MAX_TABLE_ROWS, said under the table.
    more: int = 0


@dataclass(frozen=True)
class Paragraph:
    """A sentence or two of the section's narrative."""

    text: Text


Block = Figure | Chart | Table | Paragraph


@dataclass(frozen=True)
class ReportSection:
    """One capability's part of a report."""

    key: str  # stable, e.g. "measure.accounts"; a definition lists the keys it shows
    title: Text
    blocks: tuple[Block, ...] = ()
    # Why the section is empty ("No account is connected"), shown instead of the blocks.
    empty: Text | None = None


@dataclass(frozen=True)
class ReportQuery:
    """Which workspace and period a section is made for, and the period it is compared to.

    Both periods are whole days, ``start`` to ``end`` inclusive, in the workspace's zone."""

    workspace_id: int
    start: date
    end: date
    compare_start: date | None = None
    compare_end: date | None = None
    time_zone: str = "Asia/Shanghai"
    # Limits a section to one campaign (a campaign wrap-up), where it has campaigns.
    campaign_id: int | None = None


def day_bounds(start: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC moments the days ``start``..``end`` of ``zone`` begin and end (exclusive)."""
    local = ZoneInfo(zone)
    begins = datetime.combine(start, time(), local).astimezone(UTC)
    ends = datetime.combine(end + timedelta(days=1), time(), local).astimezone(UTC)
    return begins, ends


@dataclass(frozen=True)
class SectionOffer:
    """A section a capability can add: its key and title (listed when a report is defined)
    and the ``module:function`` reference of its ``ReportSectionSource``."""

    key: str
    title: str  # marked with N_
    source: str


class ReportSectionSource(Protocol):
    """A capability's report section: made for ``query``, from its own service functions."""

    def __call__(self, db: Session, query: ReportQuery) -> ReportSection: ...


# --- What every section's source uses -----------------------------------------------------


class Direction(StrEnum):
    """Which way a figure moved from the comparison period: the narrative says it in words
    ("grew", "fell") with the size of the change, never a signed number."""

    UP = "up"
    DOWN = "down"
    SAME = "same"
    UNKNOWN = "unknown"  # one of the two is not known


def direction(current: float | None, previous: float | None) -> Direction:
    """Which way ``current`` moved from ``previous``."""
    if current is None or previous is None:
        return Direction.UNKNOWN
    if current > previous:
        return Direction.UP
    if current < previous:
        return Direction.DOWN
    return Direction.SAME


def relative_change(current: float | None, previous: float | None) -> Number:
    """The size of the change from ``previous`` to ``current`` as a share of ``previous``
    (0.042 is 4.2%), without its sign (the sentence says which way); unknown from zero."""
    if current is None or previous is None or previous == 0:
        return Number(None, Unit.PERCENT)
    return Number(abs(current - previous) / abs(previous), Unit.PERCENT)


def compared(current: float | None, previous: float | None) -> tuple[Direction, Number]:
    """Which way ``current`` moved from ``previous`` and by what share, for a sentence that
    says the change as a share: UNKNOWN (say it plainer) when the share means nothing, as
    from zero."""
    way = direction(current, previous)
    change = relative_change(current, previous)
    if change.value is None and way is not Direction.SAME:
        way = Direction.UNKNOWN
    return way, change


def day_buckets(start: date, end: date) -> list[tuple[date, date]]:
    """The days ``start``..``end`` as at most ``MAX_POINTS`` consecutive spans (first and last
    day): one a day, or whole weeks when the period has more days than a chart has points."""
    days = (end - start).days + 1
    size = -(-days // MAX_POINTS)  # days per point, rounded up
    if size > 1:
        size = 7 * -(-size // 7)
    spans = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=size - 1))
        spans.append((first, last))
        first = last + timedelta(days=1)
    return spans


def fit_series(series: list[Series], other: Text) -> tuple[Series, ...]:
    """``series`` (largest first) cut to ``MAX_SERIES``: those past the limit are summed into
    one last series named ``other``, so a chart of many accounts still shows every one."""
    if len(series) <= MAX_SERIES:
        return tuple(series)
    kept, rest = series[: MAX_SERIES - 1], series[MAX_SERIES - 1 :]
    summed: list[float | None] = []
    for values in zip(*(s.values for s in rest), strict=True):
        known = [v for v in values if v is not None]
        summed.append(sum(known) if known else None)
    return (*kept, Series(other, tuple(summed)))


def shown(blocks: list[Block]) -> tuple[Block, ...]:
    """The blocks worth showing: a table without rows says nothing the sentences do not."""
    return tuple(block for block in blocks if not (isinstance(block, Table) and not block.rows))


def table_rows(rows: list[_Row]) -> tuple[tuple[_Row, ...], int]:
    """``rows`` cut to ``MAX_TABLE_ROWS`` and how many were left out (said under the table)."""
    return tuple(rows[:MAX_TABLE_ROWS]), max(0, len(rows) - MAX_TABLE_ROWS)
