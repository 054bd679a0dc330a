"""One ClickHouse client per process, on clickhouse-connect, with plain SQL.

``chdb:///dir`` is embedded ClickHouse through clickhouse-connect's chDB interface (one
engine per process, so the process shares one client and takes turns on it); any other
address is a ClickHouse server over HTTP(S).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# A database name as guanxi creates it: letters, digits and underscores.
DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DEFAULT_DATABASE = "guanxi"
# Inserts name a deduplication token: ClickHouse drops a block already stored under it, in
# the table and (with this setting) in the materialized views it feeds.
DEDUPLICATED_INSERT = {"deduplicate_blocks_in_dependent_materialized_views": 1}
RETRIES = 2  # a failed insert is sent again, under the same token, this many times


class AnalyticsConfigError(ValueError):
    """The analytics address cannot be used as given."""


@dataclass(frozen=True)
class Target:
    """Where a ``GUANXI_ANALYTICS_URL`` points."""

    embedded: bool
    dsn: str  # what clickhouse-connect is given (without the database for a server)
    database: str


def parse_url(url: str, *, database: str | None = None) -> Target:
    """The target of ``url``: ``chdb:///dir[?database=name]`` or
    ``clickhouse[s]://user:password@host:port/database``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        named = dict(pair.partition("=")[::2] for pair in parts.query.split("&") if pair)
        name = database or named.get("database") or DEFAULT_DATABASE
        if not parts.path or parts.path == "/":
            msg = "Give embedded ClickHouse a directory: chdb:///var/lib/guanxi/analytics."
            raise AnalyticsConfigError(msg)
        return Target(True, f"chdb://{parts.path}", _checked(name))
    if scheme in ("clickhouse", "clickhouses"):
        name = database or parts.path.strip("/") or DEFAULT_DATABASE
        http = "https" if scheme == "clickhouses" else "http"
        return Target(False, f"{http}://{parts.netloc}", _checked(name))
    msg = f"{url!r} is neither clickhouse://host:8123/database nor chdb:///directory."
    raise AnalyticsConfigError(msg)


def _checked(name: str) -> str:
    if not DATABASE_NAME.match(name):
        msg = f"{name!r} is not a database name: use letters, digits and underscores."
        raise AnalyticsConfigError(msg)
    return name


@dataclass
class AnalyticsClient:
    """Plain SQL on one ClickHouse database; parameters are bound by the server
    (``{name:Type}`` placeholders), never pasted into the text."""

    raw: Any  # clickhouse_connect's client
    database: str
    embedded: bool
    # The embedded engine takes one statement at a time from a process; a server's client
    # sends concurrent queries on pooled connections (no session), so it needs no turns.
    _turn: AbstractContextManager[Any] = field(default_factory=nullcontext)

    def __post_init__(self) -> None:
        if self.embedded:
            self._turn = threading.Lock()

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        """Run a statement that returns nothing worth reading (DDL, ALTER, DELETE)."""
        with self._turn:
            self.raw.command(sql, parameters=parameters or {})

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows a SELECT returns."""
        with self._turn:
            return list(self.raw.query(sql, parameters=parameters or {}).result_rows)

    def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, token: str
    ) -> None:
        """Insert one block, deduplicated by ``token``: sending it again (a retry after a
        lost answer, a re-sent batch) stores it once."""
        if not rows:
            return
        settings = {**DEDUPLICATED_INSERT, "insert_deduplication_token": token}
        for attempt in range(RETRIES + 1):
            try:
                with self._turn:
                    self.raw.insert(table, rows, column_names=list(columns), settings=settings)
            except OSError:
                if attempt == RETRIES:
                    raise
            else:
                return

    def close(self) -> None:
        """Release the connection (the embedded engine stays loaded in the process)."""
        with self._turn:
            self.raw.close()


def connect(url: str, *, database: str | None = None) -> AnalyticsClient:
    """A client on ``url``'s database, created if missing."""
    target = parse_url(url, database=database)
    # Loaded only here: a SQL-only instance never imports clickhouse-connect or chdb.
    import clickhouse_connect  # noqa: PLC0415

    if target.embedded:
        raw = clickhouse_connect.get_client(dsn=target.dsn)
    else:
        raw = clickhouse_connect.get_client(dsn=target.dsn, autogenerate_session_id=False)
    raw.command(f"CREATE DATABASE IF NOT EXISTS {target.database}")
    raw.database = target.database
    if target.embedded:
        raw.command(f"USE {target.database}")
    return AnalyticsClient(raw, target.database, target.embedded)


_shared: dict[str, AnalyticsClient] = {}
_shared_lock = threading.Lock()


def shared_client(url: str) -> AnalyticsClient:
    """The process's client for ``url`` (made on first use)."""
    with _shared_lock:
        client = _shared.get(url)
        if client is None:
            client = _shared[url] = connect(url)
        return client
