"""The workspace ``guanxi bench report`` reports on: the demo, with a big workspace's volume.

The demo workspace (its accounts' figures, campaigns, orders) gets the other benchmarks' bulk
loads on top (``web_data.fill_demo``: the listening benchmark's mentions, the inbox
benchmark's items, published posts; the market benchmark's app charts). Built once per volume
and schema and kept: a SQLite file in the cache folder, or a database of its own on the
PostgreSQL server, named after the same key. A half-built one is never reused: it only gets
its final name when the load has finished.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from guanxi.accounts import service as accounts
from guanxi.core import migrate
from guanxi.core.db import make_engine, make_session_factory, session_scope, utcnow
from guanxi.core.settings import Settings
from guanxi.devtools.bench.common import BenchError, Progress, analyze
from guanxi.devtools.bench.market import MarketBenchConfig, synthetic_charts
from guanxi.devtools.bench.web_data import Volume, fill_demo
from guanxi.market import service as market

# Change when the data written here changes, so older cached databases are not reused.
DATA_VERSION = 1
DEMO_SLUG = "provence-wines"
PEOPLE = 20  # the inbox's assignees and the team report's people
CHART_DAYS = 100  # last month and the month before, whatever the day of the month


@dataclass(frozen=True)
class ReportVolume:
    """How much the workspace holds besides the demo's own rows."""

    mentions: int = 1_000_000
    inbox_items: int = 100_000
    posts: int = 10_000
    chart_countries: int = 20  # app-store charts: countries × 100 days × the top 100

    def key(self) -> str:
        """A name for this volume on this schema: a cached database is reused under it."""
        head = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
        described = (
            f"{DATA_VERSION}-{head}-{self.mentions}-{self.inbox_items}-{self.posts}"
            f"-{self.chart_countries}"
        )
        return f"report_{self.mentions}_{hashlib.sha256(described.encode()).hexdigest()[:10]}"


def default_cache_dir() -> Path:
    """Where built SQLite databases are kept between runs (``~/.cache/guanxi/bench``)."""
    return Path.home() / ".cache" / "guanxi" / "bench"


def _fill(url: str, volume: ReportVolume, progress: Progress) -> None:
    """Migrate the empty database at ``url`` and load the demo and ``volume`` into it."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with tempfile.TemporaryDirectory(prefix="guanxi-bench-report-") as workdir:
            settings = Settings(
                database_url=url,
                data_dir=Path(workdir),
                smtp_host="",
                secret_key=secrets.token_urlsafe(48),
            )
            data = fill_demo(
                engine,
                settings=settings,
                people=PEOPLE,
                volume=Volume(
                    mentions=volume.mentions,
                    inbox_items=volume.inbox_items,
                    posts=volume.posts,
                ),
                progress=progress,
            )
        _add_charts(engine, slug=data.slug, volume=volume, progress=progress)
        analyze(engine)
    finally:
        engine.dispose()


def _add_charts(engine: Engine, *, slug: str, volume: ReportVolume, progress: Progress) -> None:
    """The market benchmark's app charts, moved to end today, as a dataset of the workspace."""
    charts = synthetic_charts(
        MarketBenchConfig(countries=volume.chart_countries, days=CHART_DAYS, depth=100, apps=300)
    )
    shift = utcnow().date() - max(chart.day for chart in charts)
    progress("app charts", 0, 1)
    with session_scope(make_session_factory(engine)) as db:
        workspace = accounts.get_workspace_by_slug(db, slug=slug)
        if workspace is None:
            msg = f"the demo workspace {slug} is missing after the demo was loaded"
            raise BenchError(msg)
        dataset = market.find_or_create_dataset(
            db, workspace=workspace, name="App Store (bench)", source="csv"
        )
        market.import_charts(
            db,
            dataset=dataset,
            charts=[replace(chart, day=chart.day + shift) for chart in charts],
            alert=False,
        )
    progress("app charts", 1, 1)


def sqlite_database(cache_dir: Path, volume: ReportVolume, progress: Progress) -> tuple[str, bool]:
    """The URL of the cached SQLite database for ``volume`` (built first if need be), and
    whether it had to be built."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{volume.key()}.db"
    if path.is_file():
        return f"sqlite:///{path}", False
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    try:
        _fill(f"sqlite:///{building}", volume, progress)
        with sqlite3.connect(building) as connection:  # the write-ahead log into the file
            connection.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    building.rename(path)
    return f"sqlite:///{path}", True


def postgresql_database(
    server_url: str, volume: ReportVolume, progress: Progress
) -> tuple[str, bool]:
    """The URL of the kept database for ``volume`` on the PostgreSQL server at
    ``server_url`` (built first if need be), and whether it had to be built."""
    admin_url = make_url(server_url)
    if admin_url.get_backend_name() != "postgresql":
        msg = "--database-url must be a postgresql+psycopg:// URL (or omit it for SQLite)"
        raise BenchError(msg)
    name = f"guanxi_bench_{volume.key()}"
    building = f"{name}_building"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            known = set(connection.scalars(text("SELECT datname FROM pg_database")))
            if name in known:
                return admin_url.set(database=name).render_as_string(hide_password=False), False
            connection.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{building}"'))
        try:
            _fill(
                admin_url.set(database=building).render_as_string(hide_password=False),
                volume,
                progress,
            )
        except BaseException:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
            raise
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
    finally:
        admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False), True
