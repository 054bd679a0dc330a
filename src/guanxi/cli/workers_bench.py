"""``guanxi bench workers``: publishing and inbox ingest with 1, 2 and 4 worker processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, err_console, fail, stage_progress

if TYPE_CHECKING:
    from guanxi.devtools.bench.workers import RoundResult


def _counts(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter("worker counts separated by commas, such as 1,2,4") from None


def bench_workers(
    database_url: Annotated[
        str, typer.Option(help="A PostgreSQL server URL; each round creates a database on it.")
    ],
    queue_url: Annotated[
        str, typer.Option(help="A Redis URL (a database number no other guanxi uses).")
    ],
    workers: Annotated[
        str, typer.Option(help="Worker processes per round, separated by commas.")
    ] = "1,2,4",
    posts: Annotated[int, typer.Option(min=1, help="Posts published in each round.")] = 600,
    accounts_: Annotated[
        int, typer.Option("--accounts", min=1, help="Sandbox Weibo accounts (channels).")
    ] = 60,
    mentions: Annotated[
        int, typer.Option(min=1, max=500, help="New @-mentions of each account per round.")
    ] = 100,
    threads: Annotated[int, typer.Option(min=1, help="Consumer threads per worker.")] = 4,
    timeout: Annotated[
        float, typer.Option(min=10, help="Seconds each phase of a round may take.")
    ] = 300.0,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox.")] = 0,
) -> None:
    """Publish POSTS posts and ingest ACCOUNTS × MENTIONS mentions with 1, 2 and 4 worker
    processes started as separate machines (own process group, data and temporary
    directories; one PostgreSQL and one Redis shared), against the sandbox; report the
    rates, duplicates, lost work and errors of each (the last line, for scripts)."""
    from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.workers import WorkersConfig, last_line, run_workers_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    config = WorkersConfig(
        database_url=database_url,
        queue_url=queue_url,
        worker_counts=_counts(workers),
        posts=posts,
        accounts=accounts_,
        mentions=mentions,
        threads=threads,
        timeout_s=timeout,
        seed=seed,
    )
    console.print(
        f"bench workers: {workers} worker process(es) x {threads} thread(s); {posts} posts, "
        f"{accounts_} accounts x {mentions} mentions a round"
    )
    try:
        with interrupts_as_exit(), stage_progress() as progress:
            rounds = run_workers_bench(config, progress=progress)
    except BenchError as exc:
        raise fail(str(exc)) from exc
    table = Table("figure", *(f"{r.workers} worker(s)" for r in rounds), title="workers")
    rows: list[tuple[str, Callable[[RoundResult], object]]] = [
        ("posts published a second", lambda r: f"{r.publish_per_s:.1f}"),
        ("mentions ingested a second", lambda r: f"{r.ingest_per_s:.1f}"),
        ("posts published", lambda r: f"{r.published} of {r.posts}"),
        ("mentions stored", lambda r: f"{r.ingested} of {r.mentions}"),
        ("published or stored twice", lambda r: r.duplicates),
        ("posts lost", lambda r: r.lost_posts),
        ("errors", lambda r: len(r.errors)),
        ("publish: cores busy, workers / sandbox / db", lambda r: r.publish_cores),
        ("ingest: cores busy, workers / sandbox / db", lambda r: r.ingest_cores),
        (
            "cores' worth waiting for a CPU (publish / ingest)",
            lambda r: f"{r.publish_cores.waiting:.2f} / {r.ingest_cores.waiting:.2f}",
        ),
        ("workers' CPU ms per post", lambda r: f"{r.publish_cores.worker_ms_per(r.published):.1f}"),
        (
            "workers' CPU ms per mention",
            lambda r: f"{r.ingest_cores.worker_ms_per(r.ingested):.2f}",
        ),
        ("machine load average (1 min) at the end", lambda r: f"{r.ingest_cores.load:.1f}"),
        ("mention-feed reads (every sync)", lambda r: r.mention_reads),
    ]
    for name, figure in rows:
        table.add_row(name, *(str(figure(r)) for r in rounds))
    console.print(table)
    for r in rounds:
        for error in r.errors[:10]:
            err_console.print(f"{r.workers} worker(s): {error}")
    line = last_line(rounds)
    typer.echo(line)
    if any(r.duplicates or r.errors or r.lost_posts or r.ingested < r.mentions for r in rounds):
        raise typer.Exit(code=1)


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``workers`` to ``guanxi bench``."""
    bench_app.command("workers")(bench_workers)
