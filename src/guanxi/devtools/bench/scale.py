"""``guanxi bench scale``: every dashboard query of the mention store at agency scale.

Fills a scratch database of embedded ClickHouse (or a server) with N mentions generated
inside the engine (``scale_data``), times the real write path on a smaller slice
(``ClickHouseMentionStore.write``), then times each query of the ``MentionStore`` with
random workspaces and ranges; the same queries on PostgreSQL at a smaller N, filled with
``generate_series`` into the tables the SQL store reads. Scratch data is dropped afterwards.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.core.db import make_session_factory
from guanxi.devtools.bench import scale_data as data
from guanxi.devtools.bench.common import (
    BenchError,
    Progress,
    Timing,
    analyze,
    no_progress,
    percentile,
    scratch_database,
)
from guanxi.devtools.bench.listening_store import scratch_store
from guanxi.listening.store.base import DashboardFilters, MentionFact, MentionStore
from guanxi.listening.store.clickhouse import ClickHouseMentionStore
from guanxi.listening.store.sql import SqlMentionStore

CLICKHOUSE_CHUNK = 10_000_000  # mentions per INSERT ... SELECT (a progress step)
POSTGRES_CHUNK = 1_000_000
INGEST_BATCH = 1_000  # facts per write, as an enrichment batch sends them
AUTHORS = 5_000  # per workspace
SPANS = (7, 30, 90)  # days of the ranges the dashboards are asked about


@dataclass(frozen=True)
class ScaleConfig:
    """What to fill and how often to ask."""

    mentions: int = 100_000_000
    postgres_mentions: int = 10_000_000
    workspaces: int = 200
    authors: int = AUTHORS  # per workspace
    runs: int = 10  # timed calls per query
    ingest: int = 100_000  # mentions through the store's write path
    analytics_url: str = ""  # a ClickHouse; default: embedded, in a temporary directory
    database_url: str = ""  # the PostgreSQL server for the comparison
    seed: int = 0


@dataclass
class EngineResult:
    """One engine's figures."""

    name: str
    mentions: int
    fill_s: float = 0.0
    timings: list[Timing] = field(default_factory=list)
    bytes_by_table: dict[str, int] = field(default_factory=dict)

    @property
    def p95_ms(self) -> float:
        """The p95 over every query's samples."""
        return percentile([s for t in self.timings for s in t.samples_ms], 95)

    @property
    def bytes_per_mention(self) -> float:
        """Bytes on disk (every table of the store) per mention."""
        return sum(self.bytes_by_table.values()) / self.mentions if self.mentions else 0.0


@dataclass
class ScaleResult:
    """The run's figures; ``last_line`` is the summary the issue asks for."""

    clickhouse: EngineResult
    postgres: EngineResult | None
    ingest_facts: int = 0
    ingest_s: float = 0.0

    def last_line(self) -> str:
        """``clickhouse_p95_ms=<x> postgres_p95_ms=<y> mentions=<n> bytes_per_mention=<b>``."""
        postgres = f"{self.postgres.p95_ms:.1f}" if self.postgres else "none"
        return (
            f"clickhouse_p95_ms={self.clickhouse.p95_ms:.1f} postgres_p95_ms={postgres} "
            f"mentions={self.clickhouse.mentions} "
            f"bytes_per_mention={self.clickhouse.bytes_per_mention:.1f}"
        )


# --- The questions -----------------------------------------------------------------------

Query = Callable[[MentionStore, int, DashboardFilters, list[int]], object]


def _last_day(filters: DashboardFilters) -> datetime:
    """The instant the range ends (the alerts look at the day before it)."""
    assert filters.end is not None  # every range asked has both ends
    return datetime.combine(filters.end, datetime.min.time(), tzinfo=UTC)


def _queries() -> dict[str, Query]:
    """Each dashboard question of the store, as the dashboard and alerts ask it."""
    return {
        "count": lambda s, ws, f, _t: s.count(workspace_id=ws, filters=f),
        "count_by platform": lambda s, ws, f, _t: s.count_by(
            workspace_id=ws, filters=f, dimension="platform"
        ),
        "per_day_by_topic": lambda s, ws, f, t: s.per_day_by_topic(
            workspace_id=ws, filters=f, topic_ids=[0, *t]
        ),
        "per_day_by_sentiment": lambda s, ws, f, _t: s.per_day_by_sentiment(
            workspace_id=ws, filters=f
        ),
        "share of voice (count_by_topic)": lambda s, ws, f, t: s.count_by_topic(
            workspace_id=ws, filters=f, topic_ids=t
        ),
        "drill-down newest_ids": lambda s, ws, f, _t: s.newest_ids(
            workspace_id=ws, filters=f, limit=50
        ),
        "drill-down newest_ids, page 5": lambda s, ws, f, _t: s.newest_ids(
            workspace_id=ws, filters=f, limit=50, offset=200
        ),
        "drill-down of a topic, negative": lambda s, ws, f, t: s.newest_ids(
            workspace_id=ws,
            filters=DashboardFilters(
                start=f.start, end=f.end, topic_ids=(t[0],), sentiments=("negative",)
            ),
            limit=50,
        ),
        "keyword_lists": lambda s, ws, f, _t: s.keyword_lists(
            workspace_id=ws, filters=f, sample=1000
        ),
        "top_authors": lambda s, ws, f, _t: s.top_authors(workspace_id=ws, filters=f, limit=10),
        "window_counts (alerts)": lambda s, ws, f, t: s.window_counts(
            workspace_id=ws,
            start=_last_day(f) - timedelta(hours=24),
            end=_last_day(f),
            topic_id=t[0],
        ),
    }


def time_queries(
    store: MentionStore,
    *,
    workspaces: int,
    today: date,
    runs: int,
    seed: int,
    progress: Progress = no_progress,
    stage: str = "queries",
) -> list[Timing]:
    """Time every query ``runs`` times, each time for a random workspace and range (the
    last 7, 30 or 90 days, or 90 days anywhere in the year), in a random order."""
    rng = random.Random(seed)  # noqa: S311 - reproducible choices, not secrets
    queries = _queries()
    asks: list[tuple[str, int, DashboardFilters]] = []
    for name in queries:
        for _ in range(runs):
            span = rng.choice(SPANS)
            end = (
                today - timedelta(days=rng.randrange(data.DAYS - 90))
                if rng.random() < 0.25
                else today
            )
            workspace = rng.randint(1, workspaces)
            asks.append(
                (name, workspace, DashboardFilters(start=end - timedelta(days=span - 1), end=end))
            )
    rng.shuffle(asks)
    timings = {name: Timing(name) for name in queries}
    for done, (name, workspace, filters) in enumerate(asks, 1):
        topics = [workspace * 100 + t for t in range(1, data.TOPICS + 1)]
        started = time.perf_counter()
        queries[name](store, workspace, filters, topics)
        timings[name].samples_ms.append((time.perf_counter() - started) * 1000)
        progress(stage, done, len(asks))
    return list(timings.values())


# --- ClickHouse --------------------------------------------------------------------------


def fill_clickhouse(
    client: AnalyticsClient,
    *,
    mentions: int,
    workspaces: int,
    authors: int,
    now: datetime,
    progress: Progress,
) -> None:
    """Generate ``mentions`` mentions and their topic matches inside ClickHouse (the
    materialized views count them into the daily rollup as they land)."""
    for first in range(0, mentions, CLICKHOUSE_CHUNK):
        count = min(CLICKHOUSE_CHUNK, mentions - first)
        parameters = data.clickhouse_parameters(
            first=first,
            count=count,
            total=mentions,
            workspaces=workspaces,
            authors=authors,
            now=now,
        )
        client.command(data.CLICKHOUSE_INSERT_MENTIONS, parameters)
        client.command(data.CLICKHOUSE_INSERT_MATCHES, parameters)
        progress("clickhouse fill", first + count, mentions)


def clickhouse_bytes(client: AnalyticsClient) -> dict[str, int]:
    """Bytes on disk of the active parts of each table of the database."""
    rows = client.rows(
        "SELECT table, sum(bytes_on_disk) FROM system.parts "
        "WHERE database = {db:String} AND active GROUP BY table",
        {"db": client.database},
    )
    return {str(table): int(size) for table, size in rows}


def ingest_slice(
    db: Session,
    client: AnalyticsClient,
    *,
    facts: int,
    workspace_id: int,
    authors: int,
    now: datetime,
    seed: int,
) -> float:
    """Seconds to write ``facts`` new mentions' facts through the store's own write path,
    in enrichment-sized batches (into a workspace of their own)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    store = ClickHouseMentionStore(db, client)
    first = 10**12  # ids past the generated ones
    started = time.perf_counter()
    for start in range(0, facts, INGEST_BATCH):
        batch = []
        for number in range(start, min(facts, start + INGEST_BATCH)):
            tokens = tuple(rng.choices(data.VOCABULARY, k=rng.randint(6, 14)))
            batch.append(
                MentionFact(
                    mention_id=first + number,
                    workspace_id=workspace_id,
                    posted_at=now - timedelta(seconds=rng.randrange(data.DAYS * 86_400)),
                    platform=rng.choice(data.PLATFORMS),
                    sentiment=rng.choice(("positive", "neutral", "negative")),
                    source_kind=rng.choice(("personal", "public", "marketer")),
                    stage=rng.choice(("none", "evaluation", "purchase")),
                    author_id=workspace_id * data.AUTHOR_BLOCK + rng.randint(1, authors),
                    topic_ids=tuple(
                        workspace_id * 100 + t
                        for t in range(1, data.TOPICS + 1)
                        if rng.random() < data.TOPIC_PERCENT / 100
                    ),
                    keywords=tokens[:2],
                    tokens=tokens,
                    text="".join(tokens),
                )
            )
        store.write(batch)
    return time.perf_counter() - started


@contextmanager
def _authors_database(workspaces: int, authors: int, workdir: Path) -> Iterator[Session]:
    """A scratch SQLite database holding the authors the ClickHouse mentions name."""
    with scratch_database("", workdir) as url:
        engine = create_engine(url)
        with engine.begin() as connection:
            data.fill_authors(connection, workspaces=workspaces + 1, authors=authors)
        analyze(engine)
        with make_session_factory(engine)() as db:
            yield db
        engine.dispose()


# --- PostgreSQL --------------------------------------------------------------------------


def fill_postgres(
    url: str, *, mentions: int, workspaces: int, authors: int, now: datetime, progress: Progress
) -> dict[str, int]:
    """Generate the SQL store's rows on PostgreSQL; returns the bytes of each table with
    its indexes. Foreign keys are not checked during the fill (the mentions' own records,
    which the store never reads, are left out)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            data.fill_authors(connection, workspaces=workspaces, authors=authors)
        for first in range(1, mentions + 1, POSTGRES_CHUNK):
            last = min(mentions, first + POSTGRES_CHUNK - 1)
            parameters = data.postgres_parameters(
                first=first,
                last=last,
                total=mentions,
                workspaces=workspaces,
                authors=authors,
                now=now,
            )
            with engine.begin() as connection:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for statement in (
                    data.POSTGRES_FACETS,
                    data.POSTGRES_ENRICHMENTS,
                    data.POSTGRES_MATCHES,
                ):
                    connection.execute(text(statement), parameters)
            progress("postgres fill", last, mentions)
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in data.POSTGRES_ROLLUPS:
                connection.execute(text(statement))
        analyze(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN "
                    "('listening_mention_facets', 'listening_topic_matches', "
                    "'listening_daily_rollups', 'listening_mention_enrichments')"
                )
            )
            return {str(name): int(size) for name, size in rows}
    finally:
        engine.dispose()


def run_scale_bench(config: ScaleConfig, *, progress: Progress = no_progress) -> ScaleResult:
    """Fill, time and drop: ClickHouse at ``mentions``, PostgreSQL at ``postgres_mentions``.

    Both engines fill at once (PostgreSQL from a thread: its server does the work while
    chDB does ClickHouse's); the queries are then timed one engine at a time."""
    if config.postgres_mentions and not config.database_url:
        msg = (
            "--postgres-mentions needs --database-url postgresql+psycopg://...; "
            "or give --postgres-mentions 0 to time ClickHouse alone."
        )
        raise BenchError(msg)
    now = datetime.now(UTC).replace(microsecond=0)
    clickhouse = EngineResult("clickhouse", config.mentions)
    postgres = (
        EngineResult("postgres", config.postgres_mentions) if config.postgres_mentions else None
    )
    with tempfile.TemporaryDirectory(prefix="guanxi-bench-scale-") as work, ExitStack() as stack:
        workdir = Path(work)
        client, _named = stack.enter_context(
            scratch_store(config.analytics_url or f"chdb://{workdir / 'chdb'}")
        )
        db = stack.enter_context(_authors_database(config.workspaces, config.authors, workdir))
        postgres_url = ""
        if postgres is not None:
            postgres_url = stack.enter_context(scratch_database(config.database_url, workdir))
        with ThreadPoolExecutor(max_workers=1) as pool:
            filling = None
            if postgres is not None:
                filling = pool.submit(
                    _fill_postgres_timed, postgres, postgres_url, config, now, progress
                )
            started = time.perf_counter()
            fill_clickhouse(
                client,
                mentions=config.mentions,
                workspaces=config.workspaces,
                authors=config.authors,
                now=now,
                progress=progress,
            )
            clickhouse.fill_s = time.perf_counter() - started
            if filling is not None:
                filling.result()
        clickhouse.bytes_by_table = clickhouse_bytes(client)
        clickhouse.timings = time_queries(
            ClickHouseMentionStore(db, client),
            workspaces=config.workspaces,
            today=now.date(),
            runs=config.runs,
            seed=config.seed,
            progress=progress,
            stage="clickhouse queries",
        )
        ingest_s = 0.0
        if config.ingest:
            ingest_s = ingest_slice(
                db,
                client,
                facts=config.ingest,
                workspace_id=config.workspaces + 1,
                authors=config.authors,
                now=now,
                seed=config.seed,
            )
        if postgres is not None:
            engine = create_engine(postgres_url)
            try:
                with make_session_factory(engine)() as sql_db:
                    postgres.timings = time_queries(
                        SqlMentionStore(sql_db),
                        workspaces=config.workspaces,
                        today=now.date(),
                        runs=config.runs,
                        seed=config.seed,
                        progress=progress,
                        stage="postgres queries",
                    )
            finally:
                engine.dispose()
    return ScaleResult(clickhouse, postgres, config.ingest, ingest_s)


def _fill_postgres_timed(
    result: EngineResult, url: str, config: ScaleConfig, now: datetime, progress: Progress
) -> None:
    started = time.perf_counter()
    result.bytes_by_table = fill_postgres(
        url,
        mentions=config.postgres_mentions,
        workspaces=config.workspaces,
        authors=config.authors,
        now=now,
        progress=progress,
    )
    result.fill_s = time.perf_counter() - started


def describe(result: ScaleResult) -> list[tuple[str, Any]]:
    """The run's figures besides the timings, for the command's table."""
    rows: list[tuple[str, Any]] = [
        ("clickhouse mentions", f"{result.clickhouse.mentions:,}"),
        ("clickhouse fill (s)", f"{result.clickhouse.fill_s:.1f}"),
    ]
    rows += [
        (f"clickhouse {table} (MB)", f"{size / 2**20:,.1f}")
        for table, size in sorted(result.clickhouse.bytes_by_table.items())
    ]
    rows.append(("clickhouse bytes per mention", f"{result.clickhouse.bytes_per_mention:.1f}"))
    if result.ingest_facts:
        rows.append(
            (
                "write path (facts/s)",
                (
                    f"{result.ingest_facts / result.ingest_s:,.0f} "
                    f"({result.ingest_facts:,} in {result.ingest_s:.1f} s)"
                ),
            )
        )
    if result.postgres:
        rows += [
            ("postgres mentions", f"{result.postgres.mentions:,}"),
            ("postgres fill (s)", f"{result.postgres.fill_s:.1f}"),
        ]
        rows += [
            (f"postgres {table} (MB)", f"{size / 2**20:,.1f}")
            for table, size in sorted(result.postgres.bytes_by_table.items())
        ]
        rows.append(("postgres bytes per mention", f"{result.postgres.bytes_per_mention:.1f}"))
    return rows
