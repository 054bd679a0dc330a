"""``guanxi bench dashboard``: the listening dashboards' API against a million mentions;
``guanxi bench import``: a generated crawler file of a million rows."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, err_console, fail, stage_progress


def bench_import_command(
    rows: Annotated[int, typer.Option(help="Rows of the generated file.")] = 1_000_000,
    enrich: Annotated[bool, typer.Option(help="Enrich while importing.")] = False,
    database_url: Annotated[str, typer.Option(help="Database (default: a new SQLite file).")] = "",
) -> None:
    """Import a generated weibo-crawler CSV of ROWS posts; print rows/s and peak RSS."""
    from guanxi.devtools.bench.listening_import import run_import_benchmark  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    with tempfile.TemporaryDirectory(prefix="guanxi-bench-import-") as work:
        err_console.print(f"generating and importing {rows} rows ...")
        figures = run_import_benchmark(
            rows=rows, work_dir=Path(work), database_url=database_url, enrich=enrich
        )
    console.print(
        f"{figures.rows} rows ({figures.file_mb:.0f} MB), {figures.added} new, in "
        f"{figures.seconds:.1f} s (enrich={enrich})"
    )
    console.print(
        f"guanxi_import_rows_per_s={figures.rows_per_s:.0f} peak_rss_mb={figures.peak_rss_mb:.0f}"
    )


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``dashboard`` and ``import`` to ``guanxi bench``."""
    bench_app.command("import")(bench_import_command)

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
        analytics_url: Annotated[
            str,
            typer.Option(
                help="Serve the dashboards from this ClickHouse (clickhouse://... or "
                "chdb:///dir): a scratch database on it gets a copy of the facts."
            ),
        ] = "",
    ) -> None:
        """Fill a scratch database with MENTIONS enriched, topic-matched mentions, then time
        every dashboard API call RUNS times with varied filters (p50, p95, max)."""
        from guanxi.devtools.bench.common import BenchError, timings_table  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
        from guanxi.devtools.bench.listening_dashboard import run_dashboard_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

        backend = ("PostgreSQL" if database_url else "SQLite") + (
            " + ClickHouse" if analytics_url else ""
        )
        console.print(f"bench dashboard: {mentions} mentions, {backend}, {runs} runs per endpoint")
        try:
            with stage_progress() as progress:
                result = run_dashboard_bench(
                    mentions=mentions,
                    database_url=database_url,
                    runs=runs,
                    seed=seed,
                    progress=progress,
                    analytics_url=analytics_url,
                )
        except BenchError as exc:
            raise fail(str(exc)) from exc
        console.print(timings_table("endpoint", result.timings, "dashboard API"))
        figures = Table("figure", "value", title="data")
        figures.add_row("mentions / topic matches", f"{result.mentions} / {result.topic_matches}")
        figures.add_row("rollup rows", str(result.rollup_rows))
        figures.add_row(
            "fill (s) / rollup + analyze (s)", f"{result.fill_s:.1f} / {result.rollup_s:.1f}"
        )
        if analytics_url:
            figures.add_row("copy to ClickHouse (s)", f"{result.store_fill_s:.1f}")
        for count, speed in result.matcher_texts_per_s.items():
            figures.add_row(f"matcher, {count} queries (texts/s)", f"{speed:,.0f}")
        console.print(figures)
        typer.echo(result.last_line())
