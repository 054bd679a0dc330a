"""Engage: `guanxi inbox sync` and `guanxi inbox rescore` (the worker's jobs, run by hand)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from guanxi.accounts.service import get_workspace_by_slug
from guanxi.connectors.registry import connector_for
from guanxi.core import i18n
from guanxi.core.console import console, err_console, fail, sessions, stage_progress
from guanxi.core.errors import UserError
from guanxi.core.security import SecretBox
from guanxi.core.settings import SentimentTier, get_settings


def sync_command(
    workspace: Annotated[str, typer.Option(help="Only this workspace's channels (its slug).")] = "",
    queue: Annotated[
        bool,
        typer.Option(
            help="Queue one sync job per channel for the workers instead of reading here."
        ),
    ] = False,
) -> None:
    """Read new comments, mentions and messages of every connected channel into the inbox."""
    from guanxi.inbox.intake.service import sync_channel_id, syncable_channel_ids  # noqa: PLC0415 - the ingest service: ~40 ms at every `guanxi` start

    settings = get_settings()
    factory = sessions()
    workspace_id = None
    if workspace:
        with factory() as db:
            found = get_workspace_by_slug(db, slug=workspace)
            if found is None:
                raise fail(f"no workspace {workspace}; see `guanxi workspace create`")
            workspace_id = found.id
    if queue:  # what the schedule does, now: the workers read the channels side by side
        from guanxi.inbox.scheduled import run_sync  # noqa: PLC0415 - builds the task queue, which only this option needs

        queued = run_sync(workspace_id)
        console.print(f"inbox sync: {len(queued)} channels queued for the workers")
        return
    box = SecretBox.from_settings(settings)
    channel_ids = syncable_channel_ids(factory, workspace_id=workspace_id)
    added = failed = 0
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with httpx.Client(timeout=30.0) as http, Progress(*columns, console=console) as bar:
        task = bar.add_task("inbox sync", total=len(channel_ids))
        for channel_id in channel_ids:
            report = sync_channel_id(
                factory,
                channel_id,
                box=box,
                owner="cli",
                connector_for=partial(connector_for, settings=settings, http=http),
            )
            bar.advance(task)
            if report is None:
                continue
            added += report.added
            for kind in report.kinds:
                if kind.error:
                    failed += 1
                    message = (
                        kind.error.format(**kind.error_params) if kind.error_params else kind.error
                    )
                    err_console.print(f"{report.channel_name} ({kind.kind}): {message}")
            if report.skipped:
                err_console.print(f"{report.channel_name}: skipped ({report.skipped})")
    console.print(f"inbox sync: {len(channel_ids)} channels, {added} new items, {failed} errors")


def rescore_command(
    workspace: Annotated[str, typer.Option(help="Only this workspace's items (its slug).")] = "",
    limit: Annotated[int, typer.Option(min=1, help="Re-score at most this many items.")] = 1000,
    days: Annotated[
        int, typer.Option(min=1, max=365, help="Only items created in the last DAYS days.")
    ] = 7,
) -> None:
    """Re-score recent inbox items with the accurate sentiment tier, newest first (what the
    worker does a few hundred items at a time; about ten items per CPU second)."""
    from guanxi.inbox.triage.rescore import count_waiting, rescore  # noqa: PLC0415 - the triage service: ~40 ms at every `guanxi` start
    from guanxi.inbox.triage.sentiment import AccurateSentiments  # noqa: PLC0415 - the NLP pipeline: ~150 ms at every `guanxi` start

    if get_settings().sentiment_tier is not SentimentTier.ACCURATE:
        raise fail(
            "GUANXI_SENTIMENT_TIER is fast: the inbox keeps the fast model's sentiment. Set "
            "GUANXI_SENTIMENT_TIER=accurate (docs/configuration.md) to re-score it."
        )
    factory = sessions()
    workspace_id = None
    with factory() as db:
        if workspace:
            found = get_workspace_by_slug(db, slug=workspace)
            if found is None:
                raise fail(f"no workspace {workspace}; see `guanxi workspace create`")
            workspace_id = found.id
        try:
            scorer = AccurateSentiments()
            version = scorer.load()
        except UserError as exc:
            raise fail(exc.translated(i18n.gettext)) from None
        total = min(limit, count_waiting(db, scorer=version, workspace_id=workspace_id, days=days))
        with stage_progress() as progress:
            result = rescore(
                db,
                scorer=scorer,
                workspace_id=workspace_id,
                limit=limit,
                days=days,
                progress=lambda done: progress("inbox rescore", done, total),
            )
    console.print(
        f"inbox rescore: {result.rescored} items re-scored by {result.scorer}, "
        f"{result.changed} changed sentiment"
    )


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    inbox_app = typer.Typer(
        help="The inbox: comments, mentions and messages.", no_args_is_help=True
    )
    inbox_app.command("sync")(sync_command)
    inbox_app.command("rescore")(rescore_command)
    app.add_typer(inbox_app, name="inbox")
