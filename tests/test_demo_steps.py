"""The demo workspace is built from each capability's ``guanxi.demo`` entry point, in order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.devtools import demo
from guanxi.devtools.demo import DemoStep, demo_steps
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE, load_demo


@dataclass(frozen=True)
class FakeEntryPoint:
    """What ``demo_steps`` reads of an installed entry point."""

    name: str
    value: object

    def load(self) -> object:
        return self.value


def installed(monkeypatch: pytest.MonkeyPatch, objects: dict[str, object]) -> None:
    """Make ``objects`` the only ``guanxi.demo`` entry points."""

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        assert group == demo.ENTRY_POINT_GROUP
        return [FakeEntryPoint(name, value) for name, value in objects.items()]

    monkeypatch.setattr(demo, "entry_points", entry_points)


def test_the_installed_steps_run_planner_listening_inbox_market_analytics_then_convert() -> None:
    """The plan comes first, the charts after the inbox, the accounts' analytics history and
    the orders (which use the campaigns), then the reports on all of them."""
    assert [name for name, _step in demo_steps()] == [
        "planner",
        "listening",
        "inbox",
        "market",
        "analytics",
        "convert",
        "report",
    ]


def test_a_plugins_step_runs_in_its_order_on_the_demo_workspace(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a third-party step declared between two others (in any order),
    when the demo loads, then it runs in its place, on the demo workspace."""
    ran: list[str] = []

    def step(order: int, label: str) -> DemoStep:
        def load(db: Session, *, workspace: Workspace) -> None:
            del db
            ran.append(f"{label} on {workspace.slug}")

        return DemoStep(order=order, load=load)

    declared = {"last": step(99, "last"), "plugin": step(50, "plugin"), "first": step(1, "first")}
    installed(monkeypatch, declared)

    load_demo(db)

    slug = DEMO_WORKSPACE.slug
    assert ran == [f"first on {slug}", f"plugin on {slug}", f"last on {slug}"]


def test_an_entry_point_that_is_not_a_demo_step_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed(monkeypatch, {"odd": print})
    with pytest.raises(TypeError, match="'odd'"):
        demo_steps()
