"""What every benchmark shares: its error, percentiles, a scratch database, memory, signals."""

from __future__ import annotations

import resource
import signal
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rich.table import Table
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from guanxi.core import migrate

# ``progress(stage, done, total)``: the command line shows one bar per stage.
Progress = Callable[[str, int, int], None]


def no_progress(_stage: str, _done: int, _total: int) -> None:
    """A progress callback that shows nothing (tests and scripts)."""


class BenchError(RuntimeError):
    """The run could not be set up or a worker died on its own."""


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q ≤ 100) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kilobytes).

    After ``reset_peak_rss``, the peak since then (where Linux allows resetting it)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start counting the peak resident memory afresh (Linux 4.0+), so a measure that
    follows a bulk load reports its own peak; whether it could."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Timing:
    """The samples of one timed call (a query, an endpoint), in milliseconds."""

    name: str
    samples_ms: list[float] = field(default_factory=list)

    def percentile(self, share: float) -> float:
        """The nearest-rank percentile of the samples (0 < share ≤ 1)."""
        return percentile(self.samples_ms, share * 100)


@contextmanager
def scratch_database(database_url: str, workdir: Path) -> Iterator[str]:
    """A migrated, empty database for the run; dropped (PostgreSQL) when the block ends."""
    if not database_url:
        url = f"sqlite:///{workdir / 'bench.db'}"
        migrate.upgrade(url)
        yield url
        return
    admin_url = make_url(database_url)
    if admin_url.get_backend_name() != "postgresql":
        msg = "--database-url must be a postgresql+psycopg:// URL (or omit it for SQLite)"
        raise BenchError(msg)
    name = f"guanxi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin_url.set(database=name).render_as_string(hide_password=False)
            migrate.upgrade(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a bulk load; on PostgreSQL also the visibility map
    (index-only scans), which autovacuum would build in production."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        return
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


@contextmanager
def interrupts_as_exit() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so the cleanup of a run still happens."""

    def _raise(*_: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


T = TypeVar("T")


def in_own_thread(work: Callable[[], T]) -> T:
    """``work()`` run in a thread of its own and its result, so that a benchmark that runs
    an event loop also runs where the caller's thread already has one (Playwright's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def timings_table(first: str, timings: Sequence[Timing], title: str) -> Table:
    """A table of each timing's p50, p95 and slowest run in milliseconds, as the bench
    commands print them."""
    table = Table(first, "p50 ms", "p95 ms", "max ms", title=title)
    for timing in timings:
        table.add_row(
            timing.name,
            f"{timing.percentile(0.5):.1f}",
            f"{timing.percentile(0.95):.1f}",
            f"{max(timing.samples_ms):.1f}",
        )
    return table
