"""``guanxi bench report``: the monthly executive report of a big workspace, in every format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guanxi.core import i18n
from guanxi.core.console import console, fail, stage_progress
from guanxi.core.errors import UserError


def bench_report(
    mentions: Annotated[int, typer.Option(min=0, help="Mentions besides the demo's.")] = 1_000_000,
    inbox_items: Annotated[
        int, typer.Option(min=0, help="Inbox items besides the demo's.")
    ] = 100_000,
    posts: Annotated[int, typer.Option(min=0, help="Posts besides the demo's.")] = 10_000,
    chart_countries: Annotated[
        int, typer.Option(min=1, max=600, help="Countries of app-store charts (100 days each).")
    ] = 20,
    language: Annotated[
        str, typer.Option(help="The report's language: en or zh_Hans.")
    ] = "zh_Hans",
    database_url: Annotated[
        str,
        typer.Option(
            help="A PostgreSQL server URL to build (once) and keep the workspace's database "
            "on; default a SQLite file in the cache folder."
        ),
    ] = "",
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Where the SQLite database is kept between runs; ~/.cache/guanxi/bench."),
    ] = None,
) -> None:
    """Make the demo workspace's monthly executive report, with MENTIONS, INBOX_ITEMS and POSTS
    more rows, once per format (PDF, PowerPoint, Excel): the sections read from the
    capabilities' services, then the file. The workspace's database is built on the first
    run for a volume and reused after; the last line is for scripts."""
    from guanxi.devtools.bench.common import BenchError, interrupts_as_exit  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.report import run_report_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)
    from guanxi.devtools.bench.report_data import ReportVolume  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    volume = ReportVolume(
        mentions=mentions, inbox_items=inbox_items, posts=posts, chart_countries=chart_countries
    )
    try:
        with interrupts_as_exit(), stage_progress() as progress:
            result = run_report_bench(
                volume=volume,
                database_url=database_url,
                cache_dir=cache_dir,
                language=language,
                progress=progress,
            )
    except BenchError as exc:
        raise fail(str(exc)) from exc
    except UserError as exc:
        raise fail(exc.translated(i18n.gettext)) from None
    built = "built now" if result.database_built else "reused"
    console.print(f"database ({built}): {result.database_url}")
    for key, held in result.sections.items():
        console.print(f"section {key}: {held}")
    for line in result.lines()[:-1]:
        console.print(line)
    typer.echo(result.lines()[-1])


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``report`` to ``guanxi bench``."""
    bench_app.command("report")(bench_report)
