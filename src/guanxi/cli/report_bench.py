"""``guanxi bench report``: the report's file formats on a synthetic monthly report."""

from __future__ import annotations

from typing import Annotated

import typer

from guanxi.core import i18n
from guanxi.core.console import console, fail
from guanxi.core.errors import UserError


def bench_report(
    language: Annotated[
        str, typer.Option(help="The report's language: en or zh_Hans.")
    ] = "zh_Hans",
) -> None:
    """Benchmark the PDF, PowerPoint and Excel files of a synthetic monthly report.

    The report (8 sections, 12 charts of 365 days, 50-row tables) is built in memory, so this
    measures the renderers alone; the last line is for scripts."""
    from guanxi.devtools.bench.report import run_report_bench  # noqa: PLC0415 - a development tool, loaded by its command only (test_bench_web)

    try:
        result = run_report_bench(language=language)
    except UserError as exc:
        raise fail(exc.translated(i18n.gettext)) from None
    for line in result.lines()[:-1]:
        console.print(line)
    typer.echo(result.lines()[-1])


def register_bench(bench_app: typer.Typer) -> None:
    """Add ``report`` to ``guanxi bench``."""
    bench_app.command("report")(bench_report)
