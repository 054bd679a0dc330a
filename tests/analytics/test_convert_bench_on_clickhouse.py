"""``guanxi bench convert --analytics-url``: the clicks copied to ClickHouse, the same
attribution and counts timed there."""

from __future__ import annotations

from guanxi.analytics.client import connect
from guanxi.devtools.bench.convert import ConvertBenchConfig, run_convert_bench


def test_the_bench_copies_the_clicks_and_attributes_the_same_on_clickhouse(
    chdb_url: str,
) -> None:
    """Given a tiny run (2,000 orders against 10,000 clicks), the clicks are copied to a
    scratch ClickHouse database, attribution there credits exactly the orders it credits on
    SQL (those the recipe says), the counted clicks are the same, and the scratch database
    is gone afterwards."""
    config = ConvertBenchConfig(
        seconds=1, concurrency=4, kill_after=200, orders=2_000, touches=10_000,
        analytics_url=chdb_url,
    )  # fmt: skip
    result = run_convert_bench(config)

    on_clickhouse = result.clickhouse
    assert on_clickhouse is not None
    assert on_clickhouse.copied == 10_000
    assert on_clickhouse.attributed_orders == result.attributed_orders == result.expected_attributed
    assert on_clickhouse.counted_clicks == result.counted_clicks > 0
    assert result.last_line().endswith(
        f"attribution_clickhouse_s={on_clickhouse.attribution_s:.2f}"
    )
    client = connect(chdb_url, database="default")
    assert not [row for row in client.rows("SHOW DATABASES") if row[0].startswith("bench_")]
