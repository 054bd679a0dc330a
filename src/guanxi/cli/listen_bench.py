"""``guanxi bench dashboard``: the listening dashboards' API against a million mentions."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from guanxi.cli.common import console, fail, stage_progress


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``dashboard`` to ``guanxi bench``."""

    @bench_app.command("dashboard")
    def bench_dashboard(
        mentions: Annotated[
            int, typer.Option(min=1, help="Mentions to fill the database with.")
        ] = 1_000_000,
        database_url: Annotated[
            str,
            typer.Option(
                help="A PostgreSQL server URL to create a scratch database on; default SQLite."
            ),
        ] = "",
        runs: Annotated[int, typer.Option(min=1, help="Timed calls per endpoint.")] = 20,
        seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    ) -> None:
        """Fill a scratch database with MENTIONS enriched, topic-matched mentions, then time
        every dashboard API call RUNS times with varied filters (p50, p95, max)."""
        from guanxi.devtools.bench.common import BenchError
        from guanxi.devtools.bench.listening_dashboard import run_dashboard_bench

        backend = "PostgreSQL" if database_url else "SQLite"
        console.print(f"bench dashboard: {mentions} mentions, {backend}, {runs} runs per endpoint")
        try:
            with stage_progress() as progress:
                result = run_dashboard_bench(
                    mentions=mentions,
                    database_url=database_url,
                    runs=runs,
                    seed=seed,
                    progress=progress,
                )
        except BenchError as exc:
            raise fail(str(exc)) from exc
        table = Table("endpoint", "p50 ms", "p95 ms", "max ms", title="dashboard API")
        for timing in result.timings:
            table.add_row(
                timing.name,
                f"{timing.percentile(0.5):.1f}",
                f"{timing.percentile(0.95):.1f}",
                f"{max(timing.samples_ms):.1f}",
            )
        console.print(table)
        figures = Table("figure", "value", title="data")
        figures.add_row("mentions / topic matches", f"{result.mentions} / {result.topic_matches}")
        figures.add_row("rollup rows", str(result.rollup_rows))
        figures.add_row(
            "fill (s) / rollup + analyze (s)", f"{result.fill_s:.1f} / {result.rollup_s:.1f}"
        )
        for count, speed in result.matcher_texts_per_s.items():
            figures.add_row(f"matcher, {count} queries (texts/s)", f"{speed:,.0f}")
        console.print(figures)
        typer.echo(result.last_line())
