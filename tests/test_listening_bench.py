"""``guanxi bench dashboard`` end to end on a tiny scratch SQLite database."""

from __future__ import annotations

from datetime import date

import typer
from typer.testing import CliRunner

from guanxi.cli.listen_bench import register_bench
from guanxi.devtools.bench.common import Timing as EndpointTiming
from guanxi.devtools.bench.listening_dashboard import filter_variants


def test_bench_dashboard_fills_times_every_endpoint_and_prints_a_last_line() -> None:
    bench_app = typer.Typer()
    register_bench(bench_app)

    @bench_app.command("other")
    def other() -> None:
        """A second command, so Typer keeps ``dashboard`` as a subcommand."""

    result = CliRunner().invoke(bench_app, ["dashboard", "--mentions", "300", "--runs", "2"])

    assert result.exit_code == 0, result.output
    for endpoint in ("volume", "sentiment", "share-of-voice", "authors", "keywords", "posts"):
        assert endpoint in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("dashboard_mentions=300 backend=sqlite worst_p95_ms=")


def test_percentile_is_nearest_rank_and_variants_cover_every_filter() -> None:
    timing = EndpointTiming("volume", [float(ms) for ms in range(1, 21)])
    assert timing.percentile(0.95) == 19.0
    assert timing.percentile(0.5) == 10.0

    variants = filter_variants(date(2026, 11, 26), list(range(1, 13)))
    used = {name for variant in variants for name in variant}
    assert used == {"start", "end", "topic", "sentiment", "platform", "kind", "stage"}
