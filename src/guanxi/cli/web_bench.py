"""``guanxi bench web``: signed-in people of all roles working in the web app at once;
``guanxi bench pages``: the CPU time and queries of each of their pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from guanxi.core.console import console, fail, stage_progress
from guanxi.core.maththreads import one_math_thread

if TYPE_CHECKING:
    from guanxi.devtools.bench.web_cpu import CpuReport
    from guanxi.devtools.bench.web_results import WebBenchResult


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``web`` and ``pages`` to ``guanxi bench``."""

    @bench_app.command("web")
    def bench_web(
        people: Annotated[int, typer.Option(min=1, help="Signed-in people at once.")] = 50,
        seconds: Annotated[float, typer.Option(min=1, help="How long they work.")] = 60,
        think_s: Annotated[
            float, typer.Option(min=0, help="Pause between two requests (±50 %).")
        ] = 3.0,
        database_url: Annotated[
            str,
            typer.Option(
                help="A PostgreSQL server URL to create a scratch database on; default SQLite."
            ),
        ] = "",
        web_workers: Annotated[int, typer.Option(min=1, help="Web processes.")] = 1,
        mentions: Annotated[int, typer.Option(min=0, help="Mentions besides the demo's.")] = (
            100_000
        ),
        inbox_items: Annotated[
            int, typer.Option(min=1, help="Inbox items besides the demo's.")
        ] = 50_000,
        posts: Annotated[int, typer.Option(min=1, help="Posts besides the demo's.")] = 2_000,
        max_requests: Annotated[
            int, typer.Option(min=0, help="Stop after this many requests (0: time only).")
        ] = 0,
        seed: Annotated[int, typer.Option(help="Seed of the people's choices.")] = 0,
    ) -> None:
        """Fill a scratch database with the demo and a realistic volume, start the sandbox,
        a worker and the web app (WEB_WORKERS processes) on loopback, sign PEOPLE people of
        the four roles in and let them browse and work for SECONDS seconds."""
        from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
        from guanxi.devtools.bench.web_data import Volume  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
        from guanxi.devtools.bench.web_load import WebBenchConfig, run_web_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

        config = WebBenchConfig(
            people=people,
            seconds=seconds,
            think_s=think_s,
            database_url=database_url,
            web_workers=web_workers,
            max_requests=max_requests,
            seed=seed,
            volume=Volume(mentions=mentions, inbox_items=inbox_items, posts=posts),
        )
        backend = "PostgreSQL" if database_url else "SQLite"
        console.print(
            f"bench web: {people} people, {seconds:g} s, think {think_s:g} s, {backend}, "
            f"{web_workers} web process(es); {mentions} mentions, {inbox_items} inbox items, "
            f"{posts} posts"
        )
        try:
            with interrupts_as_exit(), stage_progress() as progress:
                result = run_web_bench(config, progress=progress)
        except BenchError as exc:
            raise fail(str(exc)) from exc
        _print_web_result(result)
        typer.echo(result.last_line())

    @bench_app.command("pages")
    def bench_pages(
        people: Annotated[int, typer.Option(min=4, help="Members of the workspace.")] = 40,
        rounds: Annotated[int, typer.Option(min=1, help="Counted rounds of every page.")] = 10,
        database_url: Annotated[
            str,
            typer.Option(
                help="A PostgreSQL server URL to create a scratch database on; default SQLite."
            ),
        ] = "",
        mentions: Annotated[int, typer.Option(min=0, help="Mentions besides the demo's.")] = (
            100_000
        ),
        inbox_items: Annotated[
            int, typer.Option(min=1, help="Inbox items besides the demo's.")
        ] = 50_000,
        posts: Annotated[int, typer.Option(min=1, help="Posts besides the demo's.")] = 2_000,
        page: Annotated[
            list[str] | None, typer.Option(help="Only this page kind (repeat for more).")
        ] = None,
        statements: Annotated[
            bool, typer.Option(help="List each page's statements, most frequent first.")
        ] = False,
        profile: Annotated[
            int, typer.Option(min=0, help="Print the N costliest functions (needs yappi).")
        ] = 0,
    ) -> None:
        """Fill a scratch database as ``bench web`` does, then send each page its people open
        (and an editor's draft, created and submitted) into the app in this process, ROUNDS
        times per role, and print each page's CPU time and statements per request."""
        one_math_thread()  # as the web app runs: before anything imports numpy
        from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
        from guanxi.devtools.bench.web_data import Volume  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
        from guanxi.devtools.bench.web_pages import PagesConfig, run_pages_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

        config = PagesConfig(
            people=people,
            rounds=rounds,
            database_url=database_url,
            volume=Volume(mentions=mentions, inbox_items=inbox_items, posts=posts),
            only=tuple(page or ()),
            profile=profile,
        )
        backend = "PostgreSQL" if database_url else "SQLite"
        console.print(
            f"bench pages: {rounds} rounds × 4 roles, {backend}; {people} people, {mentions} "
            f"mentions, {inbox_items} inbox items, {posts} posts"
        )
        try:
            with interrupts_as_exit(), stage_progress() as progress:
                result = run_pages_bench(config, progress=progress)
        except BenchError as exc:
            raise fail(str(exc)) from exc
        table = Table(
            "page kind",
            "requests",
            "CPU ms p50",
            "CPU ms mean",
            "DB CPU ms",
            "queries",
            title="pages",
        )
        for cost in result.costs.values():
            database_ms = cost.database_mean_ms
            table.add_row(
                cost.kind,
                str(len(cost.cpu_ms)),
                f"{cost.median_ms:.1f}",
                f"{cost.mean_ms:.1f}",
                "—" if database_ms is None else f"{database_ms:.2f}",
                f"{cost.mean_queries:.1f}",
            )
        console.print(table)
        if statements:
            for cost in result.costs.values():
                console.print(f"{cost.kind}:", highlight=False)
                for statement, count in cost.statements.most_common(15):
                    console.print(
                        f"  {count / len(cost.cpu_ms):5.1f}× {statement}",
                        markup=False,
                        highlight=False,
                    )
        for line in result.profile:
            console.print(line, markup=False, highlight=False)
        typer.echo(result.last_line())


def _print_cpu(report: CpuReport, *, requests: int) -> None:
    """Where the machine's CPU went during the load: each part's seconds, its share of the
    machine's busy time, and per request."""
    if not report.measured:
        console.print("CPU by process: not measured (needs Linux's /proc)")
        return
    capacity_s = report.elapsed_s * report.cores
    table = Table(
        "process",
        "CPU s",
        "share of busy",
        "CPU ms per request",
        title=(
            f"CPU during the load: {report.machine_busy_s:.1f} s busy of "
            f"{capacity_s:.1f} s on {report.cores} cores "
            f"({100 * report.machine_busy_s / capacity_s if capacity_s else 0:.0f}%)"
        ),
    )
    rows = [(part.name, part.seconds) for part in report.parts]
    rows += [("others on the machine", report.others_s)]
    for name, seconds in [*rows, ("the stack in all", report.stack_s)]:
        table.add_row(
            name,
            f"{seconds:.1f}",
            f"{100 * seconds / report.machine_busy_s if report.machine_busy_s else 0:.0f}%",
            f"{1000 * seconds / requests if requests else 0:.1f}",
        )
    console.print(table)


def _print_web_result(result: WebBenchResult) -> None:
    """Every figure of a ``bench web`` run but its last line."""
    from guanxi.devtools.bench.common import percentile  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    table = Table("page kind", "requests", "p50 ms", "p95 ms", "p99 ms", title="web")
    kinds = result.by_kind()
    everything = [sample.ms for sample in result.samples]
    for kind, samples in [*kinds.items(), ("all but sign-in", everything)]:
        table.add_row(
            kind,
            str(len(samples)),
            *(f"{percentile(samples, q):.0f}" for q in (50, 95, 99)),
        )
    console.print(table)
    roles = ", ".join(f"{role.value} {count}" for role, count in result.by_role().items())
    console.print(f"requests by role: {roles}")
    console.print(
        f"{len(result.sign_ins)} sign-in requests, then {len(result.samples)} requests "
        f"in {result.elapsed_s:.1f} s"
    )
    console.print("stored: " + ", ".join(f"{n} {name}" for name, n in result.stored.items()))
    for sample in result.errors:
        console.print(
            f"[red]error[/] ({sample.kind}, {sample.role.value}): {sample.error}",
            markup=True,
            highlight=False,
        )
    if result.logs is not None:
        console.print(f"the logs of the web app, the worker and the sandbox: {result.logs}")
    _print_cpu(result.cpu, requests=len(result.samples))
