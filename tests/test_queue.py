"""The task queue: chosen by GUANXI_QUEUE_URL (SQLite by default, Redis on request), the
publishing jobs wired to the engine, and the CLI commands that run the same functions."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from huey import RedisHuey, SqliteHuey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, WorkspaceCreate
from guanxi.channels.models import Channel
from guanxi.connectors import registry
from guanxi.core.db import make_session_factory, utcnow
from guanxi.core.queue import make_huey
from guanxi.core.settings import ConfigurationError, Settings
from guanxi.publishing import tasks
from guanxi.publishing.models import Post, Variant, VariantState
from tests.cli import run, said, upgraded
from tests.test_engine import FakeConnector, Platform, World
from tests.test_engine import world as world  # noqa: PLC0414 - the same fixture

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_running() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def queue_settings(tmp_path: Path, queue_url: str = "") -> Settings:
    return Settings(data_dir=tmp_path / "data", queue_url=queue_url)


def test_an_empty_queue_url_means_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    huey = make_huey(queue_settings(tmp_path))
    assert isinstance(huey, SqliteHuey)
    huey.enqueue(huey.task()(lambda: None).s())
    assert (tmp_path / "data" / "queue.db").exists()


def test_a_redis_url_means_redis(tmp_path: Path) -> None:
    assert isinstance(make_huey(queue_settings(tmp_path, REDIS_URL)), RedisHuey)


def test_another_queue_url_is_refused_with_what_to_use(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"empty for a SQLite queue.*redis://"):
        make_huey(queue_settings(tmp_path, "amqp://127.0.0.1"))


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_jobs_go_through_the_queue_to_a_running_consumer(tmp_path: Path, backend: str) -> None:
    """Given a consumer with two workers, When jobs are queued, Then each runs once."""
    if backend == "redis" and not redis_running():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    url = REDIS_URL if backend == "redis" else ""
    huey = make_huey(queue_settings(tmp_path, url), name=f"test-{uuid.uuid4().hex[:8]}")
    ran: list[int] = []

    @huey.task()
    def remember(n: int) -> None:
        ran.append(n)

    for n in range(5):
        remember(n)
    consumer = huey.create_consumer(workers=2, periodic=False, initial_delay=0.01, max_delay=0.05)
    consumer.start()
    try:
        deadline = time.monotonic() + 60  # returns as soon as all ran; a loaded machine is slow
        while len(ran) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        consumer.stop(graceful=True)
        huey.flush()
    assert sorted(ran) == [0, 1, 2, 3, 4]


def test_importing_the_jobs_does_not_load_the_engine_or_http(tmp_path: Path) -> None:
    """The worker's import stays light: heavy modules load when a job runs."""
    code = (
        "import sys, guanxi.publishing.tasks; "
        "print(sorted(m for m in ('httpx', 'guanxi.publishing.engine', "
        "'guanxi.connectors.registry') if m in sys.modules))"
    )
    env = {"GUANXI_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_schedule_is_data_and_runs_the_cli_functions() -> None:
    assert {(job.name, job.every_s) for job in tasks.SCHEDULE} == {
        ("dispatch", 5.0),
        ("sweep", 60.0),
    }
    assert {job.run for job in tasks.SCHEDULE} == {tasks.run_dispatch, tasks.run_sweep}


def test_dispatch_and_publish_jobs_publish_a_due_post(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the queue running jobs at once, the scheduled dispatch publishes a due post."""
    platform = Platform()
    channel = world.channel()
    variant = world.variant(channel, at=utcnow() - timedelta(seconds=5))
    monkeypatch.setattr(tasks, "sessions", lambda: world.sessions)
    monkeypatch.setattr(registry, "connector_for", lambda _channel: FakeConnector(platform))
    monkeypatch.setattr("guanxi.publishing.engine.get_settings", lambda: world.settings)
    monkeypatch.setattr(tasks.huey, "immediate", True)

    assert tasks.run_dispatch() == [variant.id]

    assert world.reload(variant).state == VariantState.PUBLISHED
    assert platform.publishes(variant.idempotency_key) == 1


def test_cli_publish_dispatch_and_sweep_run_once(
    cli_database: Engine,
    monkeypatch: pytest.MonkeyPatch,
    make_cli_variant: Callable[[], int],
) -> None:
    upgraded(cli_database)
    variant_id = make_cli_variant()
    queued: list[int] = []
    monkeypatch.setattr(tasks, "variant", queued.append)
    tasks.sessions.cache_clear()
    try:
        result = run("publish", "dispatch")
        assert result.exit_code == 0, result.output
        assert "claimed 1 variant(s)" in said(result)
        assert queued == [variant_id]

        result = run("publish", "sweep")
        assert result.exit_code == 0, result.output
        assert "requeued=0 reconciling=0 late=0 held=0" in said(result)
    finally:
        tasks.sessions.cache_clear()


@pytest.fixture
def make_cli_variant(cli_database: Engine) -> Callable[[], int]:
    """A due variant in the CLI's database."""

    def make() -> int:
        sessions: sessionmaker[Session] = make_session_factory(cli_database)

        with sessions() as db:
            user = accounts.create_user(
                db, data=UserCreate(email="a@b.example", name="A", password="x" * 12)
            )
            workspace = accounts.create_workspace(
                db, data=WorkspaceCreate(slug="cli", name="Cli"), owner=user
            )
            channel = Channel(
                workspace_id=workspace.id,
                connector="weibo",
                platform="weibo",
                external_id="1",
                name="W",
            )
            post = Post(workspace_id=workspace.id, title="T", created_by_id=user.id)
            db.add_all([channel, post])
            db.flush()
            variant = Variant(
                workspace_id=workspace.id,
                post_id=post.id,
                channel_id=channel.id,
                state=VariantState.SCHEDULED,
                scheduled_at=utcnow() - timedelta(seconds=5),
                idempotency_key=uuid.uuid4().hex,
            )
            db.add(variant)
            db.commit()
            return variant.id

    return make


@pytest.mark.parametrize(
    "up_s", [None, 0.0, 1.0], ids=["before-python-starts", "while-loading", "when-up"]
)
def test_a_worker_started_with_exit_with_parent_stops_when_its_parent_is_killed(
    tmp_path: Path, up_s: float | None
) -> None:
    """Given a parent that starts `guanxi worker --exit-with-parent` (as the benchmark does),
    When the parent dies (at once, before the worker's interpreter has started; while the
    worker still loads; or once it is up), Then the worker notices and stops on its own."""
    pidfile = tmp_path / "worker.pid"
    then = "os._exit(0)" if up_s is None else "time.sleep(120)"
    parent_code = (
        "import os, subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-m', 'guanxi', 'worker', '--workers', '1', "
        "'--no-schedule', '--exit-with-parent']); "
        f"open({str(pidfile)!r}, 'w').write(str(p.pid)); {then}"
    )
    env = {
        "GUANXI_DATA_DIR": str(tmp_path),
        "GUANXI_DATABASE_URL": f"sqlite:///{tmp_path / 'guanxi.db'}",
        "PATH": "/usr/bin:/bin",
    }
    parent = subprocess.Popen([sys.executable, "-c", parent_code], env=env)
    try:
        deadline = time.monotonic() + 30
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        worker_pid = int(pidfile.read_text())
        time.sleep(up_s or 0.0)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 20
        while Path(f"/proc/{worker_pid}").exists() and _running(worker_pid):
            assert time.monotonic() < deadline, "the orphaned worker is still running"
            time.sleep(0.2)
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    """A zombie (exited, not yet reaped by init) counts as stopped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
