"""The shared services stand on their own: the request toolkit, the worker's sessions, the
notifications and the checks import no capability they do not need, and capabilities add
to every page through the rendering hook."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from guanxi.core import worker
from guanxi.inbox import scheduled as inbox_jobs
from guanxi.listening.alerts import scheduled as alert_jobs
from guanxi.listening.intake import scheduled as listening_jobs
from guanxi.market import scheduled as market_jobs
from guanxi.measure import scheduled as measure_jobs
from guanxi.publishing import tasks
from guanxi.web.rendering import register_context
from tests.conftest import UserFactory, WorkspaceFactory, sign_in

SRC = Path(__file__).resolve().parents[1] / "src" / "guanxi"

# Module (or package) → the guanxi packages it may import.
ALLOWED: dict[str, set[str]] = {
    "core/worker.py": {"core"},
    "web/rendering.py": {"core", "web", "accounts"},
    "web/deps.py": {"core", "web", "accounts"},
    "web/forms.py": {"core", "web"},
    "web/zones.py": {"core", "web"},
    # Team-chat robots are addresses users type: reached through the guarded client only.
    "notifications": {"core", "web", "accounts", "notifications", "outbound"},
    "checks": {"core", "web", "accounts", "channels", "connectors", "checks"},
}


def guanxi_imports(path: Path) -> set[str]:
    """The top-level guanxi packages ``path`` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "guanxi" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_a_shared_service_imports_no_capability_it_does_not_need(module: str) -> None:
    """Given a shared module, when its imports are read, then each is one it may use."""
    target = SRC / module
    paths = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    crossings = {
        f"{path.relative_to(SRC)} imports guanxi.{package}"
        for path in paths
        for package in guanxi_imports(path) - ALLOWED[module]
    }

    assert sorted(crossings) == []


def test_every_job_of_a_worker_shares_one_session_factory() -> None:
    """The capabilities' jobs take their sessions from the same per-process factory."""
    modules = (tasks, inbox_jobs, listening_jobs, alert_jobs, market_jobs, measure_jobs)

    assert all(module.sessions is worker.sessions for module in modules)


def test_a_registered_context_function_adds_to_every_page(
    app: FastAPI, client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given a function registered after the notifications' own, when a signed-in page
    renders, then what it adds is in the page (here, the bell's count)."""
    seen: list[str] = []

    def unread_count(request: Request, base: Mapping[str, Any]) -> dict[str, Any]:
        seen.append(request.url.path)
        return {"unread_notifications": 7} if base["nav_workspace"] is not None else {}

    register_context(app, unread_count)
    owner = make_user("owner@acme.example")
    make_workspace("acme", owner=owner)
    sign_in(client, owner.email)

    page = client.get("/w/acme/notifications")

    assert page.status_code == 200
    assert "Notifications (7)" in page.text
    assert "/w/acme/notifications" in seen
