"""`guanxi bench storage` on a few thousand rows: every kind measured on disk, the older
half deleted by its retention, and the last line a script reads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from guanxi.devtools.bench.storage import run_storage_bench
from tests.cli import run, said
from tests.conftest import POSTGRES_URL

LAST_LINE = re.compile(
    r"^mentions_mb_per_million=(\d+) clicks_mb_per_million=(\d+) snapshots_mb_per_million=(\d+)$"
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def test_each_kind_is_measured_and_its_older_half_deleted(backend: str) -> None:
    result = run_storage_bench(rows=2_000, database_url=POSTGRES_URL if backend != "sqlite" else "")
    figures = {figure.kind: figure for figure in result.figures}
    assert set(figures) == {"mentions", "clicks", "snapshots"}
    assert figures["mentions"].rows == 2_000
    assert set(figures["mentions"].bytes_by_table) == {
        "listening_mentions",
        "listening_mention_enrichments",
        "listening_mention_facets",
        "listening_topic_matches",
    }
    for figure in figures.values():
        assert all(size > 0 for size in figure.bytes_by_table.values()), figure
        # Every row takes more than 10 bytes with its indexes.
        assert figure.bytes_per_million > 100 * 1_000_000 / 10, figure
        assert 0 < figure.pruned < figure.rows, figure


def test_the_command_prints_a_table_and_the_last_line(cli_database: Engine) -> None:
    result = run("bench", "storage", "--rows", "1000")
    assert result.exit_code == 0, said(result)
    assert "MB per 1,000,000" in result.output
    assert LAST_LINE.match(result.output.strip().splitlines()[-1]), said(result)
