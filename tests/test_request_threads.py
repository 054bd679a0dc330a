"""A web process works on at most GUANXI_WEB_THREADS requests at once and keeps as many
database connections, so that under load a request waits for a thread, never for a
connection (a pool timeout was the load benchmark's first error: issue #19)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from guanxi.core.settings import Settings
from guanxi.shell.app import create_app
from guanxi.web.deps import Db


def _settings(tmp_path: Path, threads: int) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'threads.db'}",
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-0123456789",  # type: ignore[arg-type]
        web_threads=threads,
    )


def test_the_pool_holds_a_connection_for_every_request_thread(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, 7))
    engine: Engine = app.state.session_factory.kw["bind"]
    assert engine.pool.size() == 7  # type: ignore[attr-defined]
    with TestClient(app) as client:
        assert client.portal is not None
        tokens = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
    assert tokens == 7


def test_more_requests_than_threads_wait_their_turn_and_all_succeed(tmp_path: Path) -> None:
    """Given 2 request threads and 8 requests at once that each hold a connection for a
    while, at most 2 run together and none fails."""
    app = create_app(_settings(tmp_path, 2))
    running, most = 0, 0
    lock = threading.Lock()
    router = APIRouter()

    @router.get("/hold")
    def hold() -> dict[str, int]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        with app.state.session_factory() as db:
            db.execute(text("SELECT 1"))
            time.sleep(0.05)
        with lock:
            running -= 1
        return {"ok": 1}

    app.include_router(router)
    with TestClient(app) as client:
        answers: list[int] = []

        def call() -> None:
            answers.append(client.get("/hold").status_code)

        callers = [threading.Thread(target=call) for _ in range(8)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    assert answers == [200] * 8
    assert most == 2


def test_requests_holding_a_connection_between_steps_never_starve_the_pool(
    tmp_path: Path,
) -> None:
    """Given 2 request threads (so 4 connections) and 12 requests at once whose dependency
    reads the database in one thread step and whose endpoint works in the next, every
    request succeeds quickly: a request that holds a connection while it waits for a thread
    can no longer fill the pool (before, they waited the pool's 30 s and failed)."""
    app = create_app(_settings(tmp_path, 2))
    router = APIRouter()

    def reads_first(db: Db) -> None:
        db.execute(text("SELECT 1"))  # the session keeps this connection until the end

    @router.get("/two-steps", dependencies=[Depends(reads_first)])
    def two_steps(db: Db) -> dict[str, int]:
        time.sleep(0.02)
        return {"ok": int(db.execute(text("SELECT 1")).scalar_one())}

    app.include_router(router)
    started = time.monotonic()
    with TestClient(app) as client:
        answers: list[int] = []

        def call() -> None:
            answers.append(client.get("/two-steps").status_code)

        callers = [threading.Thread(target=call) for _ in range(12)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    assert answers == [200] * 12
    assert time.monotonic() - started < 20  # far below the pool's 30 s wait
