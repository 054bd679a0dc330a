"""Analytics: `guanxi analytics sync` (the worker's collection, run by hand),
`guanxi analytics posts` (a period's posts with their latest figures, as JSON or CSV) and
`guanxi analytics import` (a creator centre's export, as the import page imports it)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.channels.service import list_channels
from guanxi.connectors.registry import connector_for
from guanxi.core import i18n
from guanxi.core.console import console, err_console, fail, sessions
from guanxi.core.errors import UserError
from guanxi.core.filelimits import formula_safe
from guanxi.core.security import SecretBox
from guanxi.core.settings import get_settings
from guanxi.measure.listing import post_figures

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from guanxi.accounts.models import Workspace
    from guanxi.channels.models import Channel
    from guanxi.measure.models import PostFiguresRead

# The columns of `analytics posts`, in order.
POST_COLUMNS = (
    "platform",
    "account",
    "published_at",
    "views",
    "engagements",
    "engagement_rate",
    "engagement_rate_basis",
    "format",
    "external_id",
    "url",
    "tags",
)


class OutputFormat(StrEnum):
    """How `analytics posts` writes the posts."""

    JSON = "json"
    CSV = "csv"


def _workspace(db: Session, slug: str) -> Workspace:

    found = get_workspace_by_slug(db, slug=slug)
    if found is None:
        raise fail(f"no workspace {slug!r}; check the slug (the /w/<slug>/ of its pages)")
    return found


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r} is not a date; write it as YYYY-MM-DD") from None


def sync_command(
    workspace: Annotated[str, typer.Option(help="Only this workspace's accounts (its slug).")] = "",
) -> None:
    """Collect the figures of every connected account whose platform gives them: the posts
    due for a snapshot, the days not yet collected, the history not yet backfilled."""

    from guanxi.measure.collect import collect_channel_id, measured_channel_ids  # noqa: PLC0415 - the collector: ~10 ms at every `guanxi` start

    settings = get_settings()
    factory = sessions()
    workspace_id = None
    if workspace:
        with factory() as db:
            workspace_id = _workspace(db, workspace).id
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    totals = {"snapshots": 0, "days": 0, "errors": 0}
    with httpx.Client(timeout=30.0) as http:
        build = partial(connector_for, settings=settings, http=http)
        channel_ids = measured_channel_ids(factory, connector_for=build, workspace_id=workspace_id)
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("analytics sync", total=len(channel_ids))
            for channel_id in channel_ids:
                report = collect_channel_id(
                    factory,
                    channel_id,
                    connector_for=build,
                    box=SecretBox.from_settings(settings),
                    owner="cli",
                )
                bar.advance(task)
                if report is None:
                    continue
                totals["snapshots"] += report.snapshots
                totals["days"] += report.days
                if report.error:
                    totals["errors"] += 1
                    message = report.error
                    if report.error_params:
                        message = message.format(**report.error_params)
                    err_console.print(f"{report.channel_name}: {message}")
                if report.skipped:
                    err_console.print(f"{report.channel_name}: skipped ({report.skipped})")
    console.print(
        f"analytics sync: {len(channel_ids)} accounts, {totals['snapshots']} snapshots, "
        f"{totals['days']} days, {totals['errors']} errors"
    )


def _row(post: PostFiguresRead, zone: Any) -> dict[str, Any]:
    return {
        "platform": post.platform,
        "account": post.account,
        "published_at": post.published_at.astimezone(zone).isoformat(),
        "views": post.views,
        "engagements": post.engagements,
        "engagement_rate": None if post.engagement_rate is None else round(post.engagement_rate, 6),
        "engagement_rate_basis": post.engagement_rate_basis,
        "format": post.format.value if post.format else None,
        "external_id": post.external_id,
        "url": post.url,
        "tags": post.tags,
    }


def posts_command(
    workspace: Annotated[str, typer.Option(help="The workspace (its slug).")],
    start: Annotated[str, typer.Option("--from", help="The first day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="The last day, YYYY-MM-DD (included).")],
    output: Annotated[
        OutputFormat, typer.Option("--format", help="json (a list of objects) or csv.")
    ] = OutputFormat.JSON,
) -> None:
    """The posts published from --from to --to (days in the workspace's zone), each with
    its platform, account, time, views, engagements and engagement rate, on stdout."""

    first, last = _day(start, "--from"), _day(end, "--to")
    with sessions()() as db:
        found = _workspace(db, workspace)
        try:
            posts = post_figures(db, workspace=found, start=first, end=last)
        except UserError as exc:
            raise fail(str(exc)) from exc
        zone = ZoneInfo(found.timezone)
    rows = [_row(post, zone) for post in posts]
    if output is OutputFormat.JSON:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    writer = csv.writer(sys.stdout)
    writer.writerow(POST_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                "" if row[c] is None else formula_safe(", ".join(row[c]) if c == "tags" else row[c])
                for c in POST_COLUMNS
            ]
        )


class ExportFormat(StrEnum):
    """What one row of an export describes (``measure.imports.models.ExportKind``)."""

    POSTS = "posts"
    ACCOUNT = "account"


def _channel(db: Session, workspace: Workspace, given: str) -> Channel:
    """The workspace's account named by ``given`` (its id, name or id on the platform), or
    its only account when ``given`` is empty."""

    channels = list_channels(db, workspace=workspace)
    if not given and len(channels) == 1:
        return channels[0]
    found = [c for c in channels if given in {str(c.id), c.name, c.external_id}]
    if len(found) == 1:
        return found[0]
    names = ", ".join(f"{c.id} ({c.platform}: {c.name})" for c in channels) or "none"
    what = "which account the file is of" if not given else f"no single account {given!r}"
    raise fail(f"--channel: {what}; the workspace's accounts: {names}")


def _given_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise fail(f"--map {pair!r}: write it as field=column, e.g. views=观看量")
        mapping[name.strip()] = column.strip()
    return mapping


def import_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="The export: a .csv or .xlsx file.", exists=True, dir_okay=False, readable=True
        ),
    ],
    workspace: Annotated[str, typer.Option(help="The workspace (its slug).")],
    export: Annotated[
        ExportFormat,
        typer.Option("--format", help="posts (one row per post) or account (one row per day)."),
    ],
    channel: Annotated[
        str,
        typer.Option(
            help="The account the file is of: its id, name or id "
            "on the platform (needed when there are several)."
        ),
    ] = "",
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="For a post export: the day its figures were exported, YYYY-MM-DD (default: now).",
        ),
    ] = "",
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column, to set or correct one field of the mapping."),
    ] = None,
) -> None:
    """Import a creator centre's export (Xiaohongshu, Bilibili, WeChat Channels...): its
    good rows are stored, its bad rows listed with what to fix. The column mapping is the
    one remembered for files of this shape, else guessed from the headers; --map corrects
    it, and the mapping used is remembered."""
    from guanxi.measure.imports import reading  # noqa: PLC0415 - the export readers: ~16 ms at every `guanxi` start
    from guanxi.measure.imports import service as imports  # noqa: PLC0415 - the export readers: ~16 ms at every `guanxi` start
    from guanxi.measure.imports.models import ExportKind  # noqa: PLC0415 - the export readers: ~16 ms at every `guanxi` start

    data_dir = get_settings().data_dir
    given = _given_mapping(mapping or [])
    day = _day(as_of, "--as-of") if as_of else None
    with sessions()() as db:
        found = _workspace(db, workspace)
        account = _channel(db, found, channel)
        try:
            reading.check_size(path.stat().st_size)
            with path.open("rb") as content:
                stored = imports.save_export(
                    data_dir=data_dir, workspace_id=found.id, filename=path.name, content=content
                )
            run = imports.start_import(
                db,
                workspace=found,
                channel_id=account.id,
                kind=ExportKind(export.value),
                filename=path.name,
                path=data_dir / stored,
                storage_path=stored,
                created_by_id=None,
                as_of=day,
            )
            columns = imports.file_preview(run, data_dir=data_dir).columns
            chosen = {**imports.proposed_mapping(db, run=run, columns=columns), **given}
            chosen = imports.remember_mapping(db, run=run, columns=columns, mapping=chosen)
            db.commit()
        except UserError as exc:
            raise fail(exc.translated(i18n.gettext)) from exc
        columns_bar = (
            TextColumn("{task.description}"),
            TextColumn("{task.completed} rows"),
            TimeElapsedColumn(),
        )
        with Progress(*columns_bar, console=err_console) as bar:
            task = bar.add_task(f"importing {path.name}", total=None)

            def advance(done: int) -> None:
                bar.update(task, completed=done)

            run = imports.run_import(
                db, run=run, data_dir=data_dir, mapping=chosen, progress=advance
            )
        db.commit()
        if run.error:
            message = i18n.gettext(run.error)
            raise fail(message.format(**run.error_params) if run.error_params else message)
        shown = ", ".join(f"{name}={column}" for name, column in chosen.items())
        console.print(f"mapping: {shown}")
        console.print(
            f"import #{run.id} into {account.name}: read {run.rows_read} rows, "
            f"{run.rows_imported} imported, {run.rows_failed} with errors"
        )
        for error in run.row_errors[:20]:
            where = f" [{error['column']}]" if error["column"] else ""
            value = f" ({error['value']})" if error["value"] else ""
            console.print(
                f"  line {error['line']}{where}: {i18n.gettext(error['problem'])} "
                f"{i18n.gettext(error['fix'])}{value}"
            )
        if run.rows_failed > 20:
            console.print(f"  ... and {run.rows_failed - 20} more rows with errors")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    analytics_app = typer.Typer(
        help="Analytics: the figures of the brand's own accounts and posts.",
        no_args_is_help=True,
    )
    analytics_app.command("sync")(sync_command)
    analytics_app.command("posts")(posts_command)
    analytics_app.command("import")(import_command)
    app.add_typer(analytics_app, name="analytics")
