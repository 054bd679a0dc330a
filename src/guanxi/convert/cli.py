"""Conversions: `guanxi convert import` (a shop's order export: Taobao/Tmall, Douyin shop,
WeChat Pay bill, JD, or guanxi's own columns)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.core import i18n
from guanxi.core.console import console, err_console, fail, sessions
from guanxi.core.errors import UserError
from guanxi.core.tables import header_of

T = TypeVar("T")
R = TypeVar("R")
MAX_FILE_BYTES = 1024 * 1024 * 1024  # 1 GB: a year of a large Tmall store's orders


class OrderFileFormat(StrEnum):
    """The shops whose exports `convert import` reads."""

    TMALL = "tmall"
    DOUYIN_SHOP = "douyin-shop"
    WECHAT_PAY = "wechat-pay"
    JD = "jd"
    CSV = "csv"
    XLSX = "xlsx"


def import_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="The export: a .csv or .xlsx file.", exists=True, dir_okay=False, readable=True
        ),
    ],
    workspace: Annotated[str, typer.Option(help="The workspace (its slug).")],
    order_format: Annotated[
        OrderFileFormat | None,
        typer.Option(
            "--format",
            help="tmall, douyin-shop, wechat-pay, jd, or csv/xlsx (guanxi's column names "
            "order_id, ordered_at, amount... or a column mapping); found from the headers "
            "when left out.",
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            help="The named column mapping to read a CSV/XLSX with (made on the orders page); "
            "without it, the mapping remembered for the file's headers."
        ),
    ] = None,
) -> None:
    """Import a shop's orders: new orders are added, known ones updated (importing a file
    again changes nothing), refunds recorded; bad rows are listed with what to fix."""
    from guanxi.convert.orders import service  # noqa: PLC0415 - the order readers: only this command needs them
    from guanxi.convert.orders.mapping import detect_format  # noqa: PLC0415 - the order readers: only this command needs them
    from guanxi.convert.orders.readers import SOURCE_OF_FORMAT, read_orders  # noqa: PLC0415 - the order readers: only this command needs them
    from guanxi.convert.orders.runs import command_context  # noqa: PLC0415 - the order readers: only this command needs them

    if path.stat().st_size > MAX_FILE_BYTES:
        raise fail(f"{path.name} is larger than 1 GB: split it by month and import each part")
    file_format = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    with _database() as db:
        found = get_workspace_by_slug(db, slug=workspace)
        if found is None:
            raise fail(f"no workspace {workspace!r}; check the slug (the /w/<slug>/ of its pages)")
        try:
            columns = header_of(path, file_format)
            if order_format is None:
                reader_format = detect_format(columns) or "csv"
            elif order_format is OrderFileFormat.XLSX:
                reader_format = "csv"
            else:
                reader_format = order_format.value
            if reader_format not in SOURCE_OF_FORMAT:
                raise fail(
                    f"{path.name} is a platform's report, not orders: upload it on the "
                    f"orders page (/w/{workspace}/orders)"
                )
            if reader_format == "csv":
                context = command_context(
                    db, workspace_id=found.id, columns=columns, mapping_name=mapping
                )
            else:
                context = service.reading_context(db, workspace_id=found.id)
            report = _import_with_progress(
                path,
                lambda lines: service.import_lines(
                    db,
                    workspace_id=found.id,
                    source=SOURCE_OF_FORMAT[reader_format],
                    lines=lines,
                ),
                read_orders(path, reader_format, context=context),
            )
        except UserError as exc:
            raise fail(exc.translated(i18n.gettext)) from None
    console.print(
        f"{report.orders_added:,} orders added, {report.orders_updated:,} updated, "
        f"{report.orders_unchanged:,} unchanged, {report.refunds:,} refunds, "
        f"{report.rows_failed:,} rows with errors"
    )
    for error in report.errors[:50]:
        console.print(
            f"  line {error.line}: {error.column}: {error.problem} {error.fix}"
            + (f" ({error.value})" if error.value else "")
        )
    if report.rows_failed > 50:
        console.print(f"  ... and {report.rows_failed - 50:,} more")


def _import_with_progress(path: Path, store: Callable[[Iterator[T]], R], lines: Iterator[T]) -> R:
    """``store(lines)`` with a spinner that counts the rows read."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(f"Importing {path.name}", total=None)

        def counted(lines: Iterator[T]) -> Iterator[T]:
            for number, line in enumerate(lines, start=1):
                if number % 1000 == 0:
                    progress.update(task, description=f"Importing {path.name}: {number:,} rows")
                yield line

        return store(counted(lines))


def report_command(
    workspace: Annotated[str, typer.Option(help="The workspace (its slug).")],
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")],
    model: Annotated[
        AttributionModel, typer.Option(help="How an order is shared among its touches.")
    ] = AttributionModel.LAST_TOUCH,
    window: Annotated[
        int | None,
        typer.Option(help="Lookback window in days: 7, 15 or 30 (default: the workspace's)."),
    ] = None,
    output: Annotated[str, typer.Option("--format", help="json (the only format yet).")] = "json",
) -> None:
    """Revenue, orders, costs, ROAS and cost per order per campaign, post, KOL and platform
    for the days --from to --to (the workspace's time zone), attributed under --model (time
    decay with the workspace's half-life), with the unattributed orders, and the incremental
    revenue of campaigns run in some regions only."""
    from guanxi.convert.incrementality import campaign_estimates, today_in  # noqa: PLC0415 - the estimator: only this command needs it
    from guanxi.convert.reports import report_document, revenue_report  # noqa: PLC0415 - the attribution engine: only this command needs it

    if output != "json":
        raise fail("--format json is the only format of this report")
    with _database() as db:
        found = get_workspace_by_slug(db, slug=workspace)
        if found is None:
            raise fail(f"no workspace {workspace!r}; check the slug (the /w/<slug>/ of its pages)")
        try:
            report = revenue_report(
                db,
                workspace_id=found.id,
                first_day=_day(first, "--from"),
                last_day=_day(last, "--to"),
                zone=found.timezone,
                model=model,
                window_days=window,
            )
        except UserError as exc:
            raise fail(exc.translated(i18n.gettext)) from None
        incremental = campaign_estimates(
            db,
            workspace_id=found.id,
            first_day=report.first_day,
            last_day=report.last_day,
            zone=found.timezone,
            today=today_in(found.timezone),
        )
    document = report_document(report, workspace=workspace, zone=found.timezone)
    document["incremental"] = [item.as_json(i18n.gettext) for item in incremental]
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r} is not a date; write it as YYYY-MM-DD") from None


@contextmanager
def _database() -> Iterator[Session]:
    """A session on the configured database; its engine closes with it (a command runs once,
    and an open pooled connection would outlive it)."""
    factory = sessions()
    try:
        with factory() as db:
            yield db
    finally:
        factory.kw["bind"].dispose()


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    convert_app = typer.Typer(
        help="Conversions: tracked links and the shops' orders.", no_args_is_help=True
    )
    convert_app.command("import")(import_command)
    convert_app.command("report")(report_command)
    app.add_typer(convert_app, name="convert")
