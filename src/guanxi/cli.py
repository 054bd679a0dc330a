"""The ``guanxi`` command line: wiring of the capabilities' services, nothing more."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from guanxi import __version__
from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, UserCreate, WorkspaceCreate
from guanxi.core import migrate
from guanxi.core.db import make_engine, make_session_factory, session_scope
from guanxi.core.errors import UserError
from guanxi.core.settings import get_settings

app = typer.Typer(
    help="guanxi: command center for brands on Chinese social media.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces (one per brand).", no_args_is_help=True)
catalog_app = typer.Typer(help="The platform catalog.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(workspace_app, name="workspace")
app.add_typer(catalog_app, name="catalog")

console = Console()
err_console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"guanxi {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """guanxi: command center for brands on Chinese social media."""


def _sessions() -> sessionmaker[Session]:
    return make_session_factory(make_engine(get_settings().resolved_database_url))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database schema to the latest version."""
    url = get_settings().resolved_database_url
    migrate.upgrade(url, revision)
    console.print(f"database at revision {revision}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart on code changes.")] = False,
) -> None:
    """Serve the web application."""
    import uvicorn

    uvicorn.run("guanxi.web.main:app", host=host, port=port, reload=reload)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="E-mail address; signs in with it.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."
        ),
    ],
) -> None:
    """Create a user who can sign in."""
    try:
        data = UserCreate(email=email, name=name, password=password)
    except ValueError as exc:
        raise _fail(f"{exc}") from exc
    try:
        with session_scope(_sessions()) as db:
            user = accounts.create_user(db, data=data)
            console.print(f"created user {user.email}")
    except UserError as exc:
        raise _fail(str(exc)) from exc


@workspace_app.command("create")
def workspace_create(
    slug: Annotated[str, typer.Option(help="Short address, e.g. provence-wines.")],
    name: Annotated[str, typer.Option(help="The brand's name.")],
    owner: Annotated[str, typer.Option(help="E-mail address of the owner (an existing user).")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Asia/Shanghai",
) -> None:
    """Create a workspace for a brand, owned by an existing user."""
    try:
        data = WorkspaceCreate(slug=slug, name=name, timezone=timezone)
    except ValueError as exc:
        raise _fail(f"{exc}") from exc
    try:
        with session_scope(_sessions()) as db:
            user = accounts.get_user_by_email(db, email=owner)
            if user is None:
                raise _fail(f"no user {owner}; create one with `guanxi user create` first")
            workspace = accounts.create_workspace(db, data=data, owner=user)
            console.print(f"created workspace {workspace.slug}")
    except UserError as exc:
        raise _fail(str(exc)) from exc


@workspace_app.command("add-member")
def workspace_add_member(
    slug: Annotated[str, typer.Option(help="The workspace.")],
    email: Annotated[str, typer.Option(help="The user's e-mail address.")],
    role: Annotated[Role, typer.Option(help="owner, manager, editor or analyst.")],
) -> None:
    """Give a user a role in a workspace."""
    from guanxi.accounts.models import Workspace

    try:
        with session_scope(_sessions()) as db:
            user = accounts.get_user_by_email(db, email=email)
            workspace = db.query(Workspace).filter_by(slug=slug).one_or_none()
            if user is None or workspace is None:
                raise _fail("no such user or workspace")
            accounts.add_member(db, workspace=workspace, user=user, role=role, actor=None)
            console.print(f"{email} is {role.value} of {slug}")
    except UserError as exc:
        raise _fail(str(exc)) from exc


@catalog_app.command("list")
def catalog_list(
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",  # noqa: A002
) -> None:
    """List every platform in the catalog."""
    from guanxi.catalog.service import get_catalog

    catalog = get_catalog()
    if format == "json":
        typer.echo(
            json.dumps(
                [p.model_dump(mode="json") for p in catalog.platforms], ensure_ascii=False, indent=2
            )
        )
        return
    if format != "table":
        raise _fail("--format must be table or json")
    table = Table("slug", "name", "中文名", "kind", "status")
    for p in catalog.platforms:
        table.add_row(p.slug, p.name_en, p.name_zh, p.kind.value, p.status.value)
    console.print(table)


@app.command()
def demo() -> None:
    """Load the demo workspace (a Provence wine brand entering China); safe to repeat."""
    from guanxi.demo import DEMO_PASSWORD, DEMO_PEOPLE, load_demo

    with session_scope(_sessions()) as db:
        workspace = load_demo(db)
    console.print(f"demo workspace [bold]{workspace.name}[/] ready")
    for person in DEMO_PEOPLE:
        console.print(f"  {person.role.value:8} {person.email}  password: {DEMO_PASSWORD}")
