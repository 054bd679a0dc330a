"""On SQLite a request that will write takes the write lock as its transaction begins, so a
read followed by a write never fails because another request wrote in between (a deferred
transaction's snapshot is then stale and SQLite answers "database is locked" at once: the
load benchmark's errors on SQLite, issue #19)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from guanxi.core.db import make_engine, make_session_factory, writing


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'writes.db'}", explicit_begin=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    return engine


def _add_one_elsewhere(engine: Engine, errors: list[Exception]) -> None:
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
    except OperationalError as exc:
        errors.append(exc)


def test_a_deferred_read_then_write_fails_when_another_wrote_meanwhile(engine: Engine) -> None:
    """The failure the writing sessions avoid, shown on a plain session."""
    sessions = make_session_factory(engine)
    with sessions() as db:
        db.execute(text("SELECT n FROM counter")).scalar_one()
        _add_one_elsewhere(engine, [])
        with pytest.raises(OperationalError, match="locked"):
            db.execute(text("UPDATE counter SET n = n + 10 WHERE id = 1"))


def test_a_writing_session_reads_then_writes_and_the_other_writer_waits(engine: Engine) -> None:
    sessions = writing(make_session_factory(engine))
    errors: list[Exception] = []
    with sessions() as db:
        seen = db.execute(text("SELECT n FROM counter")).scalar_one()
        other = threading.Thread(target=_add_one_elsewhere, args=(engine, errors))
        other.start()
        other.join(0.2)  # it waits for the lock this session holds
        assert other.is_alive()
        db.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": seen + 10})
        db.commit()
    other.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 11
