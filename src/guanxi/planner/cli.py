"""The planner's command: ``guanxi plan``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from guanxi.accounts import service as accounts
from guanxi.core import i18n
from guanxi.core.console import console, err_console, fail, sessions
from guanxi.core.db import session_scope
from guanxi.core.errors import UserError
from guanxi.core.settings import get_settings
from guanxi.planner import service as planner
from guanxi.planner.brief import InvalidBriefError


def plan(
    region: Annotated[
        str, typer.Option(help="mainland, hong_kong, overseas_chinese or other_country.")
    ],
    age: Annotated[str, typer.Option(help="Age range of the audience, e.g. 18-30.")],
    education: Annotated[
        str | None, typer.Option(help="secondary, university or postgraduate.")
    ] = None,
    tiers: Annotated[
        list[str] | None, typer.Option("--tiers", help="City tiers 1-4, e.g. 1,2.")
    ] = None,
    goal: Annotated[
        list[str] | None,
        typer.Option("--goal", help="awareness, engagement, sales, video; repeat or use commas."),
    ] = None,
    language: Annotated[
        list[str] | None,
        typer.Option("--language", help="Languages the brand can produce: en, zh_Hans, zh_Hant."),
    ] = None,
    device: Annotated[
        list[str] | None, typer.Option("--device", help="mobile, desktop, feature_phone.")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="The country, with --region other_country.")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="Plan date YYYY-MM-DD; default today.")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",  # noqa: A002
    save: Annotated[bool, typer.Option(help="Save the plan in --workspace as --name.")] = False,
    workspace: Annotated[str | None, typer.Option(help="Workspace to save in.")] = None,
    name: Annotated[str | None, typer.Option(help="Name of the saved plan.")] = None,
) -> None:
    """Rank the catalog's platforms for an audience, best first, with reasons and warnings."""
    settings = get_settings()
    i18n.set_language(settings.default_language)
    if format not in {"table", "json"}:
        raise fail("--format must be table or json")
    if save and not (workspace and name):
        raise fail("--save needs --workspace SLUG and --name NAME")
    try:
        brief = planner.brief_from_options(
            region=region,
            age=age,
            education=education,
            tiers=tiers,
            goals=goal,
            languages=language,
            devices=device,
            country=country,
            plan_date=on,
        )
        result = planner.run_brief(brief, today=planner.today_in(settings.timezone))
        if save and workspace and name:
            with session_scope(sessions()) as db:
                target = accounts.get_workspace_by_slug(db, slug=workspace)
                if target is None:
                    raise fail(f"no workspace {workspace}; see `guanxi workspace create`")
                saved = planner.create_plan(
                    db, workspace=target, actor=None, actor_label="cli", name=name, brief=brief
                )
                err_console.print(f"saved plan {saved.id} in {workspace}")
    except InvalidBriefError as exc:
        for field, messages in exc.field_messages(i18n.gettext).items():
            for message in messages:
                err_console.print(f"[bold red]error:[/] {field}: {message}", highlight=False)
        raise typer.Exit(code=1) from exc
    except UserError as exc:
        raise fail(exc.translated(i18n.gettext)) from exc
    ranking = planner.present_result(result)
    if format == "json":
        items = [item.model_dump(mode="json") for item in ranking]
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    advice = planner.present_language_advice(result.language_advice)
    for line in advice.advice:
        console.print(line.text, highlight=False)
    for line in advice.warnings:
        console.print(f"[bold yellow]warning:[/] {line.text}", highlight=False)
    table = Table("#", "platform", "score", "warnings", title=f"plan date {result.plan_date}")
    for item in ranking:
        warnings = "\n".join(w.text for w in item.warnings)
        table.add_row(str(item.rank), item.name, f"{item.score:.1f}", warnings)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``guanxi plan`` to ``app``."""
    app.command("plan")(plan)
