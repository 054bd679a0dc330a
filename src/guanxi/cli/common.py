"""What every command module shares: the consoles, the error exit, the database sessions."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.settings import get_settings

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise (code 1)."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def sessions() -> sessionmaker[Session]:
    """A session factory on the configured database."""
    return make_session_factory(make_engine(get_settings().resolved_database_url))
