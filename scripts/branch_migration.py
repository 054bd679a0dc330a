"""Autogenerate one capability's migration on its own branch (development only).

While capabilities are built side by side, each keeps its tables in one revision on a
branch from the last landed revision, so that their migrations do not collide; before
landing they are merged into one linear revision with scripts/regenerate_migration.py.

Usage::

    python scripts/branch_migration.py 0003 listening guanxi.listening.mentions.models "listening"

writes ``0003_listening.py`` (down revision 0002, branch label ``listening``) holding only the
tables defined in that models module; running it again rewrites that file.
"""

import importlib
import shutil
import sys
import tempfile
from pathlib import Path

from alembic import command

from guanxi.core import migrate
from guanxi.shell.models import metadata  # every table, so foreign keys resolve

VERSIONS = migrate.MIGRATIONS_DIR / "versions"
BASE_REVISION = "0002"


def main(rev_id: str, label: str, models_module: str, message: str) -> int:
    """Replace revision ``rev_id`` by a fresh one for the tables of ``models_module``."""
    module = importlib.import_module(models_module)
    tables = {
        table.name
        for table in metadata().sorted_tables
        if any(
            getattr(cls, "__table__", None) is table and cls.__module__ == module.__name__
            for cls in vars(module).values()
            if isinstance(cls, type)
        )
    }
    if not tables:
        print(f"no tables in {models_module}")
        return 1
    existing = list(VERSIONS.glob(f"{rev_id}_*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        for path in existing:
            shutil.move(path, Path(tmp) / path.name)
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        try:
            migrate.upgrade(url)
            config = migrate.alembic_config(url)
            config.attributes["only_tables"] = tables
            command.revision(
                config,
                message=message,
                autogenerate=True,
                rev_id=rev_id,
                head=BASE_REVISION,
                splice=True,
                branch_label=label,
            )
        except BaseException:
            for path in Path(tmp).glob(f"{rev_id}_*.py"):
                shutil.move(path, VERSIONS / path.name)
            raise
    print(f"wrote migration {rev_id} ({label}): {', '.join(sorted(tables))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
