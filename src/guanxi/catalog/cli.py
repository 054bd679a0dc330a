"""The catalog's commands: ``guanxi catalog list``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from guanxi.catalog import service
from guanxi.core.console import console, fail
from guanxi.core.errors import UserError


def catalog_list(
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",  # noqa: A002
    kind: Annotated[str, typer.Option(help="Only this kind, e.g. microblog, video.")] = "",
    status: Annotated[str, typer.Option(help="active, merged, defunct or unknown.")] = "",
    origin: Annotated[str, typer.Option(help="china or foreign.")] = "",
    region: Annotated[
        str, typer.Option(help="Only platforms not blocked from mainland, hong_kong, ...")
    ] = "",
    on: Annotated[str, typer.Option(help="Judge reach on this day (YYYY-MM-DD).")] = "",
    query: Annotated[str, typer.Option("--query", "-q", help="Text in a name or owner.")] = "",
) -> None:
    """List the platforms in the catalog, all of them or those matching the filters."""
    if format not in {"table", "json"}:
        raise fail("--format must be table or json")
    try:
        filters = service.parse_filters(
            kind=kind, status=status, origin=origin, region=region, on=on, query=query
        )
    except UserError as exc:
        raise fail(str(exc)) from exc
    platforms = service.search_platforms(service.get_catalog(), filters)
    if format == "json":
        typer.echo(
            json.dumps([p.model_dump(mode="json") for p in platforms], ensure_ascii=False, indent=2)
        )
        return
    table = Table("slug", "name", "中文名", "kind", "status")
    for p in platforms:
        table.add_row(p.slug, p.name_en, p.name_zh, p.kind.value, p.status.value)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``guanxi catalog`` to ``app``."""
    catalog_app = typer.Typer(help="The platform catalog.", no_args_is_help=True)
    catalog_app.command("list")(catalog_list)
    app.add_typer(catalog_app, name="catalog")
