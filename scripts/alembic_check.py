"""Fail when the models and the migrations disagree (``alembic check`` on a fresh SQLite)."""

import sys
import tempfile
from pathlib import Path

from guanxi.core import migrate


def main() -> int:
    """Migrate a throw-away database to head, then compare it with the models."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'check.db'}"
        migrate.upgrade(url)
        migrate.check(url)
    print("alembic check: models and migrations agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
