"""``guanxi bench analytics``: the analytics pages' queries on a large history, and the
collector refreshing posts against the sandbox."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, fail, stage_progress


def bench_analytics(
    accounts: Annotated[int, typer.Option(min=1, help="Accounts of the workspace.")] = 1_000,
    days: Annotated[int, typer.Option(min=1, help="Days of figures per account.")] = 3 * 365,
    posts: Annotated[int, typer.Option(min=1, help="Posts, spread over the accounts.")] = 100_000,
    snapshots: Annotated[int, typer.Option(min=1, max=10, help="Snapshots per post.")] = 10,
    repeats: Annotated[int, typer.Option(min=1, help="Times each query is timed.")] = 20,
    collect_posts: Annotated[
        int, typer.Option(min=0, help="Posts the collector refreshes against the sandbox.")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic figures.")] = 0,
    database_url: Annotated[
        str,
        typer.Option(
            help="A PostgreSQL server URL to create a scratch database on; default SQLite."
        ),
    ] = "",
    analytics_url: Annotated[
        str,
        typer.Option(
            help="A ClickHouse (chdb:///dir or clickhouse://...) to copy the facts to and time "
            "the pages on; default the SQL database."
        ),
    ] = "",
) -> None:
    """Fill a scratch database with ACCOUNTS × DAYS days of figures and POSTS × SNAPSHOTS
    snapshots, time each query of the analytics pages REPEATS times, then let the collector
    snapshot COLLECT_POSTS posts of the sandbox's demo Weibo account. With ANALYTICS_URL the
    facts are copied to a scratch ClickHouse database and the pages timed on it (the
    collector still writes to SQL)."""
    from guanxi.devtools.bench.analytics import AnalyticsBenchConfig, run_analytics_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    config = AnalyticsBenchConfig(
        accounts=accounts,
        days=days,
        posts=posts,
        snapshots=snapshots,
        repeats=repeats,
        collect_posts=collect_posts,
        seed=seed,
        database_url=database_url,
        analytics_url=analytics_url,
    )
    backend = "PostgreSQL" if database_url else "SQLite"
    if analytics_url:
        backend += " + ClickHouse"
    console.print(
        f"bench analytics: {accounts} accounts x {days} days, {posts} posts x {snapshots} "
        f"snapshots, {backend}; the collector on {collect_posts} posts"
    )
    try:
        with interrupts_as_exit(), stage_progress() as progress:
            result = run_analytics_bench(config, progress=progress)
    except BenchError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"loaded in {result.load_s:.1f} s: "
        + ", ".join(f"{count:,} {name}" for name, count in result.rows.items())
    )
    if analytics_url:
        console.print(f"copied to ClickHouse in {result.copy_s:.1f} s")
    table = Table("query", "runs", "p50 ms", "p95 ms", title=f"analytics pages ({backend})")
    for timing in result.timings:
        p50, p95 = timing.percentile(0.5), timing.percentile(0.95)
        table.add_row(timing.name, str(len(timing.samples_ms)), f"{p50:.1f}", f"{p95:.1f}")
    console.print(table)
    if collect_posts:
        console.print(
            f"collector: {result.collected_posts:,} posts in {result.collect_s:.1f} s over "
            f"{result.collect_runs} runs, {result.api_calls} API calls ("
            + ", ".join(f"{path} {n}" for path, n in sorted(result.calls_by_path.items()))
            + "); the sandbox allows Weibo 150 calls per account and 1,000 per app an hour"
        )
        if result.collect_error:
            console.print(f"[red]the collector stopped:[/] {result.collect_error}")
    typer.echo(result.last_line())


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``analytics`` to ``guanxi bench``."""
    bench_app.command("analytics")(bench_analytics)
