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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guanxi.core.db import make_engine, make_session_factory, reading_from_now, writing


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


class _Base(DeclarativeBase):
    pass


class _Counter(_Base):
    __tablename__ = "counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int]


def test_a_page_rendered_after_saving_reads_without_the_write_lock(engine: Engine) -> None:
    """Given a writing request that saved its change, when its page reads while rendering
    (the top bar's counts), then another request's write goes through at once instead of
    waiting for the page to finish."""
    reading = make_session_factory(engine)
    errors: list[Exception] = []
    with writing(reading)() as db:
        db.get_one(_Counter, 1).n = 5
        db.commit()
        reading_from_now(db, reading)
        db.execute(text("SELECT n FROM counter")).scalar_one()  # a read while rendering
        other = threading.Thread(target=_add_one_elsewhere, args=(engine, errors))
        other.start()
        other.join(2)
        assert not other.is_alive(), "the other writer waited for the rendering page"
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 6


def test_changes_flushed_but_not_committed_keep_the_lock_and_are_not_saved(
    engine: Engine,
) -> None:
    """A view that flushed a change and did not commit it: rendering commits nothing."""
    reading = make_session_factory(engine)
    with writing(reading)() as db:
        db.get_one(_Counter, 1).n = 7
        db.flush()
        reading_from_now(db, reading)
        db.rollback()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 0
