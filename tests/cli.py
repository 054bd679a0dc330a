"""Helpers for testing the ``guanxi`` command line: a clean environment and a runner."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from guanxi.cli import app
from guanxi.core import migrate
from guanxi.core.db import make_engine
from guanxi.core.settings import get_settings

PREFIX = "GUANXI" + "_"  # split so the settings-documentation test does not see a name


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    """The commands' environment points at an empty SQLite file; yields an engine on it."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv(PREFIX + "DATABASE_URL", url)
    monkeypatch.setenv(PREFIX + "DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


@cache
def migrated_sqlite_file() -> Path:
    """A SQLite file migrated to head, once per test process; tests copy it."""
    folder = Path(tempfile.mkdtemp(prefix="guanxi-test-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def upgraded(engine: Engine) -> Engine:
    """``engine``'s SQLite file (not opened yet) as ``guanxi db upgrade`` leaves it: a copy
    of the migrated template. The command itself is tested on an empty file
    (tests/test_cli_accounts.py); elsewhere it only cost each test a migration."""
    assert engine.url.database, "a SQLite file"
    shutil.copy(migrated_sqlite_file(), engine.url.database)
    return engine


def run(*args: str, stdin: str | None = None) -> Result:
    """Run ``guanxi`` with ``args`` (and ``stdin`` as what is typed); an unexpected exception
    fails the test."""
    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def said(result: Result) -> str:
    """What the command printed (stdout and stderr), with Rich's line wrapping undone."""
    return " ".join(result.output.split())
