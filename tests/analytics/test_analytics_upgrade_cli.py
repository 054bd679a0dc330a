"""``guanxi db upgrade`` migrates the analytics store too when one is configured."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from guanxi.analytics.client import connect
from tests.cli import PREFIX, cli_database, run, said

__all__ = ["cli_database"]


def test_db_upgrade_creates_the_clickhouse_tables_once(
    cli_database: Engine, monkeypatch: pytest.MonkeyPatch, chdb_url: str
) -> None:
    """Given GUANXI_ANALYTICS_URL naming embedded ClickHouse, ``guanxi db upgrade`` runs
    listening's, measure's and convert's ClickHouse migrations and says so; a second run has nothing
    to do."""
    database = f"cli_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv(PREFIX + "ANALYTICS_URL", f"{chdb_url}?database={database}")
    first = run("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert "3 migration(s) run" in said(first)
    assert "listening.store.clickhouse_migrations/0001_mentions.sql" in said(first)
    assert "measure.store.clickhouse_migrations/0001_measure.sql" in said(first)
    assert "convert.store.clickhouse_migrations/0001_clicks_and_code_events.sql" in said(first)
    again = run("db", "upgrade")
    assert "0 migration(s) run" in said(again)
    client = connect(chdb_url, database=database)
    tables = {row[0] for row in client.rows("SHOW TABLES")}
    assert {"listening_mentions", "listening_topic_matches", "listening_daily_rollup"} <= tables
    assert {"measure_post_snapshots", "measure_account_days"} <= tables
    assert {"convert_clicks", "convert_click_hours", "convert_code_events"} <= tables
    client.command(f"DROP DATABASE {database}")
