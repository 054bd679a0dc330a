"""Alembic environment: the URL comes from the config set by ``guanxi.core.migrate``."""

from alembic import context
from sqlalchemy import Connection

from guanxi.core.capability import capabilities
from guanxi.core.db import Base, make_engine
from guanxi.core.schedule import ScheduleTick  # noqa: F401 - core's own table, on Base.metadata
from guanxi.core.settings import get_settings

capabilities()  # loading the capabilities puts every table on Base.metadata
config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url


# Development only: scripts/branch_migration.py limits autogenerate to one capability's tables.
only_tables: set[str] | None = config.attributes.get("only_tables")


def include_object(
    obj: object,
    name: str | None,
    type_: str,
    reflected: bool,  # noqa: ARG001 - Alembic's hook signature
    compare_to: object,  # noqa: ARG001
) -> bool:
    """Every object, unless a set of tables was given: then only those tables and their parts."""
    if only_tables is None:
        return True
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in only_tables


def run_migrations() -> None:
    """Run migrations online; SQLite needs batch mode to alter tables."""
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration copies a table and drops the old one; with foreign keys on,
            # the drop first deletes every row that refers to the table (ON DELETE CASCADE
            # and SET NULL act). SQLite's procedure for altering a table: keys off during
            # the change (set outside a transaction), then every reference checked.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # ends SQLAlchemy's autobegun transaction: Alembic opens its own
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_references(connection)
    engine.dispose()


def _check_references(connection: Connection) -> None:
    """Fail when a row refers to one that is not there (SQLite, after its keys were off)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({f"{row[0]} -> {row[2]}" for row in broken})
        msg = (
            f"the migration left {len(broken)} rows referring to rows that do not exist "
            f"({', '.join(tables)}); restore the database from its backup and report this"
        )
        raise RuntimeError(msg)


run_migrations()
