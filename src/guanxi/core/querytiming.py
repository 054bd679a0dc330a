"""How long the database took for the work at hand (a web request), query by query.

``make_engine`` hooks every engine's cursor events here. While ``QueryTimes`` are tracked
in the current context (``track``), each query adds to their count and total time; nothing
happens otherwise. Only when asked (``by_statement``) are the statements kept too, for the
slow-request log: otherwise a query costs a counter and a float.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from sqlalchemy import Engine, event

# How much of a statement the slow-request log shows.
STATEMENT_PREVIEW = 200


@dataclass(slots=True)
class StatementTimes:
    """One statement's share of a request: how often it ran and how long in all."""

    count: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class QueryTimes:
    """The queries of one request: how many, how long, and per statement when asked."""

    count: int = 0
    seconds: float = 0.0
    started: float = 0.0
    by_statement: dict[str, StatementTimes] | None = None

    def slowest(self, limit: int = 5) -> list[tuple[str, StatementTimes]]:
        """The ``limit`` statements that took longest in all, their text shortened."""
        ranked = sorted(
            (self.by_statement or {}).items(), key=lambda pair: pair[1].seconds, reverse=True
        )
        return [(_preview(statement), times) for statement, times in ranked[:limit]]


_current: ContextVar[QueryTimes | None] = ContextVar("guanxi_query_times", default=None)


def track(times: QueryTimes) -> Token[QueryTimes | None]:
    """Count this context's queries (and those of threads it starts work in) in ``times``."""
    return _current.set(times)


def untrack(token: Token[QueryTimes | None]) -> None:
    """Stop counting (the token ``track`` returned)."""
    _current.reset(token)


def _preview(statement: str) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= STATEMENT_PREVIEW else flat[: STATEMENT_PREVIEW - 1] + "…"


def _before_cursor_execute(*_args: Any, **_kwargs: Any) -> None:
    times = _current.get()
    if times is not None:
        times.started = perf_counter()


def _after_cursor_execute(
    _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    times = _current.get()
    if times is None:
        return
    elapsed = perf_counter() - times.started
    times.count += 1
    times.seconds += elapsed
    if times.by_statement is not None:
        entry = times.by_statement.get(statement)
        if entry is None:
            entry = times.by_statement[statement] = StatementTimes()
        entry.count += 1
        entry.seconds += elapsed


def install(engine: Engine) -> None:
    """Time ``engine``'s queries for whoever tracks them."""
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(engine, "after_cursor_execute", _after_cursor_execute)
