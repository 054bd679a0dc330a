"""Writing a page of rows in one statement, where ingest writes thousands a second.

On PostgreSQL an executemany runs one statement per row on the server, a multi-row VALUES
list has a parameter per cell (psycopg parses such a statement anew each time), and array
parameters are converted element by element in Python. So the page travels as ONE JSON
parameter that ``json_to_recordset`` turns back into rows: one statement, one round trip.
SQLite runs in the process, where an executemany is a loop in C; what costs there is
SQLAlchemy building each row's parameters, so the driver gets plain tuples.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnDefault,
    Integer,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.expression import Executable
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

from guanxi.core.in_lists import SQLITE_MAX_PARAMETERS, is_postgresql

ID = "id"
Entity = TypeVar("Entity")


def plan_for_pages(db: Session) -> None:
    """On PostgreSQL, plan this transaction's statements as lookups by key, afresh each time.

    They join a page (a few hundred rows) to big tables by key, for which a nested loop of
    index lookups is the right plan; but the planner guesses 100 rows for the page and
    knows the tables from their last statistics, while ingest fills them from empty at
    thousands of rows a second, so it chose hash joins over whole-table scans. And psycopg
    prepares a statement run five times, after which PostgreSQL may keep one generic
    plan made for the table sizes of that moment. (LOCAL: until the transaction ends.)
    """
    if is_postgresql(db):
        settings = {
            "plan_cache_mode": "force_custom_plan",
            "enable_hashjoin": "off",
            "enable_mergejoin": "off",
        }
        db.execute(
            select(*(func.set_config(name, value, True) for name, value in settings.items()))
        )


def json_rows(
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    *,
    name: str,
    types: Mapping[str, TypeEngine[Any]] | None = None,
) -> TableValuedAlias:
    """``rows`` (their columns ``names`` of ``table``, or of ``types``) as a derived table
    ``name`` read from one JSON parameter by ``json_to_recordset`` (PostgreSQL)."""
    types = types or {}
    document = json.dumps(
        [{column: row[column] for column in names} for row in rows],
        default=_json_value,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    columns = [column(key, types[key] if key in types else table.c[key].type) for key in names]
    parameter = cast(bindparam(f"{name}_rows", document, type_=Text()), postgresql.JSON)
    return (
        func.json_to_recordset(parameter)
        .table_valued(*columns)
        .render_derived(name=name, with_types=True)
    )


def _json_value(value: object) -> str:
    """A time in the JSON document: ISO 8601 in UTC, as ``UTCDateTime`` stores it."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            msg = "naive datetime given to a UTC column; pass an aware datetime"
            raise ValueError(msg)
        return value.astimezone(UTC).isoformat()
    msg = f"cannot write {type(value).__name__} in a bulk row"
    raise TypeError(msg)


def with_defaults(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` completed with the Python-side column defaults (status, priority, ...), which
    an INSERT ... SELECT does not apply; the rows must all name the same columns."""
    defaults: dict[str, Any] = {}
    for table_column in table.c:
        default = table_column.default
        if table_column.name not in rows[0] and isinstance(default, ColumnDefault):
            defaults[table_column.name] = _default_value(default)
    return [{**defaults, **row} for row in rows] if defaults else [dict(row) for row in rows]


def _default_value(default: ColumnDefault) -> Any:
    return default.arg(None) if default.is_callable else default.arg


def insert_from_json(
    table: Table, rows: Sequence[Mapping[str, Any]], *, entity: type[Any] | None = None
) -> postgresql.Insert:
    """One INSERT of ``rows`` into ``table`` from one JSON parameter (PostgreSQL);
    into the mapped class ``entity`` of the table when given, so that a RETURNING of it
    gives ORM objects."""
    complete = with_defaults(table, rows)
    names = list(complete[0])
    # Named after the table: two of these can be one statement (one as a CTE of the other).
    source = json_rows(table, complete, names, name=f"new_{table.name}")
    return postgresql.insert(entity or table).from_select(names, select(*source.c))


def update_by_id(db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Give each row of ``table`` whose ``id`` a row of ``rows`` names the other columns of
    that row (every row names the same columns): one statement on PostgreSQL."""
    if not rows:
        return
    columns = [column for column in rows[0] if column != ID]
    if is_postgresql(db):
        # The id travels as "row_id": a derived column named like the table's would be
        # ambiguous in the WHERE clause.
        source = json_rows(
            table,
            [{"row_id": row[ID], **row} for row in rows],
            ["row_id", *columns],
            name="changed",
            types={"row_id": Integer()},
        )
        db.execute(
            update(table)
            .where(table.c[ID] == source.c.row_id)
            .values({column: source.c[column] for column in columns})
        )
        return
    # What SQLAlchemy would add to the UPDATE: the columns with an ``onupdate`` (updated_at).
    stamps = {
        table_column.name: _default_value(table_column.onupdate)
        for table_column in table.c
        if table_column.name not in rows[0] and isinstance(table_column.onupdate, ColumnDefault)
    }
    sql = _sqlite_statement(db.connection().dialect, table, "update", (*columns, *stamps))
    _executemany(db, sql, [{"row_id": row[ID], **row, **stamps} for row in rows])


@dataclass(frozen=True)
class _PlainStatement:
    """A statement compiled for SQLite: its text, and per parameter its name and the
    conversion its column type makes (None: the value goes as it is)."""

    text: str
    names: tuple[str, ...]
    converters: tuple[Callable[[Any], Any] | None, ...]


@lru_cache(maxsize=256)
def _sqlite_statement(
    dialect: Dialect, table: Table, verb: str, columns: tuple[str, ...]
) -> _PlainStatement:
    """The INSERT of ``columns``, or the UPDATE of them by ``row_id``, compiled once."""
    values = {column: bindparam(column, type_=table.c[column].type) for column in columns}
    statement: Executable
    if verb == "update":
        row_id = bindparam("row_id", type_=table.c[ID].type)
        statement = update(table).where(table.c[ID] == row_id).values(values)
    else:
        statement = insert(table).values(values)
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    converters = tuple(compiled.binds[name].type.bind_processor(dialect) for name in names)
    return _PlainStatement(compiled.string, names, converters)


def _executemany(db: Session, sql: _PlainStatement, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run ``sql`` once per row of ``rows`` on SQLite, handing the driver plain tuples.

    SQLAlchemy's own executemany builds each row's parameters through the compiled
    statement, which cost more than SQLite's work; here only the values that need it
    (times, JSON) go through their column type's conversion.
    """
    pairs = tuple(zip(sql.names, sql.converters, strict=True))
    plain = [
        tuple(row[name] if convert is None else convert(row[name]) for name, convert in pairs)
        for row in rows
    ]
    return int(db.connection().exec_driver_sql(sql.text, plain).rowcount)


def insert_rows(db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all naming the same columns) into ``table``: one statement."""
    if not rows:
        return
    if is_postgresql(db):
        db.execute(insert_from_json(table, rows))
        return
    complete = with_defaults(table, rows)
    sql = _sqlite_statement(db.connection().dialect, table, "insert", tuple(complete[0]))
    _executemany(db, sql, complete)


def insert_rows_missing(
    db: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    unique: Sequence[str],
    cte: Any = None,
) -> int:
    """``insert_rows``, but those whose ``unique`` columns match a stored row (or one another
    transaction is writing) are left out; how many were inserted. On PostgreSQL ``cte``
    (an INSERT of ``insert_from_json(...).cte(...)``) runs in the same statement."""
    if not rows:
        return 0
    if is_postgresql(db):
        statement = insert_from_json(table, rows).on_conflict_do_nothing(index_elements=unique)
        if cte is not None:
            statement = statement.add_cte(cte)
        return int(db.execute(statement).rowcount)  # type: ignore[attr-defined]
    complete = with_defaults(table, rows)
    sql = _sqlite_statement(db.connection().dialect, table, "insert", tuple(complete[0]))
    conflict = f" ON CONFLICT ({', '.join(unique)}) DO NOTHING"
    return _executemany(
        db, _PlainStatement(sql.text + conflict, sql.names, sql.converters), complete
    )


def insert_with_ids(db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table``; their new ids, in the order of ``rows``.

    SQLAlchemy gets ordered ids from SQLite one INSERT per row, from PostgreSQL through
    big statements psycopg parses anew; instead the ids are known before the insert.
    """
    if not rows:
        return []
    if is_postgresql(db):
        ids = next_ids(db, table, len(rows))
        insert_rows(db, table, [{**row, ID: id_} for row, id_ in zip(rows, ids, strict=True)])
        return ids
    # The first row's insert takes SQLite's write lock until the commit, so nobody else
    # inserts meanwhile and the next ids are the following numbers (the ones SQLite would
    # give: the largest id plus one, as there is no AUTOINCREMENT).
    first = db.scalars(insert(table).values(rows[0]).returning(table.c[ID])).one()
    ids = list(range(first, first + len(rows)))
    rest = [{**row, ID: id_} for row, id_ in zip(rows[1:], ids[1:], strict=True)]
    insert_rows(db, table, rest)
    return ids


def insert_new(
    db: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, unique: Sequence[str]
) -> dict[tuple[Any, ...], int]:
    """Insert ``rows`` (complete: see ``with_defaults``) but those whose ``unique`` columns
    match a stored row (insert-or-ignore); the new ids by those columns' values.

    Only the ids come back, not the rows: the caller has the values (``as_stored``).
    """
    if not rows:
        return {}
    returning = [table.c[ID], *(table.c[column] for column in unique)]
    if is_postgresql(db):
        statement = insert_from_json(table, rows).on_conflict_do_nothing(index_elements=unique)
        found = [tuple(row) for row in db.execute(statement.returning(*returning))]
    else:
        found = []
        names = list(rows[0])
        size = max(1, SQLITE_MAX_PARAMETERS // len(names))
        for start in range(0, len(rows), size):
            found.extend(_sqlite_insert_new(db, table, names, rows[start : start + size], unique))
    return {tuple(row[1:]): row[0] for row in found}


def _sqlite_insert_new(
    db: Session,
    table: Table,
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    unique: Sequence[str],
) -> list[tuple[Any, ...]]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING on SQLite, its parameters
    converted here as in ``_executemany`` (SQLAlchemy's own way cost more than SQLite)."""
    connection = db.connection()
    dialect = connection.dialect
    one = _sqlite_statement(dialect, table, "insert", tuple(names))
    values = one.text[one.text.index(" VALUES ") + len(" VALUES ") :]
    conflict = ", ".join(unique)
    returning = ", ".join([ID, *unique])
    sql = (
        one.text[: one.text.index(" VALUES ")]
        + " VALUES "
        + ", ".join([values] * len(rows))
        + f" ON CONFLICT ({conflict}) DO NOTHING RETURNING {returning}"
    )
    pairs = tuple(zip(one.names, one.converters, strict=True))
    flat = [
        row[name] if convert is None else convert(row[name])
        for row in rows
        for name, convert in pairs
    ]
    return [tuple(row) for row in connection.exec_driver_sql(sql, tuple(flat))]


def as_stored(db: Session, entity: type[Entity], values: Mapping[str, Any]) -> Entity:
    """The ORM object of a row just inserted with ``values`` (every column, the id too),
    as if it had been read back: reading hundreds of rows back (or a RETURNING of every
    column) cost more than writing them, times and JSON being converted in Python."""
    # As the ORM's loader does: the values go straight into the instance's state, with
    # no change events (the constructor's were most of the cost).
    stored: Entity = inspect(entity).class_manager.new_instance()
    stored.__dict__.update(values)
    make_transient_to_detached(stored)
    db.add(stored)
    return stored


def next_ids(db: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh ids from the sequence of ``table``'s id column, ascending
    (PostgreSQL): rows inserted with them are known without a RETURNING to match up."""
    sequence = func.pg_get_serial_sequence(table.name, ID)
    series = func.generate_series(1, count).table_valued("n")
    return sorted(db.scalars(select(func.nextval(sequence)).select_from(series)))
