"""Capabilities as plugins: each declares itself once and is found through its entry point;
the shell builds the app, the schedule, the command line and the model registry from them."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from guanxi.checks import wordlist
from guanxi.checks.words import default_entries
from guanxi.cli import app as cli_app
from guanxi.core import capability as capability_module
from guanxi.core import migrate
from guanxi.core.capability import Capability, CapabilityLoadError, capabilities, load_reference
from guanxi.core.db import Base
from guanxi.core.schedule import load_schedule
from guanxi.shell import views as shell_views
from guanxi.shell.models import metadata
from tests.conftest import UserFactory, WorkspaceFactory
from tests.test_isolation import http_routes

EXPECTED = {
    "accounts",
    "catalog",
    "channels",
    "checks",
    "convert",
    "inbox",
    "listening",
    "mappings",
    "market",
    "measure",
    "nlp",
    "notifications",
    "planner",
    "publishing",
    "report",
    "retention",
    "team",
}


def test_every_capability_is_found_through_its_entry_point() -> None:
    assert {c.name for c in capabilities()} == EXPECTED


def _paths(router: APIRouter) -> set[tuple[str, frozenset[str]]]:
    """The (path, methods) a router adds to an app."""
    probe = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    probe.include_router(router)
    return {(route.path, frozenset(route.methods)) for route in http_routes(probe)}


def test_every_route_is_declared_by_a_capability_or_the_shell(app: FastAPI) -> None:
    """No route reaches the app except through a capability's declaration (or the shell's
    own pages): the app's routes are exactly the declared ones."""
    declared = _paths(shell_views.router)
    for c in capabilities():
        for reference in (*c.routers, *c.api_routers):
            declared |= _paths(load_reference(reference, APIRouter))
    served = {(route.path, frozenset(route.methods)) for route in http_routes(app)}
    assert served - declared == {("/api/v1/openapi.json", frozenset({"GET", "HEAD"}))}
    assert declared <= served
    assert len(served) > 150


def test_every_table_belongs_to_a_capability_that_declares_its_module() -> None:
    """Every table is a capability's, but core's one: the turns of the workers' schedule."""
    declared = {module.__name__ for c in capabilities() for module in c.models}
    declared.add("guanxi.core.schedule")
    modules = {mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert modules <= declared
    assert set(metadata().tables) == {
        table.name for mapper in Base.registry.mappers for table in mapper.tables
    }


def test_the_schedule_and_the_command_line_come_from_the_capabilities() -> None:
    names = {job.name for job in load_schedule()}
    assert {
        "dispatch",
        "sweep",
        "inbox.sync",
        "market-snapshots",
        "analytics-collect",
        "retention.prune",
    } <= names
    commands = {group.name for group in cli_app.registered_groups}
    assert {"inbox", "listen", "charts", "nlp"} <= commands


def test_a_capability_that_fails_to_load_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given an installed entry point whose module is missing, discovery says which one and
    what to do, instead of a bare ImportError."""
    broken = EntryPoint(
        name="broken", value="guanxi_missing.capability:capability", group="guanxi.capabilities"
    )
    monkeypatch.setattr(capability_module, "entry_points", lambda group: [broken])
    capabilities.cache_clear()
    try:
        with pytest.raises(CapabilityLoadError, match=r"'broken'.*Fix or uninstall"):
            capabilities()
    finally:
        monkeypatch.undo()
        capabilities.cache_clear()
    assert all(isinstance(c, Capability) for c in capabilities())


def test_a_new_workspace_starts_with_the_default_word_list(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    assert wordlist.count_words(db, workspace=workspace) == len(default_entries())
    assert wordlist.ensure_default_words(db, workspace=workspace) is False


def test_workspaces_from_before_get_the_default_list_once(
    empty_url: str,
) -> None:
    """Given a workspace that never had the list and one whose members emptied it, when the
    database is upgraded, then the first has the default list and a seed event, and the
    second stays empty."""
    migrate.upgrade(empty_url, "0009")
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        for id_, slug in [(1, "never"), (2, "emptied")]:
            connection.execute(
                text(
                    "INSERT INTO workspaces (id, slug, name, timezone, created_at, updated_at) "
                    "VALUES (:id, :slug, :slug, 'Asia/Shanghai', :now, :now)"
                ),
                {"id": id_, "slug": slug, "now": "2026-01-01 00:00:00"},
            )
        connection.execute(
            text(
                "INSERT INTO audit_events (workspace_id, actor_label, action, entity_type, "
                "entity_id, created_at) VALUES (2, 'system', 'sensitive_words.seed', "
                "'sensitive_words', '2', :now)"
            ),
            {"now": "2026-01-01 00:00:00"},
        )
    migrate.upgrade(empty_url)
    with engine.connect() as connection:
        counts = dict(
            connection.execute(
                text(
                    "SELECT w.id, COUNT(s.id) FROM workspaces w LEFT JOIN sensitive_words s "
                    "ON s.workspace_id = w.id GROUP BY w.id"
                )
            ).all()
        )
        seeds = connection.scalar(
            text("SELECT COUNT(*) FROM audit_events WHERE action = 'sensitive_words.seed'")
        )
    engine.dispose()
    assert counts == {1: len(default_entries()), 2: 0}
    assert seeds == 2
