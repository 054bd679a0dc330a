"""``guanxi bench storage``: bytes on disk per 1,000,000 raw rows of each kind a workspace's
retention deletes (listening's mentions with their enrichment, facets and topic matches,
convert's clicks, measure's post snapshots), and how fast the retention deletes them.

Each kind is written into a scratch database of its own by the generator its own bench
uses, then measured: SQLite's ``dbstat`` (pages of each table and of its indexes), or
PostgreSQL's ``pg_total_relation_size`` (table, indexes and TOAST) after ``VACUUM
ANALYZE``. Then the older half of the rows is deleted by the kind's retention function, in
its batches, and timed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from guanxi.accounts.models import Workspace
from guanxi.convert.models import LinkClick
from guanxi.convert.retention import CLICK_KIND
from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.retention import RetentionKind
from guanxi.devtools.bench import analytics, convert_data, listening_dashboard
from guanxi.devtools.bench.common import Progress, analyze, no_progress, scratch_database
from guanxi.listening.mentions.models import Mention
from guanxi.listening.mentions.retention import MENTIONS
from guanxi.measure.models import PostSnapshot
from guanxi.measure.retention import SNAPSHOTS
from guanxi.retention.service import prune_kind

MILLION = 1_000_000


@dataclass(frozen=True)
class StorageKind:
    """One kind of raw row: its tables (the first holds one row per counted row), how its
    rows are made, and the column its age is read from."""

    name: str
    tables: tuple[str, ...]
    fill: Callable[[Engine, int, int, Progress], None]
    moment: Any  # the column compared with the retention cutoff
    retention: RetentionKind


@dataclass
class KindFigures:
    """What one kind takes on one backend."""

    kind: str
    rows: int
    bytes_by_table: dict[str, int] = field(default_factory=dict)
    pruned: int = 0
    prune_s: float = 0.0

    @property
    def total_bytes(self) -> int:
        """Every table of the kind, with its indexes."""
        return sum(self.bytes_by_table.values())

    @property
    def bytes_per_million(self) -> float:
        """Bytes per 1,000,000 rows of the kind's first table."""
        return self.total_bytes * MILLION / self.rows if self.rows else 0.0

    @property
    def pruned_per_s(self) -> float:
        """Rows the retention deleted per second (with what it deleted along)."""
        return self.pruned / self.prune_s if self.prune_s else 0.0


@dataclass
class StorageResult:
    """Every kind's figures on one backend."""

    backend: str
    figures: list[KindFigures] = field(default_factory=list)

    def last_line(self) -> str:
        """The line a script reads: MB per million rows of each kind."""
        return " ".join(
            f"{figure.kind}_mb_per_million={figure.bytes_per_million / 2**20:.0f}"
            for figure in self.figures
        )


def _fill_mentions(engine: Engine, rows: int, seed: int, progress: Progress) -> None:
    with make_session_factory(engine)() as db:
        workspace_id, _token = listening_dashboard.setup_workspace(db)
    listening_dashboard.fill(
        engine, workspace_id=workspace_id, mentions=rows, seed=seed, progress=progress
    )


def _fill_clicks(engine: Engine, rows: int, seed: int, progress: Progress) -> None:
    convert_data.fill(engine, orders=0, touches=rows, seed=seed, progress=progress)


def _fill_snapshots(engine: Engine, rows: int, seed: int, progress: Progress) -> None:
    config = analytics.AnalyticsBenchConfig(
        accounts=10, days=1, posts=max(1, rows // 10), snapshots=10, seed=seed
    )
    analytics.load_history(
        make_session_factory(engine), config, analytics.AnalyticsBenchResult(), progress
    )


KINDS: tuple[StorageKind, ...] = (
    StorageKind(
        "mentions",
        (
            "listening_mentions",
            "listening_mention_enrichments",
            "listening_mention_facets",
            "listening_topic_matches",
        ),
        _fill_mentions,
        Mention.posted_at,
        MENTIONS,
    ),
    StorageKind("clicks", ("convert_clicks",), _fill_clicks, LinkClick.clicked_at, CLICK_KIND),
    StorageKind(
        "snapshots", ("post_snapshots",), _fill_snapshots, PostSnapshot.observed_at, SNAPSHOTS
    ),
)


def table_bytes(engine: Engine, tables: Sequence[str]) -> dict[str, int]:
    """Bytes each table takes with its indexes (and TOAST on PostgreSQL)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            return {
                table: int(
                    connection.scalar(text("SELECT pg_total_relation_size(:t)"), {"t": table}) or 0
                )
                for table in tables
            }
        found = connection.execute(
            text(
                "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat AS s "
                "JOIN sqlite_schema AS m ON m.name = s.name GROUP BY m.tbl_name"
            )
        ).all()
    sizes = {str(name): int(size) for name, size in found}
    return {table: sizes.get(table, 0) for table in tables}


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608 - our own names


def _prune_older_half(engine: Engine, kind: StorageKind, progress: Progress) -> tuple[int, float]:
    """Delete the older half of the kind's rows with its retention function; rows and s."""
    with make_session_factory(engine)() as db:
        first, last = db.execute(select(func.min(kind.moment), func.max(kind.moment))).one()
        if first is None:
            return 0, 0.0
        workspace = db.scalars(select(Workspace)).one()
        started = time.perf_counter()
        deleted = prune_kind(
            db,
            workspace=workspace,
            kind=kind.retention,
            before=first + (last - first) / 2,
            progress=lambda _key, done, total: progress(f"{kind.name} deleted", done, total),
        )
        return deleted, time.perf_counter() - started


def run_storage_bench(
    *, rows: int, database_url: str = "", seed: int = 0, progress: Progress = no_progress
) -> StorageResult:
    """Fill one scratch database per kind with ``rows`` rows, measure, prune half."""
    result = StorageResult(backend="PostgreSQL" if database_url else "SQLite")
    for kind in KINDS:
        with (
            tempfile.TemporaryDirectory(prefix="guanxi-bench-storage-") as workdir,
            scratch_database(database_url, Path(workdir)) as url,
        ):
            engine = make_engine(url)
            try:
                kind.fill(engine, rows, seed, progress)
                analyze(engine)
                figures = KindFigures(kind.name, _count(engine, kind.tables[0]))
                figures.bytes_by_table = table_bytes(engine, kind.tables)
                figures.pruned, figures.prune_s = _prune_older_half(engine, kind, progress)
                result.figures.append(figures)
            finally:
                engine.dispose()
    return result
