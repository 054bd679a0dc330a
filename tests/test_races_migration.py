"""Migration 0008: chart datasets that already share a name keep their data."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from guanxi.core import migrate


def test_duplicate_dataset_names_are_renamed_not_lost(empty_url: str) -> None:
    """Given two public datasets and two of one workspace named alike (before the unique
    indexes), when the database is upgraded, then all remain, the younger of each pair
    named with its id."""
    migrate.upgrade(empty_url, "0004")
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspaces (id, slug, name, timezone, created_at, updated_at) "
                "VALUES (1, 'acme', 'Acme', 'Asia/Shanghai', :now, :now)"
            ),
            {"now": "2026-01-01 00:00:00"},
        )
        for id_, workspace in [(1, None), (2, None), (3, 1), (4, 1), (5, 1)]:
            name = "Other" if id_ == 5 else "Charts"
            connection.execute(
                text(
                    "INSERT INTO market_datasets (id, workspace_id, name, source, "
                    "illustrative, note, created_at) "
                    "VALUES (:id, :ws, :name, 'csv', false, '', :now)"
                ),
                {"id": id_, "ws": workspace, "name": name, "now": "2026-01-01 00:00:00"},
            )
    migrate.upgrade(empty_url)
    with engine.connect() as connection:
        names = dict(connection.execute(text("SELECT id, name FROM market_datasets")).all())
    engine.dispose()
    assert names == {1: "Charts", 2: "Charts (2)", 3: "Charts", 4: "Charts (4)", 5: "Other"}
