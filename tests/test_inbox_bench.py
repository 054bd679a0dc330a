"""``guanxi bench inbox`` on a tiny database: the command runs end to end and ends with the
machine-readable line (no timing is asserted: figures go to docs/inbox-workflow.md)."""

from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from guanxi.cli.inbox_bench import register_bench


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
