"""What a request's database session costs in round trips: a transaction that only read
ends with COMMIT (PostgreSQL keeps its prepared statements), one that wrote is still rolled
back, and a pooled connection is checked only after it sat idle."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import User
from guanxi.core import db as core_db
from guanxi.core.db import end_read_only, make_engine, make_session_factory
from tests.conftest import POSTGRES_URL

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="needs GUANXI_TEST_DATABASE_URL (PostgreSQL)"
)


def _users(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return int(db.scalar(select(func.count(User.id))) or 0)


def test_a_transaction_that_wrote_is_rolled_back_not_committed(
    session_factory: sessionmaker[Session],
) -> None:
    """Given sessions that wrote without committing (a Core insert, an ORM object flushed,
    an object added and not flushed), when the request ends, then nothing of it is saved."""
    before = _users(session_factory)
    with session_factory() as db:
        db.execute(insert(User).values(email="core@example.com", name="Core", password_hash="x"))
        end_read_only(db)
    with session_factory() as db:
        db.add(User(email="flushed@example.com", name="Flushed", password_hash="x"))
        db.flush()
        db.scalar(select(func.count(User.id)))  # a read after the write
        end_read_only(db)
    with session_factory() as db:
        db.scalar(select(func.count(User.id)))
        db.add(User(email="pending@example.com", name="Pending", password_hash="x"))
        end_read_only(db)
    assert _users(session_factory) == before


@needs_postgres
def test_reads_keep_postgresqls_prepared_statements_across_requests(
    postgres_database: str,
) -> None:
    """Given one pooled connection, when the same read runs in six requests that each end
    with ``end_read_only``, then psycopg has prepared it on the server (a ROLLBACK after
    each request made it forget the statement and its count every time)."""
    engine = make_engine(postgres_database, connections=1)
    factory = make_session_factory(engine)
    try:
        for _ in range(6):
            with factory() as db:
                db.scalar(select(func.count(User.id)).where(User.email != "nobody"))
                end_read_only(db)
        with factory() as db:
            prepared = db.scalar(
                text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%users%'")
            )
        assert prepared == 1
    finally:
        engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


@needs_postgres
def test_a_busy_connection_is_not_pinged_and_an_idle_dead_one_is_replaced(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a pooled connection, when it is checked out again at once, then no ping goes
    out; when it sat idle past ``PING_AFTER_IDLE_S`` and its server process was ended
    meanwhile, then the next checkout gets a new working connection, no error."""
    engine = make_engine(postgres_database, connections=1)
    pings: list[Any] = []
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    try:
        first = _backend_pid(engine)
        assert _backend_pid(engine) == first
        assert pings == []  # new, then busy: never pinged

        monkeypatch.setattr(core_db, "PING_AFTER_IDLE_S", 0.0)
        admin_engine = make_engine(postgres_database)
        try:
            with admin_engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        finally:
            admin_engine.dispose()  # its pooled connection closed now, not by the collector
        second = _backend_pid(engine)
        assert second != first
        assert pings[0].closed  # the ended one was pinged, failed and was dropped
    finally:
        engine.dispose()
