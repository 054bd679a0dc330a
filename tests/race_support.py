"""Two requests at the same moment, made deterministic: each runs in its own thread and
session, and each one's first INSERT into a chosen table waits until the other has reached
its own. So both have read before either writes: the interleaving that loses a request to a
read-then-insert race, every time rather than when the timing is unlucky."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
WAIT_SECONDS = 10


@contextmanager
def inserts_meet(engine: Engine, table: str, parties: int) -> Iterator[None]:
    """While inside, the first INSERT into ``table`` of each thread waits for ``parties``."""
    barrier = threading.Barrier(parties, timeout=WAIT_SECONDS)
    arrived = threading.local()

    def before_cursor_execute(
        _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if getattr(arrived, "done", False):
            return
        # Anywhere in the statement: on PostgreSQL an INSERT may be a CTE of another.
        if f"INSERT INTO {table.upper()} " in statement.upper():
            arrived.done = True
            barrier.wait()

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def race(factory: sessionmaker[Session], table: str, *calls: Callable[[Session], T]) -> list[T]:
    """Run ``calls`` at once, each in its own thread and session (committed after it), with
    their first INSERTs into ``table`` held until all have read; their results, in order.
    The first error of any call is raised here."""
    engine = factory.kw["bind"]
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[Session], T]) -> None:
        try:
            with factory() as session:
                results[index] = call(session)
                session.commit()
        except BaseException as error:  # handed to the test below
            errors.append(error)

    with inserts_meet(engine, table, len(calls)):
        threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS * 3)
    if errors:
        raise errors[0]
    return results
