"""What every job of a worker process shares: one session factory and the worker's name.

A worker runs the jobs of every capability; they all take their database sessions from
``sessions()``, so the process holds one engine (one connection pool) on its database.
"""

from __future__ import annotations

import os
import socket
import threading
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.settings import get_settings


@lru_cache(maxsize=1)
def sessions() -> sessionmaker[Session]:
    """The database sessions of this process (one engine, built on first use)."""
    return make_session_factory(make_engine(get_settings().resolved_database_url))


def worker_id() -> str:
    """This process and thread, as written in leases and attempt logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
