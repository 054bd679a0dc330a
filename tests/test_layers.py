"""The layers, kept by a test: every import of every module (read with ``ast``, at module
level and inside functions) goes down the layers or sideways along an edge listed here
with its reason, and no two packages import each other, however indirectly.

Lowest first: core; accounts (who is asking: users, workspaces, memberships, permissions,
which every request needs); the request toolkit (web); the shared services several
capabilities use; the capabilities; the shell, which builds the web app from them; the
development tools (benchmarks, demo data, the platform sandbox), which the product never
imports; and on top the command line, which runs them all.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.layers_support import (
    ROOT_PACKAGE,
    Import,
    edges_within,
    package_graph,
    read_imports,
    strongly_connected,
)

SOURCE_ROOT = Path(__file__).resolve().parents[1] / "src"


@dataclass(frozen=True)
class Layer:
    """Packages at one height: each may import the layers below it, not those above."""

    name: str
    packages: frozenset[str]


LAYERS: tuple[Layer, ...] = (
    # The root module (guanxi/__init__.py: the version) is plumbing like core.
    Layer("core", frozenset({"core", ROOT_PACKAGE})),
    Layer("accounts", frozenset({"accounts"})),
    Layer("the request toolkit", frozenset({"web"})),
    Layer(
        "shared services",
        frozenset(
            {
                "analytics",  # the ClickHouse client and its schema migrations
                "approvals",  # the approval rules every approval path asks
                "catalog",  # the platforms' reference data
                "channels",  # connected accounts and the push entry
                "checks",  # Chinese-first checks of any text about to be sent
                "connectors",  # the one way to talk to a platform
                "mappings",  # the remembered column mappings of imported files
                "estimates",  # a campaign's effect: difference-in-differences, placebo intervals
                "nlp",  # the enrichment pipeline
                "notifications",  # in-app notifications for every capability
                "outbound",  # the guarded client for user-given addresses
                "retention",  # how long each workspace keeps raw analytics rows, and the deletions
            }
        ),
    ),
    Layer(
        "capabilities",
        frozenset(
            {
                "convert",
                "inbox",
                "listening",
                "market",
                "measure",
                "planner",
                "publishing",
                "report",
                "team",
            }
        ),
    ),
    Layer("the shell", frozenset({"shell"})),
    Layer("development tools", frozenset({"devtools", "sandbox"})),
    Layer("the command line", frozenset({"cli", "__main__"})),
)

# Development tools: only the command line, the tools themselves and the tests import them.
TOOLS = LAYERS[-2].packages
TOOL_USERS = TOOLS | LAYERS[-1].packages

# Edges between two packages of the same layer (services or capabilities), with why. A
# new one fails: move what both need into a shared package instead, or list it here.
ALLOWED_SIDEWAYS: dict[tuple[str, str], str] = {
    ("channels", "catalog"): "the connect page names each platform as the catalog does",
    ("channels", "connectors"): "connecting an account goes through its platform's connector",
    ("connectors", "catalog"): "the manual connector posts to any platform the catalog lists",
    ("checks", "channels"): "checks depend on the channel's audience (mainland, Hong Kong...)",
    ("checks", "connectors"): "each platform's rules (lengths, hashtag style) are its connector's",
    ("notifications", "outbound"): "team-chat robots are addresses users type: they are "
    "reached through the guarded client only",
    ("nlp", "checks"): "the pipeline normalises Traditional text with the checks' OpenCC script",
    ("measure", "publishing"): "analytics measures the posts guanxi published: it reads their "
    "variants and a campaign's posts (publishing's models only, in measure/flows.py "
    "and measure/analysis/flows.py)",
    ("convert", "publishing"): "a tracked link is made for one of publishing's campaigns or "
    "posts: their models are read in convert/flows.py only",
    ("convert", "measure"): "a campaign's funnel starts at the views analytics measured for "
    "its posts: measure's MeasuredPost and store (account days) are read in convert/flows.py "
    "only",
    ("measure", "listening"): "the analytics benchmark sets the brand's accounts beside the "
    "competitors listening tracks: one service function (competitor_activity), read in "
    "measure/analysis/flows.py",
}

LAYER_OF: dict[str, int] = {
    package: height for height, layer in enumerate(LAYERS) for package in layer.packages
}
# The layers whose packages may import one another only along ALLOWED_SIDEWAYS.
SIDEWAYS_CHECKED = frozenset({"shared services", "capabilities"})
MIGRATIONS = f"{ROOT_PACKAGE}.core.migrations"


@dataclass(frozen=True)
class Crossing:
    """An import that breaks a rule, said so that the reader knows what to do."""

    edge: Import
    kind: str  # unknown, migration, tool, up or sideways
    rule: str
    instead: str

    def message(self, root: Path) -> str:
        """File, line, the import, the rule and what to do instead."""
        return (
            f"{self.edge.where(root)}: `{self.edge.statement}`\n"
            f"    rule: {self.rule}\n    instead: {self.instead}"
        )


def _layer_name(package: str) -> str:
    return LAYERS[LAYER_OF[package]].name


def crossings(imports: list[Import]) -> list[Crossing]:
    """Every import that breaks one of the layer rules (an unknown package is one too)."""
    found = []
    for edge in imports:
        source, target = edge.from_package, edge.to_package
        unknown = [package for package in (source, target) if package not in LAYER_OF]
        if unknown:
            found.append(
                Crossing(
                    edge,
                    "unknown",
                    f"the package {unknown[0]} is in no layer",
                    "add it to LAYERS in tests/test_layers.py (and docs/architecture.md)",
                )
            )
        elif edge.importer.startswith(MIGRATIONS):
            if target != "core":
                found.append(
                    Crossing(
                        edge,
                        "migration",
                        "a migration imports nothing above core: it must not change when "
                        "the application's code changes",
                        "copy the data or the table definition it needs into the migration",
                    )
                )
        elif source == target:
            continue
        elif target in TOOLS and source not in TOOL_USERS:
            found.append(
                Crossing(
                    edge,
                    "tool",
                    f"the product ({source}) imports the development tool {target}",
                    "only the command line, devtools and the tests may use it; move what "
                    "the product needs out of the tool into the product",
                )
            )
        elif LAYER_OF[target] > LAYER_OF[source]:
            found.append(
                Crossing(
                    edge,
                    "up",
                    f"{source} ({_layer_name(source)}) imports {target}, which is in a higher "
                    f"layer ({_layer_name(target)})",
                    "move what it needs down into a lower package, or let the higher one "
                    "register itself (a hook, as web.rendering.register_context does, or an "
                    "entry point)",
                )
            )
        elif (
            LAYER_OF[target] == LAYER_OF[source]
            and _layer_name(source) in SIDEWAYS_CHECKED
            and (source, target) not in ALLOWED_SIDEWAYS
        ):
            found.append(
                Crossing(
                    edge,
                    "sideways",
                    f"{source} imports {target}, another of the {_layer_name(source)}, "
                    "and that edge is not in ALLOWED_SIDEWAYS",
                    "take what both need from a shared package (notifications, web.forms, "
                    "core.worker's sessions...), or, if the edge is right, list it in "
                    "ALLOWED_SIDEWAYS with its reason",
                )
            )
    return found


def cycles(imports: list[Import], root: Path) -> list[str]:
    """One message per group of packages that import each other, with the imports in it
    that go sideways or up (a loop has at least one: going down alone cannot return)."""
    messages = []
    for component in strongly_connected(package_graph(imports)):
        if len(component) < 2:
            continue
        closing = {
            f"    {edge.where(root)}: `{edge.statement}` ({edge.from_package} → {edge.to_package})"
            for edge in edges_within(imports, component)
            if LAYER_OF.get(edge.to_package, 0) >= LAYER_OF.get(edge.from_package, 0)
        }
        messages.append(
            f"the packages {', '.join(sorted(component))} import each other; the imports "
            "that close the loop are among:\n"
            + "\n".join(sorted(closing))
            + "\n    instead: the lower package must not import the higher; move the part "
            "both need down"
        )
    return messages


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    """Every guanxi import in src/guanxi."""
    return read_imports(SOURCE_ROOT)


def test_every_import_goes_down_the_layers_or_along_an_allowed_edge(
    imports: list[Import],
) -> None:
    """Given every import of the product, then none goes up a layer, none reaches a
    development tool, no migration imports application code, and every edge between two
    services or two capabilities is listed with its reason."""
    found = crossings(imports)

    assert not found, "\n".join(crossing.message(SOURCE_ROOT) for crossing in found)


def test_no_two_packages_import_each_other(imports: list[Import]) -> None:
    """No cycle between packages, however long (strongly connected components)."""
    found = cycles(imports, SOURCE_ROOT)

    assert not found, "\n".join(found)


def test_every_allowed_edge_is_still_used(imports: list[Import]) -> None:
    """An edge that went away leaves the list, so the list stays the truth."""
    used = {(edge.from_package, edge.to_package) for edge in imports}

    assert set(ALLOWED_SIDEWAYS) - used == set()


def test_every_package_is_in_a_layer() -> None:
    """A new package is given its place before anything can import it."""
    packages = {
        path.parent.name
        for path in (SOURCE_ROOT / ROOT_PACKAGE).glob("*/__init__.py")
        if path.parent.name != "locales"
    }

    assert packages - set(LAYER_OF) == set()


# The checker itself: a made-up source tree with one crossing of each rule must be caught,
# so that the tests above cannot pass for want of looking.
SYNTHETIC = {
    "core/__init__.py": "",
    "core/registry.py": "from guanxi.publishing import models\n",
    "core/migrations/__init__.py": "",
    "core/migrations/versions/0099_words.py": "from guanxi.checks.words import default_entries\n",
    "web/__init__.py": "",
    "web/deps.py": "def current():\n    from ..inbox import views\n    return views\n",
    "checks/__init__.py": "",
    "checks/service.py": "from guanxi.publishing.engine import publish\n",
    "publishing/__init__.py": "",
    "publishing/models.py": "",
    "publishing/engine.py": "from guanxi.devtools.demo import workspace\n",
    "inbox/__init__.py": "",
    "inbox/views.py": "from guanxi.market.service import charts\n",
    "market/__init__.py": "",
    "market/service.py": "import guanxi.inbox.views\n",
    "market/alerts.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
    "    from guanxi import sandbox\n",
    "devtools/__init__.py": "",
    "devtools/demo/__init__.py": "",
    "devtools/demo/workspace.py": "from guanxi.inbox import views\n",
    "sandbox/__init__.py": "",
    "mystery/__init__.py": "from guanxi.core import registry\n",
}


def test_the_checker_catches_a_crossing_of_every_rule(tmp_path: Path) -> None:
    """Given a source tree that breaks each rule once, then each break is reported at its
    file and line, naming the rule."""
    for name, text in SYNTHETIC.items():
        path = tmp_path / ROOT_PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    imports = read_imports(tmp_path)

    found = {(c.edge.where(tmp_path), c.kind) for c in crossings(imports)}
    loops = cycles(imports, tmp_path)

    assert found == {
        ("guanxi/core/registry.py:1", "up"),  # core imports a capability
        ("guanxi/core/migrations/versions/0099_words.py:1", "migration"),  # application code
        ("guanxi/web/deps.py:2", "up"),  # inside a function, relative: still up
        ("guanxi/checks/service.py:1", "up"),  # a service calls up into a capability
        ("guanxi/publishing/engine.py:1", "tool"),  # the product imports a development tool
        ("guanxi/market/alerts.py:3", "tool"),  # ... even for types only
        ("guanxi/inbox/views.py:1", "sideways"),  # a capability into another's internals
        ("guanxi/market/service.py:1", "sideways"),  # ... and back
        ("guanxi/mystery/__init__.py:1", "unknown"),  # a package in no layer
    }
    assert len(loops) == 1
    assert loops[0].startswith("the packages inbox, market import each other")
