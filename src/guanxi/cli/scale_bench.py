"""``guanxi bench scale``: the mention store's dashboard queries at agency scale (100,000,000
mentions on ClickHouse, generated inside the engine; PostgreSQL at a smaller size)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, fail, stage_progress


def bench_scale(
    mentions: Annotated[
        int, typer.Option(min=1_000, help="Mentions generated in ClickHouse.")
    ] = 100_000_000,
    postgres_mentions: Annotated[
        int,
        typer.Option(min=0, help="Mentions generated in PostgreSQL for comparison (0: none)."),
    ] = 10_000_000,
    workspaces: Annotated[int, typer.Option(min=1, help="Brands' workspaces.")] = 200,
    runs: Annotated[int, typer.Option(min=1, help="Timed calls per query.")] = 10,
    ingest: Annotated[
        int, typer.Option(min=0, help="Mentions timed through the store's write path.")
    ] = 100_000,
    analytics_url: Annotated[
        str,
        typer.Option(
            help="A ClickHouse (clickhouse://... or chdb:///dir) to fill a scratch database "
            "on; default: embedded ClickHouse in a temporary directory."
        ),
    ] = "",
    database_url: Annotated[
        str,
        typer.Option(help="The PostgreSQL server (postgresql+psycopg://...) for the comparison."),
    ] = "",
    seed: Annotated[int, typer.Option(help="Seed of the random workspaces and ranges.")] = 0,
) -> None:
    """Generate MENTIONS mentions inside ClickHouse and POSTGRES_MENTIONS in PostgreSQL,
    time the write path on INGEST more, then every dashboard query of the mention store RUNS
    times with random workspaces and ranges (p50, p95, max); scratch data is dropped."""
    from guanxi.devtools.bench.common import BenchError, interrupts_as_exit, timings_table  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.scale import ScaleConfig, describe, run_scale_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    config = ScaleConfig(
        mentions=mentions,
        postgres_mentions=postgres_mentions,
        workspaces=workspaces,
        runs=runs,
        ingest=ingest,
        analytics_url=analytics_url,
        database_url=database_url,
        seed=seed,
    )
    console.print(
        f"bench scale: {mentions:,} mentions on ClickHouse, {postgres_mentions:,} on "
        f"PostgreSQL, {workspaces} workspaces, {runs} runs per query"
    )
    try:
        with interrupts_as_exit(), stage_progress() as progress:
            result = run_scale_bench(config, progress=progress)
    except BenchError as exc:
        raise fail(str(exc)) from exc
    for engine in (result.clickhouse, result.postgres):
        if engine is None:
            continue
        console.print(timings_table("query", engine.timings, f"{engine.name}, {engine.mentions:,}"))
    figures = Table("figure", "value", title="data")
    for name, value in describe(result):
        figures.add_row(name, value)
    console.print(figures)
    typer.echo(result.last_line())


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``scale`` to ``guanxi bench``."""
    bench_app.command("scale")(bench_scale)
