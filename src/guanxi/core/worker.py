"""What every job of a worker process shares: one session factory and the worker's name.

A worker runs the jobs of every capability; they all take their database sessions from
``sessions()``, so the process holds one engine (one connection pool) on its database,
sized for the jobs it runs at once (``size_pool``, from ``guanxi worker --workers``).
"""

from __future__ import annotations

import os
import socket
import threading
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.settings import get_settings

DEFAULT_JOBS_AT_ONCE = 4  # guanxi worker --workers
# A job may hold two connections at once: its own session and a second one beside it (an
# inbox sync keeps its session while the channel's token is refreshed in another; a publish
# renews its lease from a heartbeat thread while it writes its attempt).
CONNECTIONS_PER_JOB = 2
OTHER_CONNECTIONS = 3  # the schedule's thread, the dispatch it queues from, a spare
_pool = {"jobs": DEFAULT_JOBS_AT_ONCE}


def size_pool(jobs_at_once: int) -> None:
    """Size this process's connection pool for ``jobs_at_once`` jobs running together; call
    it before the first ``sessions()`` (the worker command does, from ``--workers``)."""
    _pool["jobs"] = jobs_at_once
    sessions.cache_clear()


def pool_connections() -> int:
    """How many connections the pool keeps for the jobs this process runs at once."""
    return CONNECTIONS_PER_JOB * _pool["jobs"] + OTHER_CONNECTIONS


@lru_cache(maxsize=1)
def sessions() -> sessionmaker[Session]:
    """The database sessions of this process (one engine, built on first use)."""
    url = get_settings().resolved_database_url
    return make_session_factory(make_engine(url, connections=pool_connections()))


def worker_id() -> str:
    """This process and thread, as written in leases and attempt logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
