"""Engine, sessions and the declarative base shared by every capability."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from guanxi.core import querytiming
from guanxi.core.errors import N_, UserError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes in UTC and always returns them aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to a UTC column; pass an aware datetime"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """Creation and update times, in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# How long a SQLite writer waits its turn for the one write lock before "database is locked".
# Writers queue there under load (50 people working without pause kept it busy for more than
# the 5 s default, and those requests failed); a wait is slower but loses nothing.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The execution option a session's engine carries to begin its SQLite transactions with
# BEGIN IMMEDIATE (see ``make_engine``).
SQLITE_BEGIN = "sqlite_begin"


def _sqlite_explicit_begin(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own implicit BEGIN is off: the "begin" event below says how to begin.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE"
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writing(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions like ``factory``'s for work that will write: on SQLite (an engine made with
    ``explicit_begin``) their transactions take the write lock as they begin, waiting their
    turn for it."""
    engine: Engine = factory.kw["bind"]
    sessions = sessionmaker(
        bind=engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}),
        expire_on_commit=factory.kw.get("expire_on_commit", True),
    )
    event.listen(sessions, "after_flush", _note_flushed)
    event.listen(sessions, "after_commit", _forget_flushed)
    event.listen(sessions, "after_rollback", _forget_flushed)
    return sessions


# A session's info key: its transaction holds changes flushed but not yet committed.
FLUSHED = "guanxi_flushed"


def _note_flushed(session: Session, _context: Any) -> None:
    session.info[FLUSHED] = True


def _forget_flushed(session: Session) -> None:
    session.info.pop(FLUSHED, None)


# A session's info key: it serves a request that should only read (GET, HEAD, OPTIONS).
READING = "guanxi_reading"


def reading_from_now(db: Session, reading: sessionmaker[Session]) -> None:
    """A writing session whose changes are saved reads from now on as ``reading``'s do.

    On SQLite a writing session's transactions begin with BEGIN IMMEDIATE, which holds the
    database's one write lock until the transaction ends; a page that reads after saving
    (the top bar's counts, what it shows) would hold it while it renders, and every other
    writer waits. Its reads now begin plain transactions, which never block a writer. With
    changes not yet committed (pending or flushed), or on another database, nothing changes.
    """
    bind = db.get_bind()
    if bind.dialect.name != "sqlite" or db.new or db.dirty or db.deleted or db.info.get(FLUSHED):
        return
    if bind.get_execution_options().get(SQLITE_BEGIN) != "IMMEDIATE":
        return
    db.commit()  # nothing pending: this only ends the transaction and frees the lock
    db.bind = reading.kw["bind"]


def before_first_write(db: Session) -> None:
    """Call before a write that a reading request makes now and then (a row created on its
    first read): on SQLite its reads end first, so the write begins a transaction of its own
    and waits its turn for the lock rather than failing on a stale snapshot. Elsewhere, or
    with changes pending, nothing happens."""
    bind = db.get_bind()
    if not db.info.get(READING) or bind.dialect.name != "sqlite":
        return
    if db.new or db.dirty or db.deleted:
        return
    db.commit()


# A pooled connection's info key: its transaction ran something other than a SELECT.
WROTE = "guanxi_wrote"


def _forget_writes(connection: Connection) -> None:
    connection.info.pop(WROTE, None)


def _note_writes(
    connection: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _many: bool,
) -> None:
    # Anything but a plain SELECT counts (INSERT, UPDATE, WITH, SAVEPOINT, ...): when in
    # doubt, end_read_only leaves the transaction to be rolled back as before.
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


def end_read_only(db: Session) -> None:
    """End ``db``'s transaction with COMMIT when it only read (PostgreSQL), before it closes.

    psycopg forgets every statement it prepared on a connection at each ROLLBACK, and counts
    uses towards preparing anew (after 5) from zero; a request's session ended with a
    rollback, so PostgreSQL parsed and planned each of a page's statements on every request.
    A transaction that ran nothing but SELECTs ends the same either way, so it commits. One
    that wrote anything, or has changes not flushed, or failed, is left to ``close()``'s
    rollback. SQLite: nothing changes.
    """
    if not db.in_transaction() or not db.is_active or db.new or db.dirty or db.deleted:
        return
    if db.get_bind().dialect.name != "postgresql":
        return
    if db.connection().info.get(WROTE):
        return
    db.commit()


# A pooled connection not used for this long is checked with a round trip before a request
# gets it (the server may have restarted or a firewall dropped it); one used more recently
# is not: under load that check was a round trip per checkout, one to three per request.
PING_AFTER_IDLE_S = 10.0
_LAST_USED = "guanxi_last_used"


def _note_used(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_LAST_USED] = time.monotonic()


def _ping_when_idle(engine: Engine) -> Any:
    dialect = engine.dialect

    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is not None and time.monotonic() - last_used < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out another (SQLAlchemy's way).
            raise exc.DisconnectionError(str(error)) from error

    return ping


class NulCharacterError(UserError):
    """A text sent to the database holds a NUL character, which PostgreSQL cannot store."""


def _refuse_nul(
    _connection: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
) -> None:
    """Refuse, on every database alike, a text with NUL before PostgreSQL fails on it: any
    form field, filter or API value, whichever page sent it."""
    pending = [parameters]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, str) and "\x00" in value:
            raise NulCharacterError(
                N_(
                    "A text you sent contains a NUL character (code 0), which guanxi cannot store "
                    "or search for. Remove it (it often comes from copying binary data) and "
                    "send again."
                )
            )


def make_engine(
    url: str, *, connections: int | None = None, explicit_begin: bool = False
) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys and a busy timeout.

    ``connections``: how many threads use the engine at once (a web process's request
    threads); the pool keeps that many connections, so no request waits for one and none
    times out while others finish. Default: SQLAlchemy's pool (5, and 10 more on demand).

    ``explicit_begin`` (SQLite): transactions begin with BEGIN, or BEGIN IMMEDIATE through
    ``writing(engine)``. A transaction that reads and then writes fails at once with
    "database is locked" when another connection wrote in between (its snapshot is stale:
    waiting cannot help), so sessions that will write take the lock first.
    """
    pool: dict[str, int] = {}
    if connections is not None:
        pool = {"pool_size": connections, "max_overflow": max(2, connections // 4)}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        if explicit_begin:
            event.listen(engine, "connect", _sqlite_explicit_begin)
            event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, **pool)
        event.listen(engine, "checkout", _ping_when_idle(engine))
        event.listen(engine, "connect", _note_used)  # just made: no need to check it
        event.listen(engine, "checkin", _note_used)
        event.listen(engine, "begin", _forget_writes)
        event.listen(engine, "after_cursor_execute", _note_writes)
    querytiming.install(engine)  # the Server-Timing header's database time
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views render after saving)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
