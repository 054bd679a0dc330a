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
def writes_meet(
    engine: Engine, write: str, parties: int, *, serialized_after: float | None = None
) -> Iterator[None]:
    """While inside, each thread's first statement containing ``write`` (such as "INSERT
    INTO tags") waits until ``parties`` threads have reached theirs.

    ``serialized_after``: for code that takes a lock first, so that only one thread can
    get there at a time; after that many seconds the waiting thread goes on alone.
    """
    barrier = threading.Barrier(parties, timeout=serialized_after or WAIT_SECONDS)
    arrived = threading.local()
    needle = write.upper() + " "

    def before_cursor_execute(
        _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if getattr(arrived, "done", False):
            return
        # Anywhere in the statement: on PostgreSQL an INSERT may be a CTE of another.
        if needle in statement.upper():
            arrived.done = True
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                if serialized_after is None:
                    raise

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def race(
    factory: sessionmaker[Session],
    table: str,
    *calls: Callable[[Session], T],
    write: str = "INSERT INTO",
    serialized_after: float | None = None,
) -> list[T]:
    """Run ``calls`` at once, each in its own thread and session (committed after it), with
    their first INSERTs into ``table`` (or other ``write``) held until all have read; their
    results, in order. The first error of any call is raised here."""
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

    meeting = writes_meet(engine, f"{write} {table}", len(calls), serialized_after=serialized_after)
    with meeting:
        threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS * 3)
    if errors:
        raise errors[0]
    return results
