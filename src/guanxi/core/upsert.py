"""Atomic get-or-create and upsert on SQLite and PostgreSQL.

"Read the row, insert it when missing" loses to a second request doing the same at the
same moment: both find nothing, both insert, and the unique key turns the slower one into
an error page. Here the database decides in one statement (``INSERT ... ON CONFLICT``), so
the slower request quietly finds the row the faster one wrote.

On PostgreSQL (read committed) an insert that meets another transaction's uncommitted row
waits for it, so the read that follows sees the committed row. On SQLite a write
transaction begins at the insert, after the other writer's commit, with the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from guanxi.core.db import Base

Row = TypeVar("Row", bound=Base)
INSERT_CHUNK = 500  # rows per statement: within SQLite's 32,766 bound parameters


def insert_statement(db: Session, entity: type[Base] | Table) -> Any:
    """A Core INSERT into ``entity``'s table that knows ``ON CONFLICT`` on this database.

    Typed ``Any``: the SQLite and PostgreSQL statements share the methods used here
    (``on_conflict_do_nothing``, ``on_conflict_do_update``, ``excluded``) but no type.
    """
    table = entity if isinstance(entity, Table) else cast(Table, entity.__table__)
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_missing(
    db: Session,
    entity: type[Base],
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    unique: Sequence[str],
    unique_where: ColumnElement[bool] | None = None,
) -> list[Any]:
    """Insert ``values`` (one row or several) but those whose ``unique`` columns match a
    stored row (a partial unique index also needs its ``unique_where``); the primary keys
    of the rows inserted (one value, or a tuple for a composite key), in no given order."""
    rows = [values] if isinstance(values, Mapping) else list(values)
    table = cast(Table, entity.__table__)
    primary = list(table.primary_key.columns)
    statement = insert_statement(db, entity).on_conflict_do_nothing(
        index_elements=unique, index_where=unique_where
    )
    # One statement per INSERT_CHUNK rows of the same columns (a multi-row VALUES: a
    # workspace's default words are one round trip, not sixty); RETURNING names the rows
    # written, in no promised order, on both databases.
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(row)), []).append(dict(row))
    keys = [
        tuple(key)
        for same in by_columns.values()
        for start in range(0, len(same), INSERT_CHUNK)
        for key in db.execute(
            statement.values(same[start : start + INSERT_CHUNK]).returning(*primary)
        )
    ]
    return [key[0] for key in keys] if len(primary) == 1 else keys


def create_unique(
    db: Session,
    entity: type[Row],
    values: Mapping[str, Any],
    *,
    unique: Sequence[str],
    unique_where: ColumnElement[bool] | None = None,
) -> Row | None:
    """A new row of ``entity`` with ``values``; None (and nothing written) when a row with
    the same ``unique`` columns exists, committed or being written by someone else."""
    inserted = insert_missing(db, entity, values, unique=unique, unique_where=unique_where)
    if not inserted:
        return None
    return db.get_one(entity, inserted[0], populate_existing=True)


def get_or_create(
    db: Session,
    entity: type[Row],
    *,
    key: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
    unique: Sequence[str] | None = None,
    unique_where: ColumnElement[bool] | None = None,
) -> tuple[Row, bool]:
    """The row of ``entity`` whose columns ``key`` have these values, inserted with
    ``defaults`` when missing; and whether this call inserted it. The columns of ``key``
    are those of a unique constraint, or name one: ``unique`` (with ``unique_where`` for a
    partial unique index)."""
    values = {**(defaults or {}), **key}
    unique = list(key) if unique is None else unique
    created = create_unique(db, entity, values, unique=unique, unique_where=unique_where)
    if created is not None:
        return created, True
    where = [
        getattr(entity, name).is_(None) if value is None else getattr(entity, name) == value
        for name, value in key.items()
    ]
    # populate_existing: the session may hold this row from before; the stored one wins.
    statement = select(entity).where(*where).execution_options(populate_existing=True)
    return db.scalars(statement).one(), False


def upsert(
    db: Session,
    entity: type[Base],
    values: Mapping[str, Any],
    *,
    unique: Sequence[str],
    update: Sequence[str],
    only_if: Callable[[Any], ColumnElement[bool]] | None = None,
) -> None:
    """Insert ``values``, or set the ``update`` columns of the row with the same ``unique``
    columns to ``values``'; only where ``only_if(new)`` holds, when given, ``new`` being
    the proposed row (``EXCLUDED`` in SQL).

    Objects of this row already in the session keep their old values: read it again with
    ``populate_existing``.
    """
    statement = insert_statement(db, entity).values(dict(values))
    statement = statement.on_conflict_do_update(
        index_elements=unique,
        set_={name: statement.excluded[name] for name in update},
        where=only_if(statement.excluded) if only_if is not None else None,
    )
    db.execute(statement)
