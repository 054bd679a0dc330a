"""What a capability declares about itself, once, and how the installed ones are found.

A capability (publishing, inbox, listening...) is a package that exposes one `Capability`
object and names it in the ``guanxi.capabilities`` entry point group of its distribution;
the shell (`guanxi.shell`) builds the web app, the front page, the worker's schedule and the
command line from them. Adding a capability is one package plus one entry-point line.

Its pages and jobs are named as ``module:attribute`` references, as entry points are, and
imported only by the process that serves them: loading them builds the task queue and the
page modules, which the command line and the migrations do not need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, TypeVar

from guanxi.core.report import SectionOffer
from guanxi.core.retention import RetentionKind

if TYPE_CHECKING:
    import typer
    from sqlalchemy.orm import Session


ENTRY_POINT_GROUP = "guanxi.capabilities"
T = TypeVar("T")

# Run in the transaction that creates a workspace: (db, workspace_id).
WorkspaceHook = Callable[["Session", int], None]


class GlanceLoader(Protocol):
    """The figures of a front-page card, as its template shows them."""

    def __call__(self, db: Session, *, workspace_id: int, now: datetime) -> object: ...


@dataclass(frozen=True)
class Glance:
    """A capability's card on the workspace's front page."""

    title: str  # marked with N_, translated when shown
    description: str
    action: str  # the card's button
    # Where the card leads: absolute ("/catalog"), or under the workspace ("plan").
    href: str
    position: int  # cards are shown by increasing position
    template: str | None = None  # the card's figures, rendered with ``figures``
    load: GlanceLoader | None = None
    primary: bool = False  # the button is the page's main call to action


@dataclass(frozen=True)
class Headline:
    """Figures a capability puts at the top of the workspace's front page, above the cards
    (the first screen's answer to "how are we doing")."""

    template: str  # rendered with ``figures``
    load: GlanceLoader
    position: int = 100  # headlines are shown by increasing position


@dataclass(frozen=True)
class Capability:
    """Everything the shell needs to know about one capability."""

    name: str
    # Where its routes and scheduled jobs come among the capabilities' (lower first): the
    # worker's first round starts with the publishing dispatch.
    position: int = 100
    # HTML pages (and their HTMX fragments): APIRouter references, included in this order.
    routers: tuple[str, ...] = ()
    # The JSON API: APIRouter references, each with its /api/v1 prefix and authentication.
    api_routers: tuple[str, ...] = ()
    # The worker's periodic jobs: a reference to a tuple of ScheduledJob.
    schedule: str | None = None
    glance: Glance | None = None
    headline: Headline | None = None
    # Adds the capability's commands to the ``guanxi`` command.
    cli: Callable[[typer.Typer], None] | None = None
    # The modules that define its tables (for Alembic and the model registry).
    models: tuple[ModuleType, ...] = ()
    on_workspace_created: tuple[WorkspaceHook, ...] = ()
    # Functions called with the web app once it is built (template context and filters,
    # handlers of the platforms' pushes): references, like the routers.
    on_app_created: tuple[str, ...] = ()
    # Its part of the global search: references to ``core.search.SearchSource`` functions.
    search: tuple[str, ...] = ()
    # The sections it adds to reports (``core.report``), in the order a new report lists them.
    report_sections: tuple[SectionOffer, ...] = ()
    # Packages of its ClickHouse migrations (``NNNN_what.sql`` files), run by
    # ``guanxi db upgrade`` when an analytics store is configured (``guanxi.analytics``).
    analytics_migrations: tuple[str, ...] = ()
    # What ``guanxi analytics migrate --to clickhouse`` copies from the SQL database to
    # ClickHouse: references to classes of ``guanxi.analytics.copy.AnalyticsCopy`` (one
    # instance per run), copied in this order.
    analytics_copies: tuple[str, ...] = ()
    # The kinds of raw rows a workspace may keep for a limited period (``core.retention``).
    retention: tuple[RetentionKind, ...] = ()


class CapabilityLoadError(RuntimeError):
    """An installed capability could not be loaded (a broken package or entry point)."""


@cache
def capabilities() -> tuple[Capability, ...]:
    """The installed capabilities by position, then name; loaded once per process."""
    found: list[Capability] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            loaded = entry.load()
        except Exception as exc:
            msg = (
                f"the capability {entry.name!r} ({entry.value}) failed to load: {exc}. "
                "Fix or uninstall the package that provides it."
            )
            raise CapabilityLoadError(msg) from exc
        if not isinstance(loaded, Capability):
            msg = f"the entry point {entry.name!r} ({entry.value}) is not a Capability"
            raise CapabilityLoadError(msg)
        found.append(loaded)
    return tuple(sorted(found, key=lambda c: c.position))


def load_reference(reference: str, kind: type[T]) -> T:
    """The ``kind`` object a capability names as ``module:attribute``."""
    module, _, attribute = reference.partition(":")
    try:
        found = getattr(import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        msg = f"{reference} cannot be loaded: {exc}"
        raise CapabilityLoadError(msg) from exc
    if not isinstance(found, kind):
        msg = f"{reference} is not a {kind.__name__}"
        raise CapabilityLoadError(msg)
    return found


def workspace_created(db: Session, *, workspace_id: int) -> None:
    """Let every capability set up a workspace just created (in the same transaction)."""
    for capability in capabilities():
        for hook in capability.on_workspace_created:
            hook(db, workspace_id)
