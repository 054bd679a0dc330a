"""``guanxi bench dashboard --analytics-url``: the same calls, served by ClickHouse."""

from __future__ import annotations

from guanxi.analytics.client import connect
from guanxi.devtools.bench.listening_dashboard import run_dashboard_bench


def test_the_bench_copies_the_facts_and_serves_from_clickhouse(chdb_url: str) -> None:
    """Given a tiny fill, the facts are copied to a scratch ClickHouse database, every
    endpoint is timed against it, and the scratch database is gone afterwards."""
    result = run_dashboard_bench(mentions=300, runs=2, analytics_url=chdb_url)
    assert result.backend == "sqlite+clickhouse"
    assert result.store_fill_s > 0
    assert {timing.name for timing in result.timings} >= {"volume", "authors", "posts"}
    client = connect(chdb_url, database="default")
    assert not [row for row in client.rows("SHOW DATABASES") if row[0].startswith("bench_")]
