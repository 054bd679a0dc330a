"""docs/architecture.md stays true to the code: its package table has one row per package
under src/guanxi with the package's real layer, and for a capability the pages and the API
prefix it declares; every file the page names exists.

Each failure says which row to add, fix or remove, and what to write: the row of a new
capability is computed from its declaration (its line of what it holds starts as the first
paragraph of its package's docstring).
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import Path

import pytest
from fastapi import APIRouter

from guanxi.core.capability import ENTRY_POINT_GROUP, Capability, load_reference
from tests.test_layers import LAYER_OF
from tests.test_layers import LAYERS as KEPT_LAYERS
from tests.test_shared_services import guanxi_imports

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "guanxi"
DOC = ROOT / "docs" / "architecture.md"
SECTION = "## Packages"
NONE = "—"  # the pages or API cell of a package that declares none

# The layers of tests/test_layers.py, lowest first, as the doc's "Layers" list names them;
# `locales` (data, no code) belongs with the foundation.
DOC_NAMES = {
    "core": "foundation",
    "accounts": "accounts",
    "the request toolkit": "request toolkit",
    "shared services": "shared service",
    "capabilities": "capability",
    "the shell": "shell",
    "development tools": "development tool",
    "the command line": "command line",
}
LAYERS = tuple(DOC_NAMES[layer.name] for layer in KEPT_LAYERS)
DATA_FOLDERS = {"locales": "foundation"}
# What is not part of the running product: the product never imports them.
OUTSIDE_THE_PRODUCT = ("command line", "development tool")

# A file or folder named in backquotes with its folder, relative to src/guanxi or to the
# repository: `core/queue.py`, `devtools/bench/`, `catalog/platforms/*.toml`.
PATH_RE = re.compile(
    r"`([\w.*-]+(?:/[\w.*-]+)*/(?:[\w.*-]+\.(?:py|md|toml|po|pot|csv|json|js|css|html))?)`"
)
# A relative link of the page, such as [security](security.md#sessions), or another page
# named in the text (docs/publishing-engine.md).
LINK_RE = re.compile(r"\]\(([\w./-]+?)(?:#[\w-]*)?\)|\b(docs/[\w-]+\.md)\b")


@dataclass(frozen=True)
class Row:
    """One row of the package table, as written."""

    package: str
    layer: str
    holds: str
    pages: frozenset[str]
    api: frozenset[str]


def addresses(cell: str) -> frozenset[str]:
    """The addresses of a pages or API cell: "`/a`, `/b`" or the dash for none."""
    return frozenset(re.findall(r"`([^`]+)`", cell))


def doc_rows() -> dict[str, Row]:
    """The package table under "## Packages": its rows by package."""
    text = DOC.read_text(encoding="utf-8")
    assert f"\n{SECTION}\n" in text, f"docs/architecture.md needs its section {SECTION!r}"
    section = text.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, Row] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 5, f"a row of the package table needs 5 cells: {line}"
        package = cells[0].strip("`").rstrip("/")
        assert package not in rows, f"the package table has two rows for `{package}`"
        rows[package] = Row(package, cells[1], cells[2], addresses(cells[3]), addresses(cells[4]))
    return rows


def packages() -> list[str]:
    """Every folder directly under src/guanxi (a Python package or a data folder)."""
    return sorted(
        path.name
        for path in SRC.iterdir()
        if path.is_dir() and not path.name.startswith((".", "__"))
    )


@cache
def pyproject() -> dict[str, object]:
    """The project's pyproject.toml: where entry points and the command are declared."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def registered_capabilities() -> dict[str, str]:
    """The package of each entry point of the capabilities' group, by entry-point name
    (read from pyproject.toml, so that it holds before the project is reinstalled)."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    group = project["entry-points"][ENTRY_POINT_GROUP]
    return {name: value.split(":")[0].split(".")[1] for name, value in group.items()}


def declares_a_capability(package: str) -> bool:
    """Whether the package's capability.py declares a ``capability`` (core's defines what
    one is)."""
    path = SRC / package / "capability.py"
    if not path.is_file():
        return False
    return any(
        isinstance(node, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(target, ast.Name) and target.id == "capability"
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
        for node in ast.parse(path.read_text(encoding="utf-8")).body
    )


def declaration(package: str) -> Capability:
    """The capability a package declares in its capability.py."""
    found = import_module(f"guanxi.{package}.capability").capability
    assert isinstance(found, Capability), f"guanxi.{package}.capability is not a Capability"
    return found


def page_prefixes(capability: Capability) -> frozenset[str]:
    """The first segment of each page address the capability serves (after the workspace's
    ``/w/{slug}`` when it is under one)."""
    prefixes = set()
    for reference in capability.routers:
        for route in load_reference(reference, APIRouter).routes:
            parts = str(getattr(route, "path", "")).split("/")
            prefixes.add("/".join(parts[:4] if parts[1:3] == ["w", "{slug}"] else parts[:2]))
    return frozenset(prefixes)


def api_prefixes(capability: Capability) -> frozenset[str]:
    """The prefix of each of the capability's API router groups."""
    return frozenset(load_reference(r, APIRouter).prefix for r in capability.api_routers)


def cell(values: frozenset[str]) -> str:
    """A pages or API cell as the table writes it."""
    return ", ".join(f"`{value}`" for value in sorted(values)) or NONE


def summary(package: str) -> str:
    """The first paragraph of the package's docstring, or what the row must say."""
    init = SRC / package / "__init__.py"
    docstring = (
        ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) if init.is_file() else None
    )
    if not docstring:
        return "<what it holds, in one line>"
    return " ".join(docstring.split("\n\n")[0].split())


def expected_row(package: str) -> str:
    """The row the code implies for ``package``; its layer when the layers test gives it."""
    layer = kept_layer(package) or f"<one of: {', '.join(LAYERS)}>"
    pages: frozenset[str] = frozenset()
    api: frozenset[str] = frozenset()
    if declares_a_capability(package):
        declared = declaration(package)
        pages, api = page_prefixes(declared), api_prefixes(declared)
    return f"| `{package}` | {layer} | {summary(package)} | {cell(pages)} | {cell(api)} |"


def kept_layer(package: str) -> str | None:
    """The package's layer as tests/test_layers.py keeps it, in the doc's words."""
    if package in DATA_FOLDERS:
        return DATA_FOLDERS[package]
    if package not in LAYER_OF:
        return None
    return DOC_NAMES[KEPT_LAYERS[LAYER_OF[package]].name]


# --- The table and the packages ---------------------------------------------------------------


def test_every_package_has_a_row() -> None:
    """Given a new folder under src/guanxi, the failure gives the row to add."""
    missing = [expected_row(package) for package in packages() if package not in doc_rows()]

    assert missing == [], (
        f"add these rows to the table under {SECTION!r} in docs/architecture.md:\n"
        + "\n".join(missing)
    )


def test_every_row_names_a_package() -> None:
    """A package renamed or removed takes its row with it."""
    extra = sorted(doc_rows().keys() - set(packages()))

    assert extra == [], (
        f"remove the rows of {extra} from docs/architecture.md: src/guanxi has no such package"
    )


def test_every_row_names_a_known_layer() -> None:
    """Each row's layer is one of those the page explains."""
    wrong = [
        f"`{row.package}`: {row.layer!r}" for row in doc_rows().values() if row.layer not in LAYERS
    ]

    assert wrong == [], f"use one of the layers {LAYERS} in the rows of {wrong}"


@pytest.mark.parametrize("package", packages())
def test_a_rows_layer_is_the_one_the_layers_test_keeps(package: str) -> None:
    """The table and tests/test_layers.py place every package in the same layer."""
    row = doc_rows().get(package)
    if row is None:
        return  # reported by test_every_package_has_a_row
    kept = kept_layer(package)
    assert kept is not None, f"give `{package}` its layer in LAYERS of tests/test_layers.py"

    assert row.layer == kept, (
        f"fix the row of `{package}` in docs/architecture.md: tests/test_layers.py keeps it "
        f"in the layer {kept!r}:\n{expected_row(package)}"
    )


@pytest.mark.parametrize("package", packages())
def test_a_package_that_declares_a_capability_is_registered(package: str) -> None:
    """A package whose capability.py declares a capability (a capability, or a shared
    service with pages of its own) is registered in the capabilities' entry point group;
    no entry point names another package; every package of the capability layer declares
    one."""
    registered = set(registered_capabilities().values())
    if declares_a_capability(package):
        assert package in registered, (
            f'register it: add `{package} = "guanxi.{package}.capability:capability"` under '
            f'[project.entry-points."{ENTRY_POINT_GROUP}"] in pyproject.toml'
        )
    else:
        assert package not in registered, (
            f"pyproject.toml registers guanxi.{package} as a capability, but it declares "
            "none: declare `capability = Capability(...)` in its capability.py or remove the "
            "entry point"
        )
        assert kept_layer(package) != "capability", (
            f"`{package}` is in the capability layer: declare it in its capability.py"
        )


@pytest.mark.parametrize("package", packages())
def test_a_row_gives_the_pages_and_api_prefix_its_capability_declares(package: str) -> None:
    """The pages cell lists the first segment of every page address a capability serves,
    the API cell the prefix of its API router groups; other packages have a dash in both."""
    row = doc_rows().get(package)
    if row is None:
        return  # reported by test_every_package_has_a_row
    if declares_a_capability(package):
        declared = declaration(package)
        expected = (page_prefixes(declared), api_prefixes(declared))
    else:
        expected = (frozenset(), frozenset())

    assert (row.pages, row.api) == expected, (
        f"fix the pages and API cells of `{package}` in docs/architecture.md:\n"
        f"| `{package}` | {row.layer} | {row.holds} | {cell(expected[0])} | {cell(expected[1])} |"
    )


def test_capabilities_import_one_another_without_a_circle() -> None:
    """Given the imports between capabilities (sub-packages count as their capability),
    no capability imports one that imports it, directly or through others."""
    capabilities = [row.package for row in doc_rows().values() if row.layer == "capability"]
    imports = {
        package: {
            imported
            for path in (SRC / package).rglob("*.py")
            for imported in guanxi_imports(path)
            if imported in capabilities and imported != package
        }
        for package in capabilities
    }

    def circle_from(start: str, path: list[str]) -> list[str] | None:
        for imported in sorted(imports[path[-1]]):
            if imported == start:
                return [*path, start]
            if imported not in path:
                found = circle_from(start, [*path, imported])
                if found:
                    return found
        return None

    circles = [" → ".join(c) for p in capabilities if (c := circle_from(p, [p])) is not None]

    assert circles == [], (
        f"capabilities import one another in a circle: {circles}; move what both need to "
        "the one the other builds on, or to a shared service"
    )


def test_the_command_line_is_the_package_of_the_guanxi_command() -> None:
    """One row is the command line: the package that holds the ``guanxi`` command."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    command_package = project["scripts"]["guanxi"].split(":")[0].split(".")[1]
    commands = sorted(row.package for row in doc_rows().values() if row.layer == "command line")

    assert commands == [command_package], (
        f"the command line is `{command_package}` (it holds the `guanxi` command): make it "
        "the one row of layer 'command line' in docs/architecture.md"
    )


def test_the_product_never_imports_the_command_line_or_a_development_tool() -> None:
    """Packages of the running product import no development tool; they import the command
    line only from command modules (cli.py), which add commands to it."""
    rows = doc_rows()
    outside = {row.package: row.layer for row in rows.values() if row.layer in OUTSIDE_THE_PRODUCT}
    crossings = []
    for row in rows.values():
        if row.layer in OUTSIDE_THE_PRODUCT:
            continue
        for path in sorted((SRC / row.package).rglob("*.py")):
            for package in guanxi_imports(path) & outside.keys():
                if outside[package] == "command line" and path.name == "cli.py":
                    continue
                crossings.append(
                    f"{path.relative_to(SRC)} imports guanxi.{package} ({outside[package]})"
                )

    assert crossings == [], (
        "the product must not import these; if the package is part of the product, fix its "
        f"row in docs/architecture.md: {crossings}"
    )


# --- Everything else the page names ---------------------------------------------------------


def test_every_file_the_page_names_exists() -> None:
    """A file or folder in backquotes (relative to src/guanxi or the repository) or a
    relative link exists, so a move or a rename shows here."""
    text = DOC.read_text(encoding="utf-8")
    bases = (SRC, ROOT, DOC.parent)
    named = set(PATH_RE.findall(text)) | {a or b for a, b in LINK_RE.findall(text)}
    missing = sorted(name for name in named if not any(any(b.glob(name)) for b in bases))

    assert missing == [], f"docs/architecture.md names what does not exist: {missing}"
