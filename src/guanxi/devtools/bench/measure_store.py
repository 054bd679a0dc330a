"""The analytics benchmark on the ClickHouse store: copy the filled facts, serve from them.

``guanxi bench analytics --analytics-url chdb:///dir`` fills the SQL database as usual, then
copies every snapshot, account day and breakdown to a scratch database of that ClickHouse
with ``MeasureCopy`` (the copy ``guanxi analytics migrate`` makes), and times the same
queries with ``GUANXI_ANALYTICS_URL`` pointing there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.analytics.client import AnalyticsClient
from guanxi.devtools.bench import listening_store
from guanxi.devtools.bench.common import Progress
from guanxi.measure.models import AccountDay, PostSnapshot
from guanxi.measure.store.copy import COPIES, month_bounds

COPY_BATCH = 20_000
MIGRATIONS = ("guanxi.measure.store.clickhouse_migrations",)


def _months(db: Session) -> list[date]:
    days = [
        db.scalar(select(func.min(AccountDay.day))),
        db.scalar(select(func.max(AccountDay.day))),
        db.scalar(select(func.min(PostSnapshot.observed_at))),
        db.scalar(select(func.max(PostSnapshot.observed_at))),
    ]
    known = [d if isinstance(d, date) and not hasattr(d, "hour") else d.date() for d in days if d]
    if not known:
        return []
    months, month = [], min(known).replace(day=1)
    while month <= max(known):
        months.append(month)
        month = month_bounds(month)[1]
    return months


def copy_facts(
    sessions: sessionmaker[Session], client: AnalyticsClient, *, progress: Progress
) -> int:
    """Copy every snapshot, account day and breakdown to ClickHouse; returns the rows."""
    copied = 0
    with sessions() as db:
        months = _months(db)
        for copy in COPIES:
            for number, month in enumerate(months):
                after = 0
                while rows := copy.sql_rows(db, month, after, COPY_BATCH):
                    copy.write_rows(client, rows, f"{month}:{after}")
                    copied += len(rows)
                    after = rows[-1].id
                progress(f"clickhouse {copy.kind}", number + 1, len(months))
    return copied


@contextmanager
def scratch_store(url: str) -> Iterator[tuple[AnalyticsClient, str]]:
    """A scratch database with measure's tables on ``url``'s ClickHouse, dropped afterwards."""
    with listening_store.scratch_store(url, MIGRATIONS) as found:
        yield found
