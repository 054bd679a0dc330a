"""Analytics: `guanxi analytics sync` (the worker's collection, run by hand) and
`guanxi analytics posts` (a period's posts with their latest figures, as JSON or CSV)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from guanxi.core.console import console, err_console, fail, sessions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from guanxi.accounts.models import Workspace
    from guanxi.measure.models import PostFiguresRead

# The columns of `analytics posts`, in order.
POST_COLUMNS = (
    "platform", "account", "published_at", "views", "engagements", "engagement_rate",
    "engagement_rate_basis", "format", "external_id", "url",
)  # fmt: skip


class OutputFormat(StrEnum):
    """How `analytics posts` writes the posts."""

    JSON = "json"
    CSV = "csv"


def _workspace(db: Session, slug: str) -> Workspace:
    from guanxi.accounts.service import get_workspace_by_slug

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
    import httpx

    from guanxi.connectors.registry import connector_for
    from guanxi.core.security import SecretBox
    from guanxi.core.settings import get_settings
    from guanxi.measure.collect import collect_channel_id, measured_channel_ids

    settings = get_settings()
    factory = sessions()
    workspace_id = None
    if workspace:
        with factory() as db:
            workspace_id = _workspace(db, workspace).id
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    totals = {"snapshots": 0, "days": 0, "errors": 0}
    with httpx.Client(timeout=30.0) as http:
        build = partial(connector_for, settings=settings, http=http)
        channel_ids = measured_channel_ids(factory, connector_for=build, workspace_id=workspace_id)
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("analytics sync", total=len(channel_ids))
            for channel_id in channel_ids:
                report = collect_channel_id(
                    factory, channel_id, connector_for=build,
                    box=SecretBox.from_settings(settings), owner="cli",
                )  # fmt: skip
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
        "platform": post.platform, "account": post.account,
        "published_at": post.published_at.astimezone(zone).isoformat(),
        "views": post.views, "engagements": post.engagements,
        "engagement_rate": None if post.engagement_rate is None else round(post.engagement_rate, 6),
        "engagement_rate_basis": post.engagement_rate_basis,
        "format": post.format.value if post.format else None,
        "external_id": post.external_id, "url": post.url,
    }  # fmt: skip


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
    from zoneinfo import ZoneInfo

    from guanxi.core.errors import UserError
    from guanxi.core.filelimits import formula_safe
    from guanxi.measure.service import post_figures

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
        writer.writerow(["" if row[c] is None else formula_safe(row[c]) for c in POST_COLUMNS])


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    analytics_app = typer.Typer(
        help="Analytics: the figures of the brand's own accounts and posts.",
        no_args_is_help=True,
    )
    analytics_app.command("sync")(sync_command)
    analytics_app.command("posts")(posts_command)
    app.add_typer(analytics_app, name="analytics")
