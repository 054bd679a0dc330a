"""Migration 0008: chart datasets that already share a name keep their data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from guanxi.core import migrate

POSTGRES_URL = os.environ.get("GUANXI_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"guanxi_races_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_duplicate_dataset_names_are_renamed_not_lost(empty_url: str) -> None:
    """Given two public datasets and two of one workspace named alike (before the unique
    indexes), when the database is upgraded, then all remain, the younger of each pair
    named with its id."""
    migrate.upgrade(empty_url, "0004")
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspaces (id, slug, name, timezone, created_at, updated_at) "
                 "VALUES (1, 'acme', 'Acme', 'Asia/Shanghai', :now, :now)"),
            {"now": "2026-01-01 00:00:00"},
        )  # fmt: skip
        for id_, workspace in [(1, None), (2, None), (3, 1), (4, 1), (5, 1)]:
            name = "Other" if id_ == 5 else "Charts"
            connection.execute(
                text("INSERT INTO market_datasets (id, workspace_id, name, source, "
                     "illustrative, note, created_at) "
                     "VALUES (:id, :ws, :name, 'csv', false, '', :now)"),
                {"id": id_, "ws": workspace, "name": name, "now": "2026-01-01 00:00:00"},
            )  # fmt: skip
    migrate.upgrade(empty_url)
    with engine.connect() as connection:
        names = dict(connection.execute(text("SELECT id, name FROM market_datasets")).all())
    engine.dispose()
    assert names == {1: "Charts", 2: "Charts (2)", 3: "Charts", 4: "Charts (4)", 5: "Other"}
