"""Fixtures for the analytics stores: a fresh ClickHouse database per test.

Embedded ClickHouse (chDB) allows one engine directory per process: every test of a
process (an xdist worker is one) shares that worker's directory, each in a database of its
own. ``GUANXI_TEST_CLICKHOUSE_URL`` (clickhouse://user:password@host:8123/db) adds a
ClickHouse server to every parametrized test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from guanxi.analytics import migrations
from guanxi.analytics.client import AnalyticsClient, connect

SERVER_URL = os.environ.get("GUANXI_TEST_CLICKHOUSE_URL", "")
CLICKHOUSE_TARGETS = ["chdb", "server"] if SERVER_URL else ["chdb"]
ANALYTICS_MIGRATIONS = (
    "guanxi.listening.store.clickhouse_migrations",
    "guanxi.measure.store.clickhouse_migrations",
    "guanxi.convert.store.clickhouse_migrations",
)


@pytest.fixture(scope="session")
def chdb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """This process's one embedded ClickHouse directory."""
    return f"chdb://{tmp_path_factory.mktemp('chdb')}"


def fresh_database(url: str) -> Iterator[AnalyticsClient]:
    """A client on a new, migrated database of ``url``'s engine, dropped afterwards."""
    client = connect(url, database=f"t_{uuid.uuid4().hex[:12]}")
    migrations.upgrade(client, ANALYTICS_MIGRATIONS)
    yield client
    client.command(f"DROP DATABASE IF EXISTS {client.database}")
    client.close()


@pytest.fixture(params=CLICKHOUSE_TARGETS)
def clickhouse(request: pytest.FixtureRequest, chdb_url: str) -> Iterator[AnalyticsClient]:
    """A migrated ClickHouse database of this test's own (embedded, or the server)."""
    yield from fresh_database(chdb_url if request.param == "chdb" else SERVER_URL)


def use_store(monkeypatch: pytest.MonkeyPatch, client: AnalyticsClient | None) -> None:
    """Make ``client`` (None: the SQL database) the store every listening service uses."""
    monkeypatch.setattr("guanxi.listening.store.analytics_client", lambda: client)


def use_measure_store(monkeypatch: pytest.MonkeyPatch, client: AnalyticsClient | None) -> None:
    """Make ``client`` (None: the SQL database) the store every measure service uses."""
    monkeypatch.setattr("guanxi.measure.store.analytics_client", lambda: client)


def use_convert_store(monkeypatch: pytest.MonkeyPatch, client: AnalyticsClient | None) -> None:
    """Make ``client`` (None: the SQL database) the store every conversion service uses."""
    monkeypatch.setattr("guanxi.convert.store.analytics_client", lambda: client)
