"""``guanxi db prune``: apply each workspace's retention now, as the worker does daily."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from guanxi.accounts import service as accounts
from guanxi.core.console import console, stage_progress
from guanxi.core.console import fail as _fail
from guanxi.core.console import sessions as _sessions
from guanxi.retention import service as retention


def db_prune(
    workspace: Annotated[
        str | None, typer.Option(help="Only this workspace (its slug); every one by default.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count the rows that would go; delete none.")
    ] = False,
    batch: Annotated[
        int, typer.Option(min=100, max=50_000, help="Rows per transaction.")
    ] = retention.BATCH_ROWS,
) -> None:
    """Delete raw rows older than each workspace's retention (their daily figures stay).

    Safe to stop and run again: each batch is committed, and a second run the same day
    deletes nothing more."""
    with _sessions()() as db:
        chosen = None
        if workspace is not None:
            found = accounts.get_workspace_by_slug(db, slug=workspace)
            if found is None:
                raise _fail(f"no workspace {workspace}; see `guanxi workspace create`")
            chosen = [found]
        with stage_progress() as progress:
            results = retention.prune(
                db, workspaces=chosen, dry_run=dry_run, batch_rows=batch, progress=progress
            )
    if not results:
        console.print("no workspace limits its retention: nothing to delete")
        return
    table = Table("workspace", "kind", "before (UTC)", "rows to delete" if dry_run else "deleted")
    for result in results:
        table.add_row(
            result.workspace_slug, result.kind, result.before.date().isoformat(), f"{result.rows:,}"
        )
    console.print(table)
