"""``guanxi bench scale`` on a tiny fill: every dashboard query timed on both engines,
the bytes on disk counted, the summary line printed, and the scratch data dropped."""

from __future__ import annotations

import re

import pytest

from guanxi.analytics.client import connect
from guanxi.devtools.bench.scale import ScaleConfig, run_scale_bench
from tests.conftest import POSTGRES_URL

QUERIES = {
    "count",
    "count_by platform",
    "per_day_by_topic",
    "per_day_by_sentiment",
    "share of voice (count_by_topic)",
    "drill-down newest_ids",
    "drill-down newest_ids, page 5",
    "drill-down of a topic, negative",
    "keyword_lists",
    "top_authors",
    "window_counts (alerts)",
}


def test_the_bench_times_every_query_on_clickhouse(chdb_url: str) -> None:
    """Given 2,000 mentions generated in embedded ClickHouse, every query is timed, the
    write path takes its slice, and the scratch database is gone afterwards."""
    result = run_scale_bench(
        ScaleConfig(
            mentions=2_000,
            postgres_mentions=0,
            workspaces=3,
            authors=50,
            runs=2,
            ingest=300,
            analytics_url=chdb_url,
        )
    )
    assert {timing.name for timing in result.clickhouse.timings} == QUERIES
    assert all(len(timing.samples_ms) == 2 for timing in result.clickhouse.timings)
    assert result.clickhouse.bytes_by_table["listening_mentions"] > 0
    assert result.ingest_facts == 300
    assert result.ingest_s > 0
    assert result.postgres is None
    assert re.fullmatch(
        r"clickhouse_p95_ms=\d+\.\d postgres_p95_ms=none mentions=2000 bytes_per_mention=\d+\.\d",
        result.last_line(),
    )
    client = connect(chdb_url, database="default")
    assert not [row for row in client.rows("SHOW DATABASES") if row[0].startswith("bench_")]


@pytest.mark.skipif(not POSTGRES_URL, reason="needs GUANXI_TEST_DATABASE_URL (PostgreSQL)")
def test_the_bench_compares_with_postgres(chdb_url: str) -> None:
    """Given a PostgreSQL server, the same queries run on the SQL store's tables filled
    there, and the summary line names both engines."""
    result = run_scale_bench(
        ScaleConfig(
            mentions=2_000,
            postgres_mentions=1_000,
            workspaces=3,
            authors=50,
            runs=1,
            ingest=0,
            analytics_url=chdb_url,
            database_url=POSTGRES_URL,
        )
    )
    assert result.postgres is not None
    assert {timing.name for timing in result.postgres.timings} == QUERIES
    assert result.postgres.bytes_by_table["listening_mention_facets"] > 0
    assert "postgres_p95_ms=none" not in result.last_line()
