"""``guanxi bench convert``: the tracked links' redirect under load and killed, and the
attribution of many orders against many touches."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, fail, stage_progress


def bench_convert(
    seconds: Annotated[
        float, typer.Option(min=0.1, help="Seconds of load on the redirect.")
    ] = 10.0,
    concurrency: Annotated[
        int, typer.Option(min=1, max=1_000, help="Keep-alive connections of the client.")
    ] = 32,
    kill_after: Annotated[
        int, typer.Option(min=1, help="Redirects answered before the server is SIGKILLed.")
    ] = 2_000,
    orders: Annotated[int, typer.Option(min=1, help="Orders to attribute.")] = 100_000,
    touches: Annotated[
        int, typer.Option(min=1, help="Touches (clicks) to attribute against.")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic orders.")] = 0,
    attribution_runs: Annotated[
        int,
        typer.Option(
            min=1, help="Times attribution is timed on the same data (the median reported)."
        ),
    ] = 1,
    database_url: Annotated[
        str,
        typer.Option(
            help="A PostgreSQL server URL to create scratch databases on; default SQLite."
        ),
    ] = "",
    analytics_url: Annotated[
        str,
        typer.Option(
            help="A ClickHouse (chdb:///dir or clickhouse://...) to copy the clicks to and "
            "measure attribution and counts on as well; default none."
        ),
    ] = "",
) -> None:
    """Load one `guanxi serve` process's redirect for SECONDS from CONCURRENCY connections,
    SIGKILL it after KILL_AFTER more answers and count the clicks lost; then attribute
    ORDERS orders against TOUCHES clicks and time the engine."""
    from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.convert import ConvertBenchConfig, run_convert_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    config = ConvertBenchConfig(
        seconds=seconds,
        concurrency=concurrency,
        kill_after=kill_after,
        orders=orders,
        touches=touches,
        seed=seed,
        attribution_runs=attribution_runs,
        database_url=database_url,
        analytics_url=analytics_url,
    )
    backend = "PostgreSQL" if database_url else "SQLite"
    console.print(
        f"bench convert: redirect {seconds:g} s from {concurrency} connections, killed after "
        f"{kill_after:,} more; {orders:,} orders against {touches:,} touches; {backend}; "
        f"load average before {os.getloadavg()[0]:.1f}"
    )
    try:
        with interrupts_as_exit(), stage_progress() as progress:
            result = run_convert_bench(config, progress=progress)
    except BenchError as exc:
        raise fail(str(exc)) from exc
    redirect = result.redirect
    table = Table("figure", "value", title=f"convert benchmark ({backend})")
    table.add_row(
        "redirects answered under load", f"{redirect.answered:,} in {redirect.seconds:.1f} s"
    )
    table.add_row("clicks/s", f"{redirect.clicks_per_s:,.0f}")
    table.add_row(
        "latency p50 / p95 / p99 ms",
        f"{redirect.p(50):.2f} / {redirect.p(95):.2f} / {redirect.p(99):.2f}",
    )
    table.add_row("errors (not a 302 with a click id)", str(redirect.errors))
    table.add_row(
        "CPU: server / client (of the load's wall time)",
        f"{redirect.server_cpu_s / redirect.seconds:.0%} / "
        f"{redirect.client_cpu_s / redirect.seconds:.0%} of one core",
    )
    table.add_row(
        "server CPU per click, storing included",
        f"{redirect.server_us_per_click:,.0f} µs (all stored {redirect.stored_after_s:.1f} s "
        "after the load)",
    )
    table.add_row(
        "click ids handed out / stored / lost",
        f"{len(redirect.click_ids):,} / {redirect.stored:,} / {redirect.lost:,} "
        f"(SIGKILL after {redirect.killed_after:,} more answers)",
    )
    table.add_row("data made and loaded", f"{result.load_s:.1f} s")
    table.add_row(
        "paid orders found / expected",
        f"{result.found_paid_orders:,.0f} / {result.paid_orders:,}",
    )
    table.add_row(
        "attributed orders found / expected",
        f"{result.attributed_orders:,.0f} / {result.expected_attributed:,}",
    )
    table.add_row(
        "attribution (last touch, 30 days)",
        _timings(result.attribution_s, result.attribution_runs_s),
    )
    table.add_row(
        "counted clicks of every link over the period",
        f"{result.counted_clicks:,} in {result.counts_s * 1000:.1f} ms",
    )
    if result.clickhouse is not None:
        on_clickhouse = result.clickhouse
        table.add_row(
            "clicks copied to ClickHouse",
            f"{on_clickhouse.copied:,} in {on_clickhouse.copy_s:.1f} s",
        )
        table.add_row(
            "attribution on ClickHouse: orders / time",
            f"{on_clickhouse.attributed_orders:,.0f} / "
            + _timings(on_clickhouse.attribution_s, on_clickhouse.attribution_runs_s),
        )
        table.add_row(
            "counted clicks on ClickHouse",
            f"{on_clickhouse.counted_clicks:,} in {on_clickhouse.counts_s * 1000:.1f} ms",
        )
    table.add_row("load average after", f"{os.getloadavg()[0]:.1f}")
    console.print(table)
    # Plain lines for scripts (a table wraps at the terminal's width).
    typer.echo(
        f"check: click_ids={len(redirect.click_ids)} stored={redirect.stored} "
        f"attributed_orders={result.attributed_orders:.0f} "
        f"expected_attributed={result.expected_attributed}"
    )
    typer.echo(result.last_line())


def _timings(median: float, runs: list[float]) -> str:
    """``2.31 s``, or with several runs ``2.31 s (median of 2.28 / 2.31 / 2.40 s)``."""
    if len(runs) < 2:
        return f"{median:.2f} s"
    return f"{median:.2f} s (median of {' / '.join(f'{run:.2f}' for run in runs)} s)"


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``convert`` to ``guanxi bench``."""
    bench_app.command("convert")(bench_convert)
