"""One name for a post's version for one account: "variant" (#12). The old names may stand
only in the migrations up to the rename (0027), which must keep doing what they did."""

from __future__ import annotations

import re
from pathlib import Path

import guanxi

OLD_NAMES = re.compile(r"PublishTarget|TargetState|publish_targets?\b")
# The migrations up to 0027 (which renames it) name the table as it was.
BEFORE_RENAME = re.compile(r"migrations/versions/00(0\d|1\d|2[0-7])_")


def test_no_code_or_template_uses_the_old_name() -> None:
    """Given the package's modules and templates, then none speaks of publish targets."""
    root = Path(guanxi.__file__).parent
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*"))
        if path.suffix in {".py", ".html", ".js"}
        and not BEFORE_RENAME.search(path.as_posix())
        and "vendor" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OLD_NAMES.search(line)
    ]
    assert found == []
