"""`guanxi bench analytics --analytics-url`: the analytics pages timed on ClickHouse, after
the SQL facts are copied there."""

from __future__ import annotations

from sqlalchemy import Engine

from guanxi.analytics.client import connect
from tests.cli import run, said
from tests.test_bench_analytics import LAST_LINE


def test_a_tiny_run_on_clickhouse_times_every_query_on_the_copied_facts(
    cli_database: Engine, chdb_url: str
) -> None:
    """Given a tiny history and an embedded ClickHouse, when the benchmark runs with
    ``--analytics-url``, then the facts are copied there and every query is timed on it."""
    result = run(
        "bench",
        "analytics",
        "--accounts",
        "2",
        "--days",
        "10",
        "--posts",
        "10",
        "--snapshots",
        "2",
        "--repeats",
        "1",
        "--collect-posts",
        "0",
        "--analytics-url",
        chdb_url,
    )
    assert result.exit_code == 0, said(result)
    assert "copied to ClickHouse in" in result.output
    assert "analytics pages (SQLite + ClickHouse)" in result.output
    assert "posts_page (30 days, by engagement rate)" in result.output
    assert LAST_LINE.match(result.output.strip().splitlines()[-1]), said(result)
    client = connect(chdb_url, database="default")  # the scratch database is gone
    assert not [row for row in client.rows("SHOW DATABASES") if row[0].startswith("bench_")]
