"""Upgrading keeps every row: a migration that rebuilds a table on SQLite (a batch: copy,
drop, rename) must not take the rows that refer to it along (ON DELETE CASCADE / SET NULL
act on a dropped table while foreign keys are on)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from alembic import command
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.types import JSON, Boolean, DateTime, Integer

from guanxi.core import migrate

# The revision before the first batch over a table others refer to (0023: publish_targets,
# 0025: convert_links).
BEFORE = "0022"
# Tables whose rows refer to a table a later migration rebuilds, and the column that refers
# (before 0027 named the variants' table and the columns pointing at it, and after).
REFERRING = {
    "approvals": ("target_id", "variant_id"),
    "publish_attempts": ("target_id", "variant_id"),
    "convert_links": ("target_id", "variant_id"),
    "convert_clicks": ("link_id", "link_id"),
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
            table: connection.execute(text(f"SELECT {old} FROM {table}")).scalars().all()
            for table, (old, _new) in REFERRING.items()
        }

    migrate.upgrade(empty_url)

    with engine.connect() as connection:
        after = {
            table: connection.execute(text(f"SELECT {new} FROM {table}")).scalars().all()
            for table, (_old, new) in REFERRING.items()
        }
        variants = connection.execute(text("SELECT id FROM variants")).scalars().all()
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
    assert variants == [target]


def _stored(connection: Connection) -> tuple[list[tuple[str, str]], list[Any]]:
    events = connection.execute(text("SELECT action, entity_type FROM audit_events ORDER BY id"))
    params = connection.execute(text("SELECT params FROM notifications ORDER BY id")).scalars()
    return [tuple(row) for row in events], [
        json.loads(value) if isinstance(value, str) else value for value in params
    ]


def test_the_variants_rename_carries_what_was_stored_under_the_old_name(empty_url: str) -> None:
    """Given audit events and a notification written before 0027 (``target.scheduled``,
    ``publish_target.reschedule``, the entity type ``publish_target``, the parameter
    ``target_id``), when upgraded, then they read under the new name (``variant.update`` was
    already so), and a downgrade gives back exactly what was there."""
    migrate.upgrade(empty_url, "0026")
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        user = _row(connection, "users", email="a@example.com")
        workspace = _row(connection, "workspaces", slug="acme")
        for action, entity in (
            ("target.scheduled", "publish_target"),
            ("publish_target.reschedule", "publish_target"),
            ("variant.update", "publish_target"),
            ("post.create", "post"),
        ):
            _row(
                connection,
                "audit_events",
                workspace_id=workspace,
                action=action,
                entity_type=entity,
            )
        _row(
            connection,
            "notifications",
            workspace_id=workspace,
            user_id=user,
            params=json.dumps({"post": "新酒", "target_id": 7}),
        )
        _row(
            connection,
            "notifications",
            workspace_id=workspace,
            user_id=user,
            params=json.dumps({"post": "target_id"}),
        )
        before = _stored(connection)

    migrate.upgrade(empty_url)
    with engine.connect() as connection:
        upgraded = _stored(connection)
    command.downgrade(migrate.alembic_config(empty_url), "0026")
    with engine.connect() as connection:
        downgraded = _stored(connection)
    engine.dispose()

    assert upgraded == (
        [
            ("variant.scheduled", "variant"),
            ("variant.reschedule", "variant"),
            ("variant.update", "variant"),
            ("post.create", "post"),
        ],
        [{"post": "新酒", "variant_id": 7}, {"post": "target_id"}],
    )
    assert downgraded == before
