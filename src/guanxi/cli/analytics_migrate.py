"""``guanxi analytics migrate --to clickhouse``: copy the SQL analytics to ClickHouse,
resumably, then compare every month on both sides (``guanxi.analytics.copy``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from guanxi.analytics import copy as analytics_copy
from guanxi.analytics import migrations as analytics_migrations
from guanxi.analytics.client import AnalyticsClient, AnalyticsConfigError, shared_client
from guanxi.core.capability import capabilities, load_reference
from guanxi.core.console import console, err_console, fail, stage_progress
from guanxi.core.db import make_engine, make_session_factory, session_scope
from guanxi.core.settings import get_settings

TARGETS = ("clickhouse",)


def declared_copies() -> list[analytics_copy.AnalyticsCopy]:
    """One instance of every capability's ``AnalyticsCopy``, in the capabilities' order."""
    found = []
    for capability in capabilities():
        for reference in capability.analytics_copies:
            made = load_reference(reference, type)()
            if not isinstance(made, analytics_copy.AnalyticsCopy):
                msg = f"{reference} does not make an AnalyticsCopy"
                raise TypeError(msg)
            found.append(made)
    return found


def analytics_migrate(
    to: Annotated[str, typer.Option("--to", help="Where to: clickhouse.")],
    analytics_url: Annotated[
        str,
        typer.Option(help="The ClickHouse to copy to (default: GUANXI_ANALYTICS_URL)."),
    ] = "",
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Rows per insert.")
    ] = analytics_copy.BATCH,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be copied; copy nothing.")
    ] = False,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            help="Walk every month again, even those copied (rows ClickHouse holds are kept).",
        ),
    ] = False,
) -> None:
    """Copy the analytics kept in the SQL database into ClickHouse, month by month in
    batches; a run stopped midway continues where it stopped when run again. Then compare
    each month's counts and checksums on both sides: exit 1 if any differ."""
    if to not in TARGETS:
        raise fail(f"--to {to!r}: the analytics can move to {', '.join(TARGETS)} only.")
    url = analytics_url or get_settings().analytics_url
    if not url:
        raise fail(
            "Say where to copy: set GUANXI_ANALYTICS_URL (clickhouse://host:8123/database "
            "or chdb:///directory) or give --analytics-url."
        )
    try:
        client = shared_client(url)
    except AnalyticsConfigError as exc:
        raise fail(str(exc)) from None
    packages = [package for cap in capabilities() for package in cap.analytics_migrations]
    for name in analytics_migrations.upgrade(client, packages):
        console.print(f"analytics store: ran {name}")
    copies = declared_copies()
    engine = make_engine(get_settings().resolved_database_url)
    try:
        checks = _copy_and_verify(
            engine, client, copies, batch=batch, dry_run=dry_run, restart=restart
        )
    finally:
        engine.dispose()
    if checks is None:
        return
    table = Table("copy", "month", "SQL", "ClickHouse", "checksum", title="verified")
    for check in checks:
        table.add_row(
            check.copy,
            check.month,
            f"{check.sql_count:,}",
            f"{check.store_count:,}",
            "match" if check.matches else "[bold red]differs[/]",
        )
    console.print(table)
    differing = [f"{check.copy} {check.month}" for check in checks if not check.matches]
    if differing:
        err_console.print(
            "If the SQL database changed since those months were copied (new or re-enriched "
            "mentions), run again with --restart: it walks every month again and copies what "
            "ClickHouse lacks. If ClickHouse already held rows of its own for those months "
            "(it was written to before the copy), recreate its database (DROP DATABASE, then "
            "guanxi db upgrade) and copy again with --restart."
        )
        raise fail(f"{len(differing)} month(s) differ: {', '.join(differing)}")
    console.print(f"every month matches ({len(checks)} checked)")


def _copy_and_verify(
    engine: Engine,
    client: AnalyticsClient,
    copies: list[analytics_copy.AnalyticsCopy],
    *,
    batch: int,
    dry_run: bool,
    restart: bool,
) -> list[analytics_copy.MonthCheck] | None:
    """Copy (or, dry, show the plan: None) and compare every month."""
    with session_scope(make_session_factory(engine)) as db:
        if dry_run:
            table = Table("copy", "month", "SQL rows", "copied before", "state", title="to copy")
            for copy in copies:
                for month in analytics_copy.plan(db, client, copy):
                    state = "done" if month.done and not restart else "to copy"
                    table.add_row(
                        month.copy, month.month, f"{month.rows:,}", f"{month.copied:,}", state
                    )
            console.print(table)
            return None
        with stage_progress() as progress:
            for copy in copies:
                if restart:
                    analytics_copy.forget_state(client, copy.name)
                copied = analytics_copy.copy_months(
                    db, client, copy, batch=batch, progress=progress
                )
                console.print(f"{copy.name}: {copied:,} rows copied by this run")
        return [check for copy in copies for check in analytics_copy.verify(db, client, copy)]


def register(app: typer.Typer) -> None:
    """Add ``migrate`` to the ``guanxi analytics`` group, made here if no capability has
    one (measure's commands live there too)."""
    for info in app.registered_groups:
        if info.name == "analytics" and info.typer_instance is not None:
            info.typer_instance.command("migrate")(analytics_migrate)
            return
    group = typer.Typer(help="The analytics store (docs/scale.md).", no_args_is_help=True)
    group.command("migrate")(analytics_migrate)
    app.add_typer(group, name="analytics")
