"""What the chart pages compute: the country matrix, movers, leaders, reach, rank history.

The arithmetic is pure (``Ranks`` in, rows out) so tests check it on small hand-made
charts; the loaders read exactly the snapshots it needs (one chart, one or two days).
A rank is better when smaller: "up" means a smaller number than before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from guanxi.market.models import Chart, ChartEntry, ChartSnapshot, SnapshotStatus, Store

# country -> app key -> rank
Ranks = dict[str, dict[str, int]]


@dataclass(frozen=True)
class ChartSelection:
    """One chart of one dataset: the unit every page and query works on."""

    dataset_id: int
    store: Store
    chart: Chart
    category: str = ""


class Change(StrEnum):
    """How a cell moved since the previous snapshot of its country."""

    NEW = "new"  # in the top N now, not before (or never charted before)
    UP = "up"
    DOWN = "down"
    SAME = "same"


@dataclass(frozen=True)
class Cell:
    """An app's rank in one country, and how it moved."""

    rank: int
    previous: int | None
    change: Change
    delta: int  # places gained (positive = moved up); 0 for new or same


@dataclass
class MatrixRow:
    """An app and the countries where it is in the top N."""

    app_key: str
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def countries_in_top(self) -> int:
        """In how many countries the app is in the top N."""
        return len(self.cells)

    @property
    def number_ones(self) -> int:
        """In how many countries the app is first."""
        return sum(1 for cell in self.cells.values() if cell.rank == 1)

    @property
    def best_rank(self) -> int:
        """The app's best rank anywhere."""
        return min(cell.rank for cell in self.cells.values())


def change_of(rank: int, previous: int | None, *, top: int) -> tuple[Change, int]:
    """How ``rank`` moved from ``previous`` (None: not charted before) within a top N."""
    if previous is None or previous > top:
        return Change.NEW, 0
    if rank < previous:
        return Change.UP, previous - rank
    if rank > previous:
        return Change.DOWN, previous - rank
    return Change.SAME, 0


def matrix_rows(current: Ranks, previous: Ranks, *, top: int) -> list[MatrixRow]:
    """One row per app in the top ``top`` of any country; most widespread apps first.

    A country with no previous snapshot marks nothing as new: there is nothing to compare.
    """
    rows: dict[str, MatrixRow] = {}
    for country, ranks in current.items():
        before = previous.get(country)
        for app_key, rank in ranks.items():
            if rank > top:
                continue
            if before is None:
                change, delta, prior = Change.SAME, 0, None
            else:
                prior = before.get(app_key)
                change, delta = change_of(rank, prior, top=top)
            row = rows.setdefault(app_key, MatrixRow(app_key))
            row.cells[country] = Cell(rank, prior, change, delta)
    return sorted(
        rows.values(),
        key=lambda r: (
            -r.countries_in_top,
            -r.number_ones,
            sum(c.rank for c in r.cells.values()),
            r.app_key,
        ),
    )


def in_top(current: Ranks, *, app_key: str, top: int) -> dict[str, int]:
    """The countries where ``app_key`` is in the top ``top``, with its rank."""
    return {
        country: ranks[app_key]
        for country, ranks in sorted(current.items())
        if app_key in ranks and ranks[app_key] <= top
    }


@dataclass(frozen=True)
class Move:
    """An app's rank in a country at the start and the end of a period."""

    country: str
    app_key: str
    before: int | None
    after: int | None

    @property
    def delta(self) -> int:
        """Places gained (positive = moved up); 0 when either end is not charted."""
        if self.before is None or self.after is None:
            return 0
        return self.before - self.after


@dataclass
class Movers:
    """What changed between two days of a chart."""

    risers: list[Move]
    fallers: list[Move]
    entries: list[Move]  # in the top N at the end, not at the start
    exits: list[Move]  # in the top N at the start, not at the end


def movers_between(before: Ranks, after: Ranks, *, top: int, limit: int = 25) -> Movers:
    """Risers and fallers within the top ``top``, new entries and exits, per country.

    Only countries charted on both days are compared.
    """
    risers, fallers, entries, exits = [], [], [], []
    for country in sorted(before.keys() & after.keys()):
        start, end = before[country], after[country]
        for app_key in sorted(start.keys() | end.keys()):
            move = Move(country, app_key, start.get(app_key), end.get(app_key))
            was_in = move.before is not None and move.before <= top
            is_in = move.after is not None and move.after <= top
            if is_in and not was_in:
                entries.append(move)
            elif was_in and not is_in:
                exits.append(move)
            elif is_in and move.delta > 0:
                risers.append(move)
            elif is_in and move.delta < 0:
                fallers.append(move)
    risers.sort(key=lambda m: (-m.delta, m.after or 0, m.country))
    fallers.sort(key=lambda m: (m.delta, m.after or 0, m.country))
    entries.sort(key=lambda m: (m.after or 0, m.country, m.app_key))
    exits.sort(key=lambda m: (m.before or 0, m.country, m.app_key))
    return Movers(risers[:limit], fallers[:limit], entries[:limit], exits[:limit])


def leaders(current: Ranks, *, podium: int = 3) -> dict[str, list[tuple[int, str]]]:
    """Per country, its top ``podium`` apps as (rank, app key)."""
    return {
        country: sorted((rank, key) for key, rank in ranks.items() if rank <= podium)
        for country, ranks in sorted(current.items())
    }


def leader_counts(current: Ranks) -> list[tuple[str, int]]:
    """How many countries each app leads, most first."""
    counts: dict[str, int] = defaultdict(int)
    for ranks in current.values():
        for key, rank in ranks.items():
            if rank == 1:
                counts[key] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# --- Loaders ---------------------------------------------------------------------------------


def _snapshots(selection: ChartSelection) -> Select[int]:
    return select(ChartSnapshot.id).where(
        ChartSnapshot.dataset_id == selection.dataset_id,
        ChartSnapshot.store == selection.store,
        ChartSnapshot.chart == selection.chart,
        ChartSnapshot.category == selection.category,
        ChartSnapshot.status == SnapshotStatus.OK,
    )


def chart_days(db: Session, *, selection: ChartSelection) -> list[date]:
    """The days the chart has snapshots on, in order."""
    query = (
        select(ChartSnapshot.day)
        .where(ChartSnapshot.id.in_(_snapshots(selection)))
        .distinct()
        .order_by(ChartSnapshot.day)
    )
    return list(db.scalars(query))


def _ranks_of(db: Session, snapshot_filter: Select[int], depth: int | None) -> Ranks:
    query = (
        select(ChartSnapshot.country, ChartEntry.app_key, ChartEntry.rank)
        .join(ChartEntry, ChartEntry.snapshot_id == ChartSnapshot.id)
        .where(ChartSnapshot.id.in_(snapshot_filter))
    )
    if depth is not None:
        query = query.where(ChartEntry.rank <= depth)
    ranks: Ranks = defaultdict(dict)
    for country, app_key, rank in db.execute(query):
        ranks[country][app_key] = rank
    # A snapshot stored with no entries still says "this country was charted".
    countries = select(ChartSnapshot.country).where(ChartSnapshot.id.in_(snapshot_filter))
    for country in db.scalars(countries):
        ranks.setdefault(country, {})
    return dict(ranks)


def ranks_on(
    db: Session, *, selection: ChartSelection, day: date, depth: int | None = None
) -> Ranks:
    """Every country's ranks on ``day`` (to ``depth`` when given)."""
    return _ranks_of(db, _snapshots(selection).where(ChartSnapshot.day == day), depth)


def ranks_before(
    db: Session, *, selection: ChartSelection, day: date, depth: int | None = None
) -> Ranks:
    """Each country's ranks on its latest snapshot before ``day``."""
    latest = (
        select(ChartSnapshot.country, func.max(ChartSnapshot.day))
        .where(ChartSnapshot.id.in_(_snapshots(selection)), ChartSnapshot.day < day)
        .group_by(ChartSnapshot.country)
    )
    # Two small steps rather than one join: PostgreSQL planned the join badly (seconds).
    by_day: dict[date, list[str]] = defaultdict(list)
    for country, previous in db.execute(latest):
        by_day[previous].append(country)
    if not by_day:
        return {}
    which = or_(
        *(and_(ChartSnapshot.day == d, ChartSnapshot.country.in_(cs)) for d, cs in by_day.items())
    )
    return _ranks_of(db, _snapshots(selection).where(which), depth)


def names_on(
    db: Session, *, selection: ChartSelection, app_keys: Iterable[str], day: date | None = None
) -> dict[str, tuple[str, str]]:
    """The latest (name, publisher) of each app in the chart (as of ``day`` when given: a
    page about one day reads only that day's rows)."""
    keys = list(dict.fromkeys(app_keys))
    if not keys:
        return {}
    snapshots = _snapshots(selection)
    if day is not None:
        snapshots = snapshots.where(ChartSnapshot.day == day)
    query = (
        select(ChartEntry.app_key, ChartEntry.app_name, ChartEntry.publisher)
        .join(ChartSnapshot, ChartSnapshot.id == ChartEntry.snapshot_id)
        .where(ChartSnapshot.id.in_(snapshots), ChartEntry.app_key.in_(keys))
        .order_by(ChartSnapshot.day)
    )
    return {key: (name, publisher) for key, name, publisher in db.execute(query)}


def rank_history(
    db: Session,
    *,
    selection: ChartSelection,
    app_key: str,
    countries: Sequence[str] = (),
    start: date | None = None,
    end: date | None = None,
) -> dict[str, dict[date, int]]:
    """Per country, the app's rank on each day it was charted (absent days are missing)."""
    snapshots = _snapshots(selection)
    if countries:
        snapshots = snapshots.where(ChartSnapshot.country.in_(list(countries)))
    if start is not None:
        snapshots = snapshots.where(ChartSnapshot.day >= start)
    if end is not None:
        snapshots = snapshots.where(ChartSnapshot.day <= end)
    query = (
        select(ChartSnapshot.country, ChartSnapshot.day, ChartEntry.rank)
        .join(ChartEntry, ChartEntry.snapshot_id == ChartSnapshot.id)
        .where(ChartSnapshot.id.in_(snapshots), ChartEntry.app_key == app_key)
        .order_by(ChartSnapshot.country, ChartSnapshot.day)
    )
    history: dict[str, dict[date, int]] = defaultdict(dict)
    for country, day, rank in db.execute(query):
        history[country][day] = rank
    return dict(history)


def charted_days(
    db: Session, *, selection: ChartSelection, countries: Sequence[str]
) -> dict[str, list[date]]:
    """Per country, the days it has a snapshot on (to tell "not charted" from "no data")."""
    query = (
        select(ChartSnapshot.country, ChartSnapshot.day)
        .where(ChartSnapshot.id.in_(_snapshots(selection)))
        .order_by(ChartSnapshot.day)
    )
    if countries:
        query = query.where(ChartSnapshot.country.in_(list(countries)))
    days: dict[str, list[date]] = defaultdict(list)
    for country, day in db.execute(query):
        days[country].append(day)
    return dict(days)


def reach_over_time(
    db: Session, *, selection: ChartSelection, app_keys: Sequence[str], top: int
) -> dict[str, list[tuple[date, int]]]:
    """Per app, in how many countries it was in the top ``top`` on each day of the chart."""
    query = (
        select(
            ChartSnapshot.day, ChartEntry.app_key, func.count(func.distinct(ChartSnapshot.country))
        )
        .join(ChartEntry, ChartEntry.snapshot_id == ChartSnapshot.id)
        .where(
            ChartSnapshot.id.in_(_snapshots(selection)),
            ChartEntry.app_key.in_(list(app_keys)),
            ChartEntry.rank <= top,
        )
        .group_by(ChartSnapshot.day, ChartEntry.app_key)
    )
    counts = {(day, key): int(n) for day, key, n in db.execute(query)}
    days = chart_days(db, selection=selection)
    return {key: [(day, counts.get((day, key), 0)) for day in days] for key in app_keys}
