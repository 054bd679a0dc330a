"""Print the figures of guanxi's structure, to compare before and after a change:
imports inside functions, cycles between packages, core and web importing a higher layer,
layer crossings, and modules past 600 lines (where STYLE.md says to split by concept).

Read from the source with ``ast`` (tests/layers_support.py), nothing is imported; the
layers are those of tests/test_layers.py. Usage: ``.venv/bin/python scripts/archfigures.py``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.layers_support import (  # noqa: E402 - after the repository is on the path
    function_level_imports,
    package_graph,
    read_imports,
    strongly_connected,
)
from tests.test_layers import LAYER_OF, crossings  # noqa: E402

SOURCE_ROOT = ROOT / "src"
LONG_MODULE_LINES = 600


def main() -> int:
    """Print one figure a line, ``name: value``, then the long modules."""
    imports = read_imports(SOURCE_ROOT)
    in_functions = function_level_imports(SOURCE_ROOT)
    guanxi_in_functions = {edge.where(SOURCE_ROOT) for edge in imports if edge.in_function}
    loops = [c for c in strongly_connected(package_graph(imports)) if len(c) > 1]
    upward = [
        edge
        for edge in imports
        if edge.from_package in {"core", "web"}
        and LAYER_OF.get(edge.to_package, len(LAYER_OF)) > LAYER_OF[edge.from_package]
    ]
    long_modules = sorted(
        (lines, str(path.relative_to(SOURCE_ROOT)))
        for path in (SOURCE_ROOT / "guanxi").rglob("*.py")
        # A landed migration is never rewritten, whatever its length.
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > LONG_MODULE_LINES
    )
    print(f"function-level imports: {len(in_functions)}")
    print(f"function-level imports of guanxi modules: {len(guanxi_in_functions)}")
    print(f"package cycles (strongly connected components > 1): {len(loops)}")
    print(f"largest strongly connected component: {max((len(c) for c in loops), default=1)}")
    print(f"core/web imports of a higher layer: {len(upward)}")
    print(f"layer crossings (tests/test_layers.py): {len(crossings(imports))}")
    print(f"modules over {LONG_MODULE_LINES} lines (migrations aside): {len(long_modules)}")
    for lines, name in long_modules:
        print(f"  {lines:5} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
