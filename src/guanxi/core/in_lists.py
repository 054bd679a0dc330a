"""``column IN (values)`` for lists of any length, on both databases.

PostgreSQL gets the list as ONE array parameter, ``column = ANY(:values)``: with one
parameter per value psycopg parses the statement anew each time, and a statement stops at
65,535 parameters. SQLite has no arrays and takes at most 32,766 parameters a statement
(since version 3.32, which guanxi needs), so there a long list is cut into pieces, one
statement each. Code that may hold thousands of values asks ``each_among`` for its
conditions and runs its statement once per condition (or ``scalars_among``/``rows_among``
for a SELECT); ``among`` is the single condition for a list known to be short (a page).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, Select, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row
from sqlalchemy.orm import QueryableAttribute, Session

# SQLite allows 32,766 parameters in a statement: this leaves room for the statement's others.
SQLITE_MAX_PARAMETERS = 32_000

Value = TypeVar("Value")
First = TypeVar("First")
Columns = TypeVarTuple("Columns")
# A table's column, or a mapped class's attribute (``Person.id``).
AnyColumn = ColumnElement[Any] | QueryableAttribute[Any]


def is_postgresql(db: Session) -> bool:
    """Whether ``db`` talks to PostgreSQL (else SQLite)."""
    return db.get_bind().dialect.name == "postgresql"


def among(db: Session, column: AnyColumn, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` as one condition; on PostgreSQL ``= ANY(array)``: one parameter,
    not one each. On SQLite ``values`` must stay short: use ``each_among`` when it may not."""
    expression = column.expression
    if is_postgresql(db):
        array = postgresql.ARRAY(expression.type, dimensions=1)
        return expression == any_(bindparam(None, list(values), type_=array))
    return expression.in_(values)


def pieces(db: Session, values: Iterable[Value]) -> Iterator[list[Value]]:
    """``values`` (duplicates dropped, order kept) in as few pieces as the database takes in
    one statement: one on PostgreSQL, ``SQLITE_MAX_PARAMETERS`` each on SQLite; none when empty."""
    unique = list(dict.fromkeys(values))
    size = len(unique) if is_postgresql(db) else SQLITE_MAX_PARAMETERS
    for start in range(0, len(unique), max(size, 1)):
        yield unique[start : start + size]


def each_among(
    db: Session, column: AnyColumn, values: Iterable[Any]
) -> Iterator[ColumnElement[bool]]:
    """Conditions that together say ``column IN values``, however many the values: run the
    statement once with each (no condition at all for no values)."""
    for piece in pieces(db, values):
        yield among(db, column, piece)


def scalars_among(
    db: Session, statement: Select[First, *Columns], column: AnyColumn, values: Iterable[Any]
) -> list[First]:
    """The first column of ``statement``'s rows whose ``column`` is among ``values``. An
    ORDER BY or LIMIT holds within each piece only."""
    found: list[First] = []
    for condition in each_among(db, column, values):
        found.extend(db.scalars(statement.where(condition)))
    return found


def rows_among(
    db: Session, statement: Select[*Columns], column: AnyColumn, values: Iterable[Any]
) -> list[Row[*Columns]]:
    """``statement``'s rows whose ``column`` is among ``values`` (as ``scalars_among``)."""
    found: list[Row[*Columns]] = []
    for condition in each_among(db, column, values):
        found.extend(db.execute(statement.where(condition)))
    return found
