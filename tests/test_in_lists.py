"""Conditions on long lists of values (``guanxi.core.in_lists``): 40,000 ids pass on both
databases, as one array parameter on PostgreSQL and in pieces under SQLite's limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, delete, event, func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User
from guanxi.core.in_lists import (
    SQLITE_MAX_PARAMETERS,
    each_among,
    is_postgresql,
    rows_among,
    scalars_among,
)

MANY = 40_000


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements and their parameters ``engine`` runs inside the block."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "after_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", note)


def _users(db: Session, count: int) -> list[int]:
    users = [
        User(email=f"u{n}@acme.example", name=f"U {n}", password_hash="") for n in range(count)
    ]
    db.add_all(users)
    db.flush()
    return [user.id for user in users]


def test_forty_thousand_ids_find_the_rows_among_them(db: Session, engine: Engine) -> None:
    """Given 3 users, when their rows are asked among 40,000 ids (theirs at both ends and in
    the middle), then the three come back; PostgreSQL gets the ids as one parameter, SQLite in
    pieces each under its parameter limit."""
    ids = _users(db, 3)
    others = [n for n in range(1, MANY + 1) if n not in ids]
    wanted = [ids[0], *others[: MANY // 2], ids[1], *others[MANY // 2 : MANY - 3], ids[2]]
    assert len(wanted) == MANY
    with statements_run(engine) as seen:
        found = scalars_among(db, select(User.email), User.id, wanted)
    assert sorted(found) == ["u0@acme.example", "u1@acme.example", "u2@acme.example"]
    if is_postgresql(db):
        assert len(seen) == 1
        assert "ANY" in seen[0][0]
        assert len(seen[0][1]) == 1  # the whole list as one array
    else:
        assert len(seen) == 2  # 40,000 values: two pieces
        assert all(len(parameters) <= SQLITE_MAX_PARAMETERS for _, parameters in seen)


def test_rows_and_deletes_among_many_ids(db: Session) -> None:
    """Given 3 users, when rows are read and then deleted among 40,000 ids naming two of them,
    then the two are read, the two are deleted, and the third stays."""
    first, second, third = _users(db, 3)
    wanted = [first, *range(10**9, 10**9 + MANY - 2), second]
    rows = rows_among(db, select(User.id, User.name), User.id, wanted)
    assert sorted(rows) == [(first, "U 0"), (second, "U 1")]
    for condition in each_among(db, User.id, wanted):
        db.execute(delete(User).where(condition))
    assert list(db.scalars(select(User.id).where(User.id.in_([first, second, third])))) == [third]


def test_no_ids_run_no_statement(db: Session, engine: Engine) -> None:
    """Given no ids, then nothing is asked and nothing is found."""
    with statements_run(engine) as seen:
        assert scalars_among(db, select(func.count(User.id)), User.id, []) == []
    assert seen == []
