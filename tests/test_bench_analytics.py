"""`guanxi bench analytics` on a tiny history: every query timed, the collector's posts
snapshotted through the sandbox, and the last line a script reads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from tests.cli import run, said
from tests.conftest import POSTGRES_URL

LAST_LINE = re.compile(r"^page_p95_ms=(\d+\.\d) collect_posts_per_s=(\d+\.\d) api_calls=(\d+)$")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def test_a_tiny_run_times_every_query_and_refreshes_the_posts_through_the_sandbox(
    cli_database: Engine, backend: str
) -> None:
    """Given 3 accounts × 20 days, 30 posts × 3 snapshots and 150 posts for the collector
    (two sandbox accounts), when the benchmark runs, then each query has its line, every
    post of the collector is refreshed with a few calls, and the last line has its shape."""
    args = [
        "bench",
        "analytics",
        "--accounts",
        "3",
        "--days",
        "20",
        "--posts",
        "30",
        "--snapshots",
        "3",
        "--repeats",
        "2",
        "--collect-posts",
        "1150",
    ]
    if backend == "postgresql":
        args += ["--database-url", POSTGRES_URL]
    result = run(*args)
    assert result.exit_code == 0, said(result)
    match = LAST_LINE.match(result.output.strip().splitlines()[-1])
    assert match, said(result)
    for query in (
        "period_totals",
        "daily_series",
        "posts_page",
        "post_figures",
        "content_analysis",
        "best_time",
        "collection_status",
    ):
        assert query in result.output
    assert "collector: 1,150 posts" in result.output, said(result)
    assert 0 < int(match.group(3)) < 40  # 12 batches of counts and of reads, and the accounts
    assert "stopped" not in result.output
