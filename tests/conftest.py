"""Shared fixtures: a migrated database per test on SQLite, and on PostgreSQL when
``GUANXI_TEST_DATABASE_URL`` is set; the app, a client, and factories for people.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import (
    AuditEvent,
    Membership,
    Role,
    User,
    UserCreate,
    Workspace,
    WorkspaceCreate,
)
from guanxi.checks.models import SensitiveWord
from guanxi.checks.wordlist import SEED_ACTION
from guanxi.core import migrate, security
from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.settings import Settings
from guanxi.shell import app as shell_app
from guanxi.shell.app import create_app
from guanxi.shell.models import metadata
from guanxi.web import rendering
from tests.cli import (
    cli_database,  # noqa: F401 - a fixture for the CLI tests
    migrated_sqlite_file,
)
from tests.mail_support import mailbox  # noqa: F401 - a fixture for the e-mail tests

PASSWORD = "correct horse battery"
POSTGRES_URL = os.environ.get("GUANXI_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked ``postgres_only`` runs on PostgreSQL alone when a server is configured
    (its SQLite twin repeats minutes of walking the same routes); on a machine without one it
    runs on SQLite, so it is never skipped altogether."""
    if not POSTGRES_URL:
        return
    items[:] = [
        item
        for item in items
        if not (
            item.get_closest_marker("postgres_only")
            and getattr(item, "callspec", None) is not None
            and item.callspec.params.get("database_url") == "sqlite"
        )
    ]


def _share_route_analysis() -> None:
    """Analyse each route's signature once per test process instead of once per app.

    FastAPI analyses every route (a pydantic TypeAdapter per parameter, ~2,700 dependencies)
    on an app's first request, 0.5-1 s; each test builds its own app, so most of a short
    test was that. The analysis depends only on the route's path, endpoint and dependencies,
    the same in every app of the suite, and nothing changes it once made. Should FastAPI
    rename this private function, the suite only runs slower.
    """
    build = getattr(fastapi.routing, "_build_dependant_with_parameterless_dependencies", None)
    if build is None:
        return
    made: dict[tuple[Any, ...], Any] = {}

    def key_of(depends: Any) -> tuple[Any, ...]:
        scopes = tuple(getattr(depends, "scopes", None) or ())
        return (type(depends), depends.dependency, depends.use_cache, depends.scope, scopes)

    def shared(*, path: str, call: Callable[..., Any], dependencies: Sequence[Any]) -> Any:
        key = (path, call, tuple(key_of(depends) for depends in dependencies))
        if key not in made:
            made[key] = build(path=path, call=call, dependencies=dependencies)
        return made[key]

    fastapi.routing._build_dependant_with_parameterless_dependencies = shared
    _share_fields()


def _share_fields() -> None:
    """Likewise the pydantic fields of each route's response model and body, named after
    the route and made from the (shared) analysis."""
    make_field = getattr(fastapi.routing, "create_model_field", None)
    body_field = getattr(fastapi.routing, "_get_body_field", None)
    if make_field is None or body_field is None:
        return
    fields: dict[tuple[Any, ...], Any] = {}
    bodies: dict[tuple[Any, ...], Any] = {}

    def shared_field(name: str, type_: Any, *args: Any, **kwargs: Any) -> Any:
        if args or set(kwargs) - {"mode"}:
            return make_field(name, type_, *args, **kwargs)
        key = (name, type_, kwargs.get("mode"))
        try:
            if key not in fields:
                fields[key] = make_field(name, type_, **kwargs)
            return fields[key]
        except TypeError:  # an unhashable annotation
            return make_field(name, type_, **kwargs)

    def shared_body(*, body_params: list[Any], name: str, embed_body_fields: bool) -> Any:
        key = (id(body_params), name, embed_body_fields)
        if key not in bodies:
            found = body_field(
                body_params=body_params, name=name, embed_body_fields=embed_body_fields
            )
            bodies[key] = (found, body_params)  # the list kept alive: its id stays its own
        return bodies[key][0]

    fastapi.routing.create_model_field = shared_field
    fastapi.routing._get_body_field = shared_body


_share_route_analysis()


def _share_templates() -> None:
    """One Jinja environment for every app the suite builds, instead of one per app.

    Each test builds its own app, and each app's environment compiled every template its
    pages render again (~0.15 s of a short test that opens one page). The environment
    depends on nothing of the app: the filters capabilities add when an app is created are
    the same functions every time, and the language is read per render.
    """
    shell_app.make_templates = cache(rendering.make_templates)


_share_templates()

# PostgreSQL: commit without waiting for the WAL to reach the disk (~10 ms a commit on a
# busy disk, and a test commits many times). What a transaction sees and locks is unchanged;
# only a crash of the server could lose the last commits, of databases the tests throw
# away. libpq reads PGOPTIONS in this process and in the workers and commands it starts.
os.environ["PGOPTIONS"] = " ".join(
    part for part in (os.environ.get("PGOPTIONS", ""), "-c synchronous_commit=off") if part
)


# argon2 at production strength (64 MiB, 3 passes) costs ~0.3 s a hash on this machine's cores;
# a test that makes a user and signs in paid it twice, most of the suite's time.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def quick_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: tests are about the flows, not the hash's strength. A test
    marked ``real_password_hashing`` (tests/test_security.py) keeps the real parameters."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(security, "_hasher", CHEAP_HASHER)


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    return migrated_sqlite_file()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test worker's own, migrated to head once."""
    admin_url = make_url(POSTGRES_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"guanxi_test_{worker}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"guanxi_races_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@cache
def _delete_everything() -> str:
    """One PostgreSQL script that empties every table, children first."""
    preparer = postgresql.dialect().identifier_preparer
    tables = reversed(metadata().sorted_tables)
    return "; ".join(f"DELETE FROM {preparer.format_table(table)}" for table in tables)


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A clean, migrated database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "guanxi.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    yield url
    engine = create_engine(url)
    # DELETE, children first: on tables this small it is ~7x faster than TRUNCATE; all in
    # one round trip.
    with engine.begin() as connection:
        connection.exec_driver_sql(_delete_everything())
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of this test's database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on this test's database."""
    return make_session_factory(engine)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking data; commit what the app must see."""
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a test instance: its own data dir and database, a fixed key."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-0123456789",  # type: ignore[arg-type]
    )


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    """The application on this test's database."""
    return create_app(settings, session_factory)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app, not signed in."""
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


UserFactory = Callable[..., User]
WorkspaceFactory = Callable[..., Workspace]


@pytest.fixture
def make_user(db: Session) -> UserFactory:
    """Create and commit a user: ``make_user("a@example.com", name="A")``."""

    def factory(email: str, name: str = "Test User", password: str = PASSWORD) -> User:
        user = accounts.create_user(db, data=UserCreate(email=email, name=name, password=password))
        db.commit()
        return user

    return factory


@pytest.fixture
def make_workspace(db: Session) -> WorkspaceFactory:
    """Create and commit a workspace owned by ``owner``, with extra members by role."""

    def factory(slug: str, owner: User, members: dict[User, Role] | None = None) -> Workspace:
        workspace = accounts.create_workspace(
            db, data=WorkspaceCreate(slug=slug, name=slug.replace("-", " ").title()), owner=owner
        )
        for user, role in (members or {}).items():
            accounts.add_member(db, workspace=workspace, user=user, role=role, actor=None)
        db.commit()
        return workspace

    return factory


def forget_default_words(db: Session, workspace: Workspace) -> None:
    """Make ``workspace`` one created before workspaces got the default sensitive-word list
    at creation: no terms, and no record of a seed."""
    db.execute(delete(SensitiveWord).where(SensitiveWord.workspace_id == workspace.id))
    db.execute(
        delete(AuditEvent).where(
            AuditEvent.workspace_id == workspace.id, AuditEvent.action == SEED_ACTION
        )
    )
    db.commit()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient) -> str:
    """The CSRF token of the client's session, as a page would embed it."""
    page = client.get("/login")
    match = CSRF_RE.search(page.text)
    assert match, "the sign-in page carries a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign the client in through the real form."""
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def signed_in(
    client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> tuple[TestClient, Membership]:
    """A client signed in as the owner of workspace ``acme``."""
    user = make_user("owner@acme.example", name="Owner")
    workspace = make_workspace("acme", owner=user)
    sign_in(client, user.email)
    return client, workspace.memberships[0]
