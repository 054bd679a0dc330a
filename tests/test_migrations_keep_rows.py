"""Upgrading keeps every row: a migration that rebuilds a table on SQLite (a batch: copy,
drop, rename) must not take the rows that refer to it along (ON DELETE CASCADE / SET NULL
act on a dropped table while foreign keys are on)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.types import JSON, Boolean, DateTime, Integer

from guanxi.core import migrate

# The revision before the first batch over a table others refer to (0023: publish_targets,
# 0025: convert_links).
BEFORE = "0022"
# Tables whose rows refer to a table a later migration rebuilds, and the column that refers.
REFERRING = {
    "approvals": "target_id",
    "publish_attempts": "target_id",
    "convert_links": "target_id",
    "convert_clicks": "link_id",
}


def _row(connection: Connection, table: str, **given: Any) -> int:
    """Insert a row into ``table`` with ``given`` values, every other required column filled
    with a plain value of its type; returns its id."""
    values = dict(given)
    for column in inspect(connection).get_columns(table):
        name = column["name"]
        if name == "id" or name in values or column["nullable"] or column.get("default"):
            continue
        kind = column["type"]
        if isinstance(kind, Boolean):
            values[name] = False
        elif isinstance(kind, Integer):
            values[name] = 1
        elif isinstance(kind, DateTime):
            values[name] = datetime(2026, 1, 1)
        elif isinstance(kind, JSON):
            values[name] = "{}"
        else:
            values[name] = f"{table}-{name}"[: getattr(kind, "length", None) or 100]
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)
    found: int = connection.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()
    return found


def test_upgrading_keeps_the_rows_that_refer_to_rebuilt_tables(empty_url: str) -> None:
    """Given a database at 0022 with a post's variant, its approval and publish attempt, and a
    tracked link with a click, when it is upgraded to head, then every row is still there and
    still refers to the same row."""
    migrate.upgrade(empty_url, BEFORE)
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        user = _row(connection, "users", email="a@example.com")
        workspace = _row(connection, "workspaces", slug="acme")
        channel = _row(connection, "channels", workspace_id=workspace)
        post = _row(connection, "posts", workspace_id=workspace, created_by_id=user)
        target = _row(
            connection, "publish_targets", workspace_id=workspace, post_id=post, channel_id=channel
        )
        _row(connection, "approvals", target_id=target)
        _row(connection, "publish_attempts", target_id=target)
        link = _row(connection, "convert_links", workspace_id=workspace, target_id=target)
        _row(connection, "convert_clicks", link_id=link, workspace_id=workspace)
        before = {
            table: connection.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
            for table, column in REFERRING.items()
        }

    migrate.upgrade(empty_url)

    with engine.connect() as connection:
        after = {
            table: connection.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
            for table, column in REFERRING.items()
        }
    engine.dispose()
    assert (
        after
        == before
        == {
            "approvals": [target],
            "publish_attempts": [target],
            "convert_links": [target],
            "convert_clicks": [link],
        }
    )
