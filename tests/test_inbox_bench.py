"""``guanxi bench inbox`` on a tiny database: the command runs end to end and ends with the
machine-readable line (no timing is asserted: figures go to docs/inbox-workflow.md)."""

from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from guanxi.cli.inbox_bench import register_bench
from guanxi.devtools.bench.inbox import run_inbox_bench


def test_the_inbox_benchmark_runs_and_ends_with_its_figures() -> None:
    """Given a fresh Typer with the bench registered, a small run prints the last line."""
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    register_bench(bench)

    @app.callback()
    def main() -> None:
        """The test's root command."""

    args = ["bench", "inbox", "--items", "600", "--ingest", "400", "--runs", "1", "--terms", "300"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"list_p95_ms=[\d.]+ search_p95_ms=[\d.]+ ingest_per_s=\d+", last), last
    assert "automatic moderation actions" in result.output


def test_ingest_in_worker_processes_reads_every_item_once_per_channel() -> None:
    """Given two worker processes, each ingests its share on its own channel through the
    real path, at once; together they read every item, and moderation acted on them."""
    result = run_inbox_bench(items=500, ingest_items=401, ingest_workers=2, runs=1, terms=200)
    assert result.ingest_workers == 2
    assert result.ingested == 401
    assert result.ingest_s > 0
    assert result.moderation_actions > 0
    assert result.ingested_by_channel == [201, 200]
