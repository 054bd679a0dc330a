"""Moving a capability's analytics from the SQL database to ClickHouse, month by month.

A capability declares what it copies (``Capability.analytics_copies``): each is an
``AnalyticsCopy`` that lists the months holding rows, reads a month's rows in id order,
writes a batch to ClickHouse, and computes the same checksum of a month on both sides.
``copy_months`` walks every month in batches and records, per copy and month, the last id
copied in the ``guanxi_copy_state`` table of the analytics database, so a run stopped at
any point (Ctrl-C, a kill) continues where it stopped and a finished one copies nothing.
Each batch goes in under a deduplication token named after its place (copy, month, id
range), so a batch sent again after a crash is stored once. ``verify`` then compares every
month's checksum. ``guanxi analytics migrate --to clickhouse`` runs both (docs/scale.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient

STATE_TABLE = "guanxi_copy_state"
BATCH = 10_000  # rows per batch: one insert (and one deduplication token) each

# An order-independent checksum of a month: integer sums over the same columns on both
# sides (its first figure is the count of rows).
Checksum = tuple[int, ...]
# ``progress(copy name, rows copied, rows to copy)``
CopyProgress = Callable[[str, int, int], None]


@runtime_checkable
class AnalyticsCopy(Protocol):
    """One kind of analytics row a capability moves from SQL to ClickHouse.

    Months are UTC calendar months written ``YYYY-MM``; ids are the rows' SQL ids, unique
    within the copy and read in increasing order within a month.
    """

    # Names the copy in the state table and the reports (the ClickHouse table's name).
    name: str

    def months(self, db: Session) -> list[str]:
        """The months holding rows in the SQL database, oldest first."""

    def count(self, db: Session, month: str) -> int:
        """How many rows the month holds in the SQL database."""

    def sql_rows(
        self, db: Session, month: str, after_id: int, limit: int
    ) -> Sequence[tuple[int, Any]]:
        """Up to ``limit`` of the month's rows with an id above ``after_id``, by id, as
        (id, what ``write_rows`` takes)."""

    def write_rows(self, client: AnalyticsClient, rows: Sequence[Any], token: str) -> None:
        """Store the rows in ClickHouse under the deduplication token ``token`` (rows it
        already holds are not written again)."""

    def sql_checksum(self, db: Session, month: str) -> Checksum:
        """The month's checksum in the SQL database."""

    def store_checksum(self, client: AnalyticsClient, month: str) -> Checksum:
        """The same checksum over the month's rows in ClickHouse."""


@dataclass
class MonthState:
    """How far the copy of one month went."""

    last_id: int = 0
    copied: int = 0
    done: bool = False
    # Rows per batch of the run that stopped part-way: a resumed month keeps it, so the batch
    # it re-sends has the same ids, hence the same deduplication token (hourly counts summed
    # twice otherwise).
    batch: int = 0


@dataclass(frozen=True)
class MonthPlan:
    """What a run would do for one month: rows in SQL, rows copied already."""

    copy: str
    month: str
    rows: int
    copied: int
    done: bool


@dataclass(frozen=True)
class MonthCheck:
    """One month compared: its counts on each side and whether the checksums agree."""

    copy: str
    month: str
    sql_count: int
    store_count: int
    matches: bool


def _ensure_state(client: AnalyticsClient) -> None:
    client.command(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (copy String, month String, "
        "last_id UInt64, copied UInt64, done UInt8, version UInt64) "
        "ENGINE = ReplacingMergeTree(version) ORDER BY (copy, month)"
    )
    client.command(f"ALTER TABLE {STATE_TABLE} ADD COLUMN IF NOT EXISTS batch UInt64 DEFAULT 0")


def read_state(client: AnalyticsClient, copy: str) -> dict[str, MonthState]:
    """Per month, how far earlier runs copied ``copy``."""
    _ensure_state(client)
    rows = client.rows(
        f"SELECT month, last_id, copied, done, batch FROM {STATE_TABLE} FINAL "
        "WHERE copy = {c:String}",
        {"c": copy},
    )
    return {
        str(month): MonthState(int(last_id), int(copied), bool(done), int(batch))
        for month, last_id, copied, done, batch in rows
    }


def _save_state(client: AnalyticsClient, copy: str, month: str, state: MonthState) -> None:
    version = time.time_ns()
    client.insert(
        STATE_TABLE,
        ("copy", "month", "last_id", "copied", "done", "batch", "version"),
        [(copy, month, state.last_id, state.copied, int(state.done), state.batch, version)],
        token=f"state:{copy}:{month}:{version}",
    )


def forget_state(client: AnalyticsClient, copy: str) -> None:
    """Start ``copy`` over: every month is walked again (rows ClickHouse holds already are
    not written twice)."""
    _ensure_state(client)
    client.command(f"DELETE FROM {STATE_TABLE} WHERE copy = {{c:String}}", {"c": copy})


def plan(db: Session, client: AnalyticsClient, copy: AnalyticsCopy) -> list[MonthPlan]:
    """Per month, the rows in SQL and how many earlier runs copied (``--dry-run``)."""
    state = read_state(client, copy.name)
    return [
        MonthPlan(
            copy.name,
            month,
            copy.count(db, month),
            state.get(month, MonthState()).copied,
            state.get(month, MonthState()).done,
        )
        for month in copy.months(db)
    ]


def copy_months(
    db: Session,
    client: AnalyticsClient,
    copy: AnalyticsCopy,
    *,
    batch: int = BATCH,
    progress: CopyProgress | None = None,
) -> int:
    """Copy every month not finished yet, from where the last run stopped; returns the
    rows copied by this run. A month an earlier run stopped in goes on in that run's batch
    size, whatever ``batch`` says."""
    state = read_state(client, copy.name)
    months = copy.months(db)
    todo = {m: state.get(m, MonthState()) for m in months}
    todo = {m: st for m, st in todo.items() if not st.done}
    total = sum(max(0, copy.count(db, m) - st.copied) for m, st in todo.items())
    copied_now = 0
    for month in months:
        if month not in todo:
            continue
        current = todo[month]
        size = current.batch or batch
        if not current.batch:  # recorded before the first write, which a crash may follow
            current = MonthState(current.last_id, current.copied, batch=size)
            _save_state(client, copy.name, month, current)
        while True:
            rows = copy.sql_rows(db, month, current.last_id, size)
            if not rows:
                break
            first, last = rows[0][0], rows[-1][0]
            copy.write_rows(
                client, [row for _id, row in rows], f"copy:{copy.name}:{month}:{first}-{last}"
            )
            current = MonthState(last, current.copied + len(rows), batch=size)
            _save_state(client, copy.name, month, current)
            copied_now += len(rows)
            if progress is not None:
                progress(copy.name, copied_now, total)
        current.done = True
        _save_state(client, copy.name, month, current)
    return copied_now


def verify(db: Session, client: AnalyticsClient, copy: AnalyticsCopy) -> list[MonthCheck]:
    """Every month's counts and checksums on both sides."""
    checks = []
    for month in copy.months(db):
        sql = copy.sql_checksum(db, month)
        store = copy.store_checksum(client, month)
        checks.append(MonthCheck(copy.name, month, sql[0], store[0], sql == store))
    return checks


def month_bounds(month: str) -> tuple[int, int, int, int]:
    """(year, month, next month's year, next month) of ``YYYY-MM``."""
    year, number = (int(part) for part in month.split("-"))
    return year, number, year + number // 12, number % 12 + 1


def sql_months(db: Session, column: Any, *, instant: bool = True) -> list[str]:
    """The distinct ``YYYY-MM`` months of ``column`` in the SQL database, oldest first: of a
    UTC instant, or of a calendar day (``instant=False``)."""
    if db.get_bind().dialect.name == "postgresql":
        value = func.timezone("UTC", column) if instant else column
        month = func.to_char(value, literal_column("'YYYY-MM'"))
    else:  # SQLite keeps instants (UTC) and days as text, the month first
        month = func.substr(column, 1, 7)
    return [str(found) for found in db.scalars(select(month).distinct().order_by(month))]


def month_range(month: str) -> tuple[datetime, datetime]:
    """The first instant (UTC) of ``YYYY-MM`` and of the month after."""
    year, number, next_year, next_number = month_bounds(month)
    return datetime(year, number, 1, tzinfo=UTC), datetime(next_year, next_number, 1, tzinfo=UTC)


def yyyymm(month: str) -> int:
    """``YYYY-MM`` as ClickHouse's ``toYYYYMM`` gives it."""
    year, number, _next_year, _next_number = month_bounds(month)
    return year * 100 + number
