"""``guanxi bench market``: the market pages' work on a scratch database of charts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from guanxi.core.console import console


def bench_market(
    countries: Annotated[int, typer.Option(min=1, max=676, help="Countries.")] = 50,
    days: Annotated[int, typer.Option(min=20, help="Days of daily snapshots.")] = 90,
    depth: Annotated[int, typer.Option(min=10, max=200, help="Ranks per chart.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic charts.")] = 0,
    database_url: Annotated[
        str, typer.Option(help="An empty database to use (e.g. PostgreSQL); default SQLite.")
    ] = "",
) -> None:
    """Import COUNTRIES × DAYS charts of DEPTH ranks into a scratch database and time the
    market pages' work on them; one app has a known lift, the effect found is printed."""
    from guanxi.devtools.bench.market import LIFT_PLACES, MarketBenchConfig, run_market_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    config = MarketBenchConfig(
        countries=countries,
        days=days,
        depth=depth,
        seed=seed,
        apps=max(depth * 3, 100),
        database_url=database_url,
    )
    console.print(f"bench market: {countries} countries x {days} days x top {depth}")
    result = run_market_bench(config)
    table = Table("step", "seconds", title=f"market benchmark ({result.ranks:,} ranks)")
    for name, seconds in result.timings.items():
        table.add_row(name, f"{seconds:.3f}")
    console.print(table)
    console.print(
        f"effect of the known lift ({LIFT_PLACES} places): {result.effect_places:+.1f} places, "
        f"95% interval {result.effect_low:+.1f} to {result.effect_high:+.1f}"
    )


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``market`` to ``guanxi bench``."""
    bench_app.command("market")(bench_market)
