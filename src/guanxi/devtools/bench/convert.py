"""``guanxi bench convert``: the tracked links' redirect under load and killed, and the
attribution of many orders against many touches.

1. a scratch database (SQLite, or one made on a PostgreSQL server and dropped at the end)
   with a workspace and tracked links; one ``guanxi serve`` process on loopback takes a
   closed-loop load from C keep-alive connections for S seconds, then is SIGKILLed right
   after K more answers; a new server stores the dead one's journal, and every click id
   handed out is looked for in the database (``convert_redirect``);
2. a second scratch database of the same kind with N orders and M touches
   (``convert_data``), timed through ``guanxi.convert.attribution.engine.attribute`` R
   times on the same data (``--attribution-runs``; the median reported) and checked against
   what the recipe says must be attributed;
3. with ``--analytics-url``, the second database's clicks copied to a scratch database of
   that ClickHouse (``convert.store.copy``, month by month), and the same attribution and
   the counted clicks of every link over the period timed on both stores.

The last line: ``clicks_per_s=<x> redirect_p99_ms=<y> lost_clicks=<n> attribution_s=<z>``,
followed with ``attribution_clickhouse_s=<w>`` when ClickHouse was measured.
"""

from __future__ import annotations

import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from guanxi.convert.attribution.engine import Attribution, attribute
from guanxi.convert.models import TrackedLink
from guanxi.convert.store import convert_store
from guanxi.convert.store.copy import ClickRows
from guanxi.core.db import make_engine, make_session_factory
from guanxi.devtools.bench.common import (
    BenchError,
    Progress,
    analyze,
    no_progress,
    scratch_database,
)
from guanxi.devtools.bench.convert_data import LINKS, Scratch, fill, make_workspace
from guanxi.devtools.bench.convert_redirect import RedirectFigures, measure_redirects
from guanxi.devtools.bench.listening_store import scratch_store, serving_from
from guanxi.devtools.bench.web_stack import child_environment

__all__ = ["ClickHouseFigures", "ConvertBenchConfig", "ConvertBenchResult", "run_convert_bench"]

COPY_BATCH = 50_000  # SQL rows per ClickHouse insert


@dataclass(frozen=True)
class ConvertBenchConfig:
    """The load on the redirect and the size of the attribution."""

    seconds: float = 10.0
    concurrency: int = 32
    kill_after: int = 2_000
    orders: int = 100_000
    touches: int = 1_000_000
    seed: int = 0
    database_url: str = ""  # empty: scratch SQLite files
    attribution_runs: int = 1  # times attribution is timed on the same data (the median kept)
    analytics_url: str = ""  # a ClickHouse to measure the convert store on; empty: none


@dataclass
class ConvertBenchResult:
    """The redirect's figures and the attribution's."""

    redirect: RedirectFigures
    load_s: float = 0.0
    attribution_s: float = 0.0  # the median of the runs
    attribution_runs_s: list[float] = field(default_factory=list)
    paid_orders: int = 0
    expected_attributed: int = 0
    attributed_orders: float = 0.0
    found_paid_orders: float = 0.0
    counts_s: float = 0.0  # counted clicks of every link over the period, SQL store
    counted_clicks: int = 0
    clickhouse: ClickHouseFigures | None = None

    def last_line(self) -> str:
        """The line a script reads."""
        line = (
            f"clicks_per_s={self.redirect.clicks_per_s:.0f} "
            f"redirect_p99_ms={self.redirect.p(99):.2f} "
            f"lost_clicks={self.redirect.lost} attribution_s={self.attribution_s:.2f}"
        )
        if self.clickhouse is not None:
            line += f" attribution_clickhouse_s={self.clickhouse.attribution_s:.2f}"
        return line


@dataclass
class ClickHouseFigures:
    """The same questions with the clicks in ClickHouse."""

    copied: int = 0
    copy_s: float = 0.0
    attribution_s: float = 0.0  # the median of the runs
    attribution_runs_s: list[float] = field(default_factory=list)
    attributed_orders: float = 0.0
    counts_s: float = 0.0
    counted_clicks: int = 0


def run_convert_bench(
    config: ConvertBenchConfig, *, progress: Progress = no_progress
) -> ConvertBenchResult:
    """Both halves, each on its own scratch database; everything removed at the end."""
    if config.seconds <= 0 or config.concurrency < 1 or config.kill_after < 1:
        msg = "--seconds must be more than 0, --concurrency and --kill-after at least 1"
        raise BenchError(msg)
    if config.orders < 1 or config.touches < 1 or config.attribution_runs < 1:
        msg = "--orders, --touches and --attribution-runs must be at least 1"
        raise BenchError(msg)
    with tempfile.TemporaryDirectory(prefix="guanxi-bench-convert-") as workdir:
        redirect = _redirect_half(config, Path(workdir), progress)
        result = ConvertBenchResult(redirect=redirect)
        _attribution_half(config, Path(workdir), result, progress)
    return result


def _redirect_half(
    config: ConvertBenchConfig, workdir: Path, progress: Progress
) -> RedirectFigures:
    with scratch_database(config.database_url, _own(workdir / "redirect")) as url:
        engine = make_engine(url)
        try:
            make_workspace(engine)
        finally:
            engine.dispose()
        keys = [f"bench{n:06d}" for n in range(LINKS)]
        env = child_environment(
            database_url=url, data_dir=workdir / "data", secret_key=secrets.token_urlsafe(48)
        )
        return measure_redirects(
            env=env,
            database_url=url,
            workdir=workdir,
            keys=keys,
            seconds=config.seconds,
            concurrency=config.concurrency,
            kill_after=config.kill_after,
            progress=progress,
        )


def _attribution_half(
    config: ConvertBenchConfig, workdir: Path, result: ConvertBenchResult, progress: Progress
) -> None:
    with scratch_database(config.database_url, _own(workdir / "attribution")) as url:
        engine = make_engine(url)
        try:
            began = time.perf_counter()
            scratch: Scratch = fill(
                engine,
                orders=config.orders,
                touches=config.touches,
                seed=config.seed,
                progress=progress,
            )
            analyze(engine)
            result.load_s = time.perf_counter() - began
            result.paid_orders = scratch.paid_orders
            result.expected_attributed = scratch.attributed_orders
            result.attribution_runs_s, found = _time_attribution(
                engine, scratch, config.attribution_runs, progress
            )
            result.attribution_s = statistics.median(result.attribution_runs_s)
            result.attributed_orders = found.attributed.orders
            result.found_paid_orders = found.total.orders
            result.counts_s, result.counted_clicks = _time_counts(engine, scratch)
            if config.analytics_url:
                result.clickhouse = _on_clickhouse(
                    config.analytics_url, engine, scratch, config.attribution_runs, progress
                )
        finally:
            engine.dispose()


def _time_attribution(
    engine: Engine, scratch: Scratch, runs: int, progress: Progress
) -> tuple[list[float], Attribution]:
    """Seconds of each of ``runs`` attributions of the whole period (last touch, 30 days),
    each in a new session, and the last one's result."""
    times: list[float] = []
    for run in range(runs):
        progress("attribution", run, runs)
        with make_session_factory(engine)() as db:
            began = time.perf_counter()
            found = attribute(
                db, workspace_id=scratch.workspace_id, start=scratch.start, end=scratch.end
            )
            times.append(time.perf_counter() - began)
    progress("attribution", runs, runs)
    return times, found


def _time_counts(engine: Engine, scratch: Scratch) -> tuple[float, int]:
    """Seconds to count every link's people's clicks over the period (the configured store)."""
    with make_session_factory(engine)() as db:
        link_ids = list(
            db.scalars(
                select(TrackedLink.id).where(TrackedLink.workspace_id == scratch.workspace_id)
            )
        )
        began = time.perf_counter()
        counts = convert_store(db).counted_by_link(
            workspace_id=scratch.workspace_id,
            link_ids=link_ids,
            start=scratch.start,
            end=scratch.end,
        )
        return time.perf_counter() - began, sum(counts.values())


def _on_clickhouse(
    url: str, engine: Engine, scratch: Scratch, runs: int, progress: Progress
) -> ClickHouseFigures:
    """Copy the clicks month by month, then time attribution and the counts there."""
    figures = ClickHouseFigures()
    months: list[date] = []
    month = (scratch.start - timedelta(days=31)).date().replace(day=1)
    while month <= scratch.end.date():
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    with scratch_store(url, ("guanxi.convert.store.clickhouse_migrations",)) as (
        client,
        named,
    ):
        began = time.perf_counter()
        with make_session_factory(engine)() as db:
            for n, month in enumerate(months):
                progress("copy to ClickHouse", n, len(months))
                after = 0
                while rows := ClickRows.sql_rows(db, month, after, COPY_BATCH):
                    ClickRows.write_rows(client, rows, f"bench:{month:%Y-%m}:{rows[0]['id']}")
                    figures.copied += len(rows)
                    after = rows[-1]["id"]
        progress("copy to ClickHouse", len(months), len(months))
        figures.copy_s = time.perf_counter() - began
        with serving_from(named):
            figures.attribution_runs_s, found = _time_attribution(engine, scratch, runs, progress)
            figures.attribution_s = statistics.median(figures.attribution_runs_s)
            figures.attributed_orders = found.attributed.orders
            figures.counts_s, figures.counted_clicks = _time_counts(engine, scratch)
    return figures


def _own(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory
