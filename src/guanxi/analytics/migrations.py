"""ClickHouse schema migrations: versioned ``.sql`` files that capabilities ship.

A capability names the packages holding its files (``Capability.analytics_migrations``);
each file is ``NNNN_what.sql``, statements separated by a ``;`` at the end of a line, and
runs once, in version order within its package. What ran is recorded in the
``guanxi_migrations`` table of the analytics database. ``guanxi db upgrade`` runs them when
``GUANXI_ANALYTICS_URL`` is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from guanxi.analytics.client import AnalyticsClient

MIGRATIONS_TABLE = "guanxi_migrations"
FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """A migration file is misnamed, or a statement failed (the error names which)."""


@dataclass(frozen=True)
class Migration:
    """One ``.sql`` file of a package."""

    package: str
    version: str  # the file's four digits
    name: str  # the file's name
    sql: str

    def statements(self) -> list[str]:
        """The file's statements, without comment lines."""
        lines = [line for line in self.sql.splitlines() if not line.lstrip().startswith("--")]
        parts = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
        return [part.strip() for part in parts if part.strip()]


def discover(packages: Iterable[str]) -> list[Migration]:
    """Every migration of ``packages``, by package then version."""
    found: list[Migration] = []
    for package in packages:
        files = sorted(
            (entry for entry in resources.files(package).iterdir() if entry.name.endswith(".sql")),
            key=lambda entry: entry.name,
        )
        versions: set[str] = set()
        for entry in files:
            named = FILE_NAME.match(entry.name)
            if named is None or named.group(1) in versions:
                msg = (
                    f"{package}/{entry.name}: name each migration NNNN_what.sql "
                    "(four digits, unique in its package, lower-case words)."
                )
                raise MigrationError(msg)
            versions.add(named.group(1))
            found.append(
                Migration(package, named.group(1), entry.name, entry.read_text(encoding="utf-8"))
            )
    return found


def applied(client: AnalyticsClient) -> set[tuple[str, str]]:
    """The (package, version) pairs already run on this database."""
    client.command(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (package String, version String, "
        "name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree ORDER BY (package, version)"
    )
    return {
        (str(p), str(v)) for p, v in client.rows(f"SELECT package, version FROM {MIGRATIONS_TABLE}")
    }


def upgrade(client: AnalyticsClient, packages: Iterable[str]) -> list[str]:
    """Run the migrations not run yet; returns their ``package/name``, in order."""
    done = applied(client)
    ran: list[str] = []
    for migration in discover(packages):
        if (migration.package, migration.version) in done:
            continue
        for statement in migration.statements():
            try:
                client.command(statement)
            except Exception as exc:
                msg = f"{migration.package}/{migration.name} failed: {exc}"
                raise MigrationError(msg) from exc
        client.insert(
            MIGRATIONS_TABLE,
            ("package", "version", "name"),
            [(migration.package, migration.version, migration.name)],
            token=f"migration:{migration.package}:{migration.version}",
        )
        ran.append(f"{migration.package}/{migration.name}")
    return ran
