"""The analytics benchmark on the ClickHouse store: copy the filled facts, serve from them.

``guanxi bench analytics --analytics-url chdb:///dir`` fills the SQL database as usual, then
copies every snapshot, account day and breakdown to a scratch database of that ClickHouse
with ``MeasureCopy`` (the copy ``guanxi analytics migrate`` makes), and times the same
queries with ``GUANXI_ANALYTICS_URL`` pointing there.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.analytics import migrations
from guanxi.analytics.client import AnalyticsClient, connect
from guanxi.devtools.bench.common import Progress
from guanxi.measure.models import AccountDay, PostSnapshot
from guanxi.measure.store.copy import COPIES, month_bounds

COPY_BATCH = 20_000
MIGRATIONS = ("guanxi.measure.store.clickhouse_migrations",)


@contextmanager
def scratch_store(url: str) -> Iterator[tuple[AnalyticsClient, str]]:
    """A scratch database with measure's tables on ``url``'s ClickHouse, dropped
    afterwards; yields the client and the address that names it."""
    database = f"bench_{secrets.token_hex(5)}"
    client = connect(url, database=database)
    try:
        migrations.upgrade(client, MIGRATIONS)
        parts = urlsplit(url)
        if parts.scheme == "chdb":  # the directory is the path: the database is a parameter
            named = f"chdb://{parts.path}?database={database}"
        else:
            named = parts._replace(path=f"/{database}").geturl()
        yield client, named
    finally:
        client.command(f"DROP DATABASE IF EXISTS {database}")


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
