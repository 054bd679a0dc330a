"""The demo workspace (a Provence wine brand entering China) and the stack behind ``make run``.

Each capability adds its part of the demo workspace through a ``guanxi.demo`` entry point
naming a ``DemoStep``; ``workspace.load_demo`` runs every installed step in ``order``, so a
capability from another package brings its demo the same way, and the product never
imports this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from guanxi.accounts.models import Workspace

ENTRY_POINT_GROUP = "guanxi.demo"


class LoadDemo(Protocol):
    """Add a capability's demo data to ``workspace``; running it again changes nothing."""

    def __call__(self, db: Session, *, workspace: Workspace) -> None: ...


@dataclass(frozen=True)
class DemoStep:
    """One capability's part of the demo workspace."""

    order: int  # smaller runs first: a step may use the data of every step before it
    load: LoadDemo


def demo_steps() -> list[tuple[str, DemoStep]]:
    """Every installed demo step with its entry point's name, in order (ties by name)."""
    steps: list[tuple[str, DemoStep]] = []
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        step = entry_point.load()
        if not isinstance(step, DemoStep):
            msg = f"the {entry_point.name!r} entry point of {ENTRY_POINT_GROUP} is not a DemoStep"
            raise TypeError(msg)
        steps.append((entry_point.name, step))
    return sorted(steps, key=lambda named: (named[1].order, named[0]))
