"""What every command of the `guanxi` command line shares, the capabilities' own and the
development tools': the consoles, the error exit, the database sessions, a progress bar
per stage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.settings import get_settings

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise (code 1)."""
    # Escaped: a message's brackets are text (pip install 'guanxi[train]'), not Rich markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


def warn(message: str) -> None:
    """Print ``message`` as a warning (escaped, as ``fail`` does)."""
    err_console.print(f"[bold yellow]warning:[/] {escape(message)}")


def sessions() -> sessionmaker[Session]:
    """A session factory on the configured database."""
    return make_session_factory(make_engine(get_settings().resolved_database_url))


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback that shows one bar per stage."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        yield progress
