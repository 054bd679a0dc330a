"""``guanxi bench storage``: bytes per 1,000,000 raw rows of each kind retention deletes,
on SQLite or PostgreSQL, and how fast the retention deletes them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, fail, stage_progress


def bench_storage(
    rows: Annotated[
        int, typer.Option(min=1_000, help="Rows of each kind (mentions, clicks, snapshots).")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic rows.")] = 0,
    database_url: Annotated[
        str,
        typer.Option(
            help="A PostgreSQL server URL to create scratch databases on; default SQLite."
        ),
    ] = "",
) -> None:
    """Write ROWS rows of each kind into a scratch database of its own, print the bytes
    each takes per 1,000,000 rows (tables with their indexes), then delete the older half
    with the kind's retention and print the rows deleted per second."""
    from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.storage import run_storage_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    backend = "PostgreSQL" if database_url else "SQLite"
    console.print(f"bench storage: {rows:,} rows of each kind on {backend}")
    try:
        with interrupts_as_exit(), stage_progress() as progress:
            result = run_storage_bench(
                rows=rows, database_url=database_url, seed=seed, progress=progress
            )
    except BenchError as exc:
        raise fail(str(exc)) from exc
    kinds = Table(
        "kind", "rows", "MB", "MB per 1,000,000", "deleted", "deleted rows/s",
        title=f"raw rows on disk, with their indexes ({backend})",
    )  # fmt: skip
    tables = Table("kind", "table", "MB", "MB per 1,000,000", title="by table")
    for figure in result.figures:
        kinds.add_row(
            figure.kind,
            f"{figure.rows:,}",
            f"{figure.total_bytes / 2**20:.1f}",
            f"{figure.bytes_per_million / 2**20:.0f}",
            f"{figure.pruned:,}",
            f"{figure.pruned_per_s:,.0f}",
        )
        for name, size in figure.bytes_by_table.items():
            per_million = size * 1_000_000 / figure.rows if figure.rows else 0
            tables.add_row(figure.kind, name, f"{size / 2**20:.1f}", f"{per_million / 2**20:.0f}")
    console.print(kinds)
    console.print(tables)
    typer.echo(result.last_line())


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``storage`` to ``guanxi bench``."""
    bench_app.command("storage")(bench_storage)
