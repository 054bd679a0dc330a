"""Listening: `guanxi import`, `guanxi listen pull`, `guanxi listen reenrich`.

The commands call the same flows as the web pages and the worker's jobs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.core import i18n
from guanxi.core.console import console, err_console, fail, sessions
from guanxi.core.errors import UserError
from guanxi.core.settings import get_settings

FORMAT_HELP = "weibo-crawler | mediacrawler | csv | jsonl | xlsx"


def _mapping(value: str) -> dict[str, str]:
    """``--mapping`` as JSON ('{"text": "内容"}') or as field=column pairs, comma-separated."""
    value = value.strip()
    if not value:
        return {}
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise fail(f"--mapping is not valid JSON: {exc.msg}") from exc
        return {str(key): str(column) for key, column in parsed.items()}
    pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise fail('--mapping takes field=column pairs, e.g. "text=内容,posted_at=发布时间"')
    return {field.strip(): column.strip() for field, column in pairs}


def import_command(
    path: Annotated[Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False)],
    file_format: Annotated[str, typer.Option("--format", help=FORMAT_HELP)],
    workspace: Annotated[str, typer.Option(help="The workspace's slug.")],
    source: Annotated[str, typer.Option(help="Source name (default: the format).")] = "",
    mapping: Annotated[
        str, typer.Option(help='Column mapping for csv/jsonl/xlsx: "text=内容,posted_at=时间".')
    ] = "",
    platform: Annotated[str, typer.Option(help="Platform of the posts (catalog slug).")] = "weibo",
    users: Annotated[
        Path | None, typer.Option(help="weibo-crawler users.csv (default: found beside PATH).")
    ] = None,
    enrich: Annotated[bool, typer.Option(help="Enrich while importing.")] = True,
) -> None:
    """Import posts from a crawler's file into a workspace's listening data."""
    from guanxi.listening.intake import flows, service  # noqa: PLC0415 - the intake flows: ~130 ms at every `guanxi` start
    from guanxi.listening.intake.importers import FILE_FORMATS, GENERIC_FORMATS, importer_for  # noqa: PLC0415 - the file readers: ~35 ms at every `guanxi` start
    from guanxi.listening.mentions import flows as enrichment  # noqa: PLC0415 - the enrichment flows: ~40 ms at every `guanxi` start

    if file_format not in FILE_FORMATS:
        raise fail(f"unknown --format {file_format!r}; use {FORMAT_HELP}")
    given = _mapping(mapping)
    with sessions()() as db:
        target = get_workspace_by_slug(db, slug=workspace)
        if target is None:
            raise fail(f"no workspace {workspace}; see `guanxi workspace create`")
        try:
            chosen = service.source_named(
                db,
                workspace_id=target.id,
                name=source or file_format,
                file_format=file_format,
                platform=platform,
            )
            if file_format in GENERIC_FORMATS:
                given = given or dict(chosen.column_mapping)
                from guanxi.listening.intake.importers.generic import check_mapping  # noqa: PLC0415 - the file readers: ~35 ms at every `guanxi` start

                service.remember_mapping(chosen, check_mapping(given))
            importer = importer_for(file_format, mapping=given, platform=platform, users_path=users)
            run = flows.start_run(db, source=chosen, path=path)
            db.commit()
            pipeline = enrichment.pipeline_for(db, workspace_id=target.id) if enrich else None
            by_rows = file_format == "xlsx"  # openpyxl reports rows, not bytes
            columns = (
                [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
                if by_rows
                else [
                    TextColumn("{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                ]
            )
            with Progress(*columns, TimeElapsedColumn(), console=err_console) as bar:
                task = bar.add_task(
                    f"importing {path.name}", total=None if by_rows else run.bytes_total
                )

                def on_progress(progress: flows.ImportProgress) -> None:
                    done = progress.run.rows_read if by_rows else progress.bytes_done
                    label = f"importing {path.name}: {progress.run.rows_added} new"
                    bar.update(task, completed=done, description=label)

                flows.import_file(
                    db,
                    run=run,
                    path=path,
                    importer=importer,
                    pipeline=pipeline,
                    on_progress=on_progress,
                    max_rows=get_settings().import_max_rows,
                )
                bar.update(task, completed=run.rows_read if by_rows else run.bytes_total)
        except UserError as exc:
            raise fail(exc.translated(i18n.gettext)) from exc
        console.print(
            f"read {run.rows_read} rows: {run.rows_added} new, {run.rows_skipped} already there, "
            f"{run.rows_failed} with errors (import #{run.id})"
        )
        for error in run.row_errors[:20]:
            column = f" [{error.column}]" if error.column else ""
            console.print(
                f"  line {error.line}{column}: {i18n.gettext(error.problem)} "
                f"{i18n.gettext(error.fix)}" + (f" ({error.value})" if error.value else "")
            )
        if run.rows_failed > 20:
            console.print(f"  ... and {run.rows_failed - 20} more rows with errors")


def pull_command(
    workspace: Annotated[str, typer.Option(help="Only this workspace (slug).")] = "",
) -> None:
    """Run every connected keyword search once (what the worker does every 5 minutes)."""
    from guanxi.listening.intake.scheduled import run_pull  # noqa: PLC0415 - builds the task queue (huey) and loads the pull: ~230 ms at every `guanxi` start

    workspace_id = None
    if workspace:
        with sessions()() as db:
            target = get_workspace_by_slug(db, slug=workspace)
            if target is None:
                raise fail(f"no workspace {workspace}")
            workspace_id = target.id
    results = run_pull(workspace_id)
    if not results:
        console.print("no search sources with a connected account")
    for result in results:
        status = f"error: {i18n.gettext(result.error)}" if result.error else "ok"
        console.print(
            f"source #{result.source_id}: {result.added} new, {result.skipped} known, {status}"
        )


def reenrich_command(
    workspace: Annotated[str, typer.Option(help="Only this workspace (slug).")] = "",
) -> None:
    """Enrich again every mention enriched by another model version (after an upgrade)."""
    from guanxi.listening.mentions import flows  # noqa: PLC0415 - the enrichment flows: ~40 ms at every `guanxi` start

    with sessions()() as db:
        workspace_id = None
        if workspace:
            target = get_workspace_by_slug(db, slug=workspace)
            if target is None:
                raise fail(f"no workspace {workspace}")
            workspace_id = target.id
        pipeline = flows.pipeline_for(db, workspace_id=workspace_id or 0)
        version = pipeline.model_version
        total = flows.count_stale(db, model_version=version, workspace_id=workspace_id)
        if not total:
            console.print(f"every mention is enriched by {version}")
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task(f"re-enriching with {version}", total=total)
            done = flows.reenrich(
                db,
                workspace_id=workspace_id,
                pipeline=pipeline if workspace_id is not None else None,
                progress=lambda count: bar.update(task, completed=count),
            )
        console.print(f"re-enriched {done} mentions with {version}")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    app.command("import")(import_command)
    listen_app = typer.Typer(help="Listening: pulls from connected accounts, re-enrichment.")
    listen_app.command("pull")(pull_command)
    listen_app.command("reenrich")(reenrich_command)
    app.add_typer(listen_app, name="listen")
