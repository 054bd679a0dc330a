"""Market intelligence: `guanxi charts import|fetch|matrix|effect`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import select

from guanxi.accounts.models import Workspace
from guanxi.core import i18n
from guanxi.core.console import console, fail, sessions
from guanxi.core.db import session_scope, utcnow
from guanxi.core.errors import UserError
from guanxi.core.settings import ConfigurationError, get_settings
from guanxi.market.models import ChartDataset, Store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from guanxi.market.presenting import ChartChoice

charts_app = typer.Typer(help="App-store chart ranks across countries.", no_args_is_help=True)


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


@charts_app.command("import")
def charts_import(
    path: Annotated[Path, typer.Argument(help="A CSV file or a JSON feed saved to a file.")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="csv, play-csv, apple-v2 or itunes; guessed when empty."),
    ] = "",
    workspace: Annotated[
        str, typer.Option(help="Import privately into this workspace (its slug); else public.")
    ] = "",
    dataset: Annotated[
        str, typer.Option(help="The dataset to add the charts to.")
    ] = "Imported charts",
    day: Annotated[str, typer.Option(help="The day of a JSON feed (default: its own date).")] = "",
    illustrative: Annotated[
        bool, typer.Option(help="Flag the dataset as illustrative (not observed) data.")
    ] = False,
) -> None:
    """Import chart snapshots from a file; a bad file imports nothing and says why."""
    from guanxi.market import importers, service  # noqa: PLC0415 - the market services: ~25 ms at every `guanxi` start

    if not path.is_file():
        raise fail(f"{path} is not a file")
    try:
        chosen = importers.ImportFormat(fmt) if fmt else None
    except ValueError:
        formats = ", ".join(importers.ImportFormat)
        raise fail(f"--format {fmt!r} is not one of {formats}") from None
    try:
        charts = importers.read_file(path, chosen, day=_day(day))
        with session_scope(sessions()) as db:
            owner = None
            if workspace:
                owner = db.query(Workspace).filter(Workspace.slug == workspace).one_or_none()
                if owner is None:
                    raise fail(f"no workspace {workspace!r}; see `guanxi workspace create`")
            source = (chosen or importers.guess_format(path)).value
            target = service.find_or_create_dataset(
                db, workspace=owner, name=dataset, source=source, illustrative=illustrative
            )
            report = service.import_charts(
                db, dataset=target, charts=charts, settings=get_settings()
            )
    except UserError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"imported {report.charts} chart(s), {report.entries} ranks, {report.countries} "
        f"countries, {report.first_day} to {report.last_day} into {dataset!r}"
        + (f" ({report.replaced} replaced)" if report.replaced else "")
    )


@charts_app.command("fetch")
def charts_fetch(
    every: Annotated[
        bool, typer.Option("--all", help="Fetch every chart again, even those done today.")
    ] = False,
) -> None:
    """Take today's snapshot of the configured countries × charts once (what the worker does
    daily); a chart that fails is recorded and reported, the others still run."""
    from guanxi.market import collect  # noqa: PLC0415 - the collector: ~25 ms at every `guanxi` start

    settings = get_settings()
    day = utcnow().date()
    try:
        fetcher_for = collect.store_fetchers(settings, day=day)
        stores = tuple(store for store in Store if fetcher_for(store) is not None)
        targets = collect.configured_targets(settings, stores=stores)
    except ConfigurationError as exc:
        raise fail(str(exc)) from exc
    if not targets:
        raise fail("no charts configured: set GUANXI_MARKET_COUNTRIES (and GUANXI_MARKET_CHARTS)")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as bar, sessions()() as db:
        task = bar.add_task("charts", total=len(targets))
        outcomes = collect.fetch_due(
            db,
            settings=settings,
            fetcher_for=fetcher_for,
            day=day,
            only_due=not every,
            progress=lambda _o: bar.advance(task),
        )
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        t = outcome.target
        console.print(f"[red]failed[/] {t.store} {t.country} {t.chart}: {outcome.error}")
    console.print(f"fetched {len(outcomes) - len(failed)} chart(s), {len(failed)} failed")
    if failed:
        raise typer.Exit(code=1)


@charts_app.command("matrix")
def charts_matrix(
    on: Annotated[str, typer.Option("--date", help="The day, YYYY-MM-DD (default: latest).")] = "",
    chart: Annotated[str, typer.Option(help="top-free, top-paid or top-grossing.")] = "top-free",
    store: Annotated[str, typer.Option(help="apple or google-play (default: any).")] = "",
    top: Annotated[int, typer.Option(min=1, max=200, help="The top N.")] = 10,
    workspace: Annotated[str, typer.Option(help="Read this workspace's datasets.")] = "",
    dataset: Annotated[int, typer.Option(help="A dataset id (default: the newest with data).")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """For each app, the countries and ranks where it is in the top N on a day."""
    from guanxi.market import presenting  # noqa: PLC0415 - the chart presenters: ~60 ms at every `guanxi` start

    if fmt not in {"table", "json"}:
        raise fail("--format must be table or json")
    wanted = _day(on)
    with sessions()() as db:
        try:
            choice = _cli_choice(
                db, workspace=workspace, dataset=dataset, store=store, chart=chart, day=wanted
            )
        except UserError as exc:
            raise fail(str(exc)) from exc
        if choice is None:
            raise fail(
                f"no {chart} chart{' on ' + on if on else ''} in any dataset; "
                "import one with `guanxi charts import`"
            )
        shown = wanted or choice.default_day()
        view = presenting.matrix_payload(db, selection=choice.selection, day=shown, top=top)
        payload = view.as_json(choice)
    if fmt == "json":
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    title = f"{payload['dataset']['name']} · {payload['store']} {payload['chart']} · {shown}"
    table = Table("app", "countries", "#1", f"countries and ranks (top {top})", title=title)
    for app in payload["apps"]:
        ranks = ", ".join(f"{country} {rank}" for country, rank in app["ranks"].items())
        table.add_row(app["name"], str(app["countries_in_top"]), str(app["number_ones"]), ranks)
    console.print(table)
    if payload["dataset"]["illustrative"]:
        console.print("[yellow]illustrative data[/]: not observed ranks")


def _cli_choice(
    db: Session, *, workspace: str, dataset: int, store: str, chart: str, day: date | None
) -> ChartChoice | None:
    """The chart asked for: in a workspace, a given dataset, or the newest having that day."""
    from guanxi.market import presenting, service  # noqa: PLC0415 - the chart presenters: ~60 ms at every `guanxi` start

    if workspace:
        owner = db.scalar(select(Workspace).where(Workspace.slug == workspace))
        if owner is None:
            raise fail(f"no workspace {workspace!r}")
        datasets = service.visible_datasets(db, workspace=owner)
    else:
        datasets = list(db.scalars(select(ChartDataset).order_by(ChartDataset.id.desc())))
    if dataset:
        datasets = [d for d in datasets if d.id == dataset]
    for candidate in datasets:
        choice = presenting.chart_of(db, candidate, datasets, store=store, chart=chart)
        if choice.days and (day is None or day in choice.days):
            return choice
    return None


@charts_app.command("effect")
def charts_effect(
    workspace: Annotated[str, typer.Option(help="The workspace's slug.")],
    campaign: Annotated[int, typer.Option(help="The market campaign's id.")] = 0,
) -> None:
    """The estimated effect of the workspace's market campaigns on rank (or of one)."""
    from guanxi.market import campaigns, service  # noqa: PLC0415 - the campaigns' analysis: ~70 ms at every `guanxi` start

    with sessions()() as db:
        owner = db.scalar(select(Workspace).where(Workspace.slug == workspace))
        if owner is None:
            raise fail(f"no workspace {workspace!r}")
        chosen = campaigns.list_campaigns(db, workspace=owner)
        if campaign:
            chosen = [c for c in chosen if c.id == campaign]
        if not chosen:
            raise fail("no such market campaign; create one on the Market › Campaigns page")
        for item in chosen:
            dataset = (db.get(ChartDataset, item.dataset_id) if item.dataset_id else None) or (
                service.default_dataset(db, workspace=owner)
            )
            if dataset is None:
                raise fail("no chart data to measure it on; import charts first")
            report = campaigns.campaign_effect(db, campaign=item, dataset=dataset)
            sentence = campaigns.effect_sentence(
                report,
                app=item.app_key,
                countries=", ".join(item.countries),
                gettext=i18n.get_translations("en").gettext,
            )
            console.print(f"[bold]{item.name}[/] (#{item.id}): {sentence}")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    app.add_typer(charts_app, name="charts")
