"""The dashboard benchmark on the ClickHouse store: copy the filled facts, serve from it.

``guanxi bench dashboard --analytics-url chdb:///dir`` fills the SQL database as usual, then
copies every mention's facts to a scratch database of that ClickHouse as ``guanxi analytics
migrate`` does (``guanxi.analytics.copy``), and times the same API calls with
``GUANXI_ANALYTICS_URL`` pointing there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from sqlalchemy import Engine

from guanxi.analytics import migrations
from guanxi.analytics.client import AnalyticsClient, connect
from guanxi.analytics.copy import copy_months
from guanxi.core.db import make_session_factory
from guanxi.core.settings import get_settings
from guanxi.devtools.bench.common import Progress
from guanxi.listening.store.copy import MentionCopy

COPY_BATCH = 20_000
SETTING = "GUANXI_ANALYTICS_URL"


@contextmanager
def scratch_store(
    url: str, packages: tuple[str, ...] = ("guanxi.listening.store.clickhouse_migrations",)
) -> Iterator[tuple[AnalyticsClient, str]]:
    """A scratch database on ``url``'s ClickHouse with the tables of ``packages``' migrations
    (listening's by default), dropped afterwards; yields the client and the address that
    names it. Every benchmark that times a ClickHouse store uses it."""
    database = f"bench_{secrets.token_hex(5)}"
    client = connect(url, database=database)
    try:
        migrations.upgrade(client, packages)
        parts = urlsplit(url)
        if parts.scheme == "chdb":  # the directory is the path: the database is a parameter
            named = f"chdb://{parts.path}?database={database}"
        else:
            named = parts._replace(path=f"/{database}").geturl()
        yield client, named
    finally:
        client.command(f"DROP DATABASE IF EXISTS {database}")


def copy_facts(engine: Engine, client: AnalyticsClient, *, progress: Progress) -> int:
    """Copy every MentionFacet (with its topics, keywords and words) to the ClickHouse
    store, as ``guanxi analytics migrate --to clickhouse`` does."""
    with make_session_factory(engine)() as db:
        return copy_months(
            db,
            client,
            MentionCopy(),
            batch=COPY_BATCH,
            progress=lambda _copy, done, total: progress("clickhouse", done, total),
        )


@contextmanager
def serving_from(url: str) -> Iterator[None]:
    """The process's services use the analytics store at ``url`` until the block ends."""
    before = os.environ.get(SETTING)
    os.environ[SETTING] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SETTING, None)
        else:
            os.environ[SETTING] = before
        get_settings.cache_clear()
