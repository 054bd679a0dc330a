"""A worker's connection pool holds a connection for every job it runs at once, and the one
each job may open beside its own (a token refresh during an inbox sync)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from guanxi.core import worker
from guanxi.core.settings import get_settings

JOBS = 12  # guanxi worker --workers 12


@pytest.fixture
def worker_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The worker's settings point at the test's database; its pool is built afresh."""
    monkeypatch.setenv("GUANXI_DATABASE_URL", database_url)
    get_settings.cache_clear()
    worker.sessions.cache_clear()
    yield database_url
    bind = worker.sessions().kw["bind"]
    bind.dispose()
    worker.size_pool(worker.DEFAULT_JOBS_AT_ONCE)
    get_settings.cache_clear()


def test_twelve_jobs_each_holding_two_connections_do_not_wait_for_the_pool(
    worker_database: str,
) -> None:
    """Given a worker sized for 12 jobs at once, when 12 jobs each hold a session and then
    open a second one at the same moment and keep both, then every job gets both within a
    second (a pool of SQLAlchemy's default 15 made the last ones wait 30 s and fail)."""
    if not worker_database.startswith("postgresql"):
        pytest.skip("SQLite's pool is per thread; the limit is PostgreSQL's connections")
    worker.size_pool(JOBS)
    factory = worker.sessions()
    factory.kw["bind"].pool._timeout = 1.0
    together = threading.Barrier(JOBS, timeout=20)
    both = threading.Barrier(JOBS, timeout=5)
    failures: list[BaseException] = []

    def job() -> None:
        try:
            with factory() as own:
                own.execute(text("SELECT 1"))
                together.wait()  # every job holds its connection now
                with factory() as beside:
                    beside.execute(text("SELECT 1"))
                    both.wait()  # every job holds both, as during a slow platform call
        except Exception as exc:
            failures.append(exc)

    jobs = [threading.Thread(target=job) for _ in range(JOBS)]
    for thread in jobs:
        thread.start()
    for thread in jobs:
        thread.join()
    assert failures == []
