"""guanxi's imports as data: every import statement of every module under a source tree,
resolved to the module it names, and the graph of the top-level packages they connect.

Read with ``ast``, never by importing: at module level and inside functions, ``import x``
and ``from x import y`` (``y`` resolved to the module ``x.y`` when it is one), relative
imports included. ``tests/test_layers.py`` checks the layers on it and
``scripts/archfigures.py`` counts with it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT_PACKAGE = "guanxi"


@dataclass(frozen=True)
class Import:
    """One module imported by one statement of another."""

    path: Path  # the importing file
    line: int
    importer: str  # dotted module name, e.g. "guanxi.web.deps"
    imported: str  # dotted module name, resolved, e.g. "guanxi.accounts.models"
    statement: str  # the statement as written (normalised by ast.unparse)
    in_function: bool  # inside a function body: runs when the function does
    type_only: bool  # under ``if TYPE_CHECKING:``

    @property
    def from_package(self) -> str:
        """The importer's top-level package under guanxi ("web")."""
        return top_package(self.importer)

    @property
    def to_package(self) -> str:
        """The imported module's top-level package under guanxi ("accounts")."""
        return top_package(self.imported)

    def where(self, root: Path) -> str:
        """``file:line`` relative to ``root``."""
        return f"{self.path.relative_to(root)}:{self.line}"


def top_package(module: str) -> str:
    """ "core" for "guanxi.core.db"; "guanxi" for the root module itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path, source_root: Path) -> str:
    """The dotted name of the module in ``path`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(source_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Reader(ast.NodeVisitor):
    """Collects the import statements of one module with where they sit."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, bool, bool]] = []
        self._functions = 0
        self._type_checking = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in_function(node)

    def _in_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._functions += 1
        self.generic_visit(node)
        self._functions -= 1

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._type_checking += 1
        for child in node.body:
            self.visit(child)
        self._type_checking -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self._functions > 0, self._type_checking > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, self._functions > 0, self._type_checking > 0))


def _resolve(
    node: ast.Import | ast.ImportFrom, *, importer: str, is_package: bool, exists: set[str]
) -> list[str]:
    """The modules ``node`` imports: ``from a import b`` is ``a.b`` when that is a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        origin = ".".join([*base, node.module] if node.module else base)
    else:
        origin = node.module or ""
    targets = [f"{origin}.{alias.name}" for alias in node.names]
    named_modules = [target for target in targets if target in exists]
    # The names that are not modules are attributes of ``origin`` (one import of it).
    if len(named_modules) < len(targets):
        named_modules.append(origin)
    return named_modules


def read_imports(source_root: Path, package: str = ROOT_PACKAGE) -> list[Import]:
    """Every import of a ``package`` module by a module of ``package`` under ``source_root``
    (the folder that holds the package, e.g. ``src``)."""
    paths = sorted((source_root / package).rglob("*.py"))
    modules = {module_name(path, source_root): path for path in paths}
    found: list[Import] = []
    for importer, path in modules.items():
        reader = _Reader()
        reader.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for node, in_function, type_only in reader.found:
            targets = _resolve(
                node, importer=importer, is_package=_is_package(path), exists=set(modules)
            )
            found.extend(
                Import(
                    path=path,
                    line=node.lineno,
                    importer=importer,
                    imported=target,
                    statement=ast.unparse(node),
                    in_function=in_function,
                    type_only=type_only,
                )
                for target in targets
                if target == package or target.startswith(package + ".")
            )
    return found


def function_level_imports(source_root: Path, package: str = ROOT_PACKAGE) -> list[str]:
    """``file:line`` of every import statement inside a function body, of any module."""
    found = []
    for path in sorted((source_root / package).rglob("*.py")):
        reader = _Reader()
        reader.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(
            f"{path.relative_to(source_root)}:{node.lineno}"
            for node, in_function, _ in reader.found
            if in_function
        )
    return found


def package_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    """Top-level package → the other top-level packages it imports."""
    graph: dict[str, set[str]] = {}
    for edge in imports:
        graph.setdefault(edge.from_package, set())
        graph.setdefault(edge.to_package, set())
        if edge.from_package != edge.to_package:
            graph[edge.from_package].add(edge.to_package)
    return graph


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """The strongly connected components of ``graph`` (Tarjan), largest first; a
    component of more than one node is a cycle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components, key=lambda c: (-len(c), sorted(c)))


def edges_within(imports: Iterable[Import], packages: set[str]) -> Iterator[Import]:
    """The imports from one of ``packages`` to another of them."""
    for edge in imports:
        if edge.from_package != edge.to_package and {edge.from_package, edge.to_package} <= (
            packages
        ):
            yield edge
