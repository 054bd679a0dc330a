"""`guanxi bench import`: a generated weibo-crawler CSV imported with bounded memory.

The file is written as weibo-crawler writes it (UTF-8 with BOM, a tab after every id, the
18 base columns and the repost columns), with real post texts from the demo sample repeated
to size; it is imported into a fresh database through the same flow as ``guanxi import``.
The figures are rows/s of the import alone and the process's peak RSS.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, WorkspaceCreate
from guanxi.core import migrate
from guanxi.core.db import make_engine, make_session_factory
from guanxi.devtools.bench.common import peak_rss_mb
from guanxi.devtools.demo.listening import sample
from guanxi.listening.intake import flows, service
from guanxi.listening.intake.importers import importer_for
from guanxi.listening.mentions.flows import pipeline_for

HEADER = [
    "id",
    "bid",
    "正文",
    "头条文章url",
    "原始图片url",
    "视频url",
    "Live Photo视频url",
    "位置",
    "日期",
    "工具",
    "点赞数",
    "评论数",
    "转发数",
    "话题",
    "@用户",
    "完整日期",
    "是否编辑过",
    "编辑次数",
    "是否原创",
    "源用户id",
    "源用户昵称",
    "源微博id",
    "源微博正文",
]
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ImportFigures:
    """What one benchmark run measured."""

    rows: int
    added: int
    seconds: float
    peak_rss_mb: float
    file_mb: float

    @property
    def rows_per_s(self) -> float:
        """Rows read per second of import."""
        return self.rows / self.seconds if self.seconds else 0.0


def write_weibo_crawler_csv(path: Path, rows: int) -> None:
    """A weibo-crawler CSV of ``rows`` posts, written as a stream."""
    texts = [str(item["text"]) for item in sample()]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number in range(rows):
            moment = START + timedelta(seconds=number * 7)
            writer.writerow(
                [
                    f"{4_900_000_000_000_000 + number}\t",
                    f"B{number:09d}",
                    texts[number % len(texts)],
                    "",
                    "",
                    "",
                    "",
                    "",
                    moment.strftime("%Y-%m-%d"),
                    "iPhone客户端",
                    number % 997,
                    number % 89,
                    number % 31,
                    "",
                    "",
                    moment.strftime("%Y-%m-%d %H:%M:%S"),
                    "False",
                    "0",
                    "True",
                    "",
                    "",
                    "",
                    "",
                ]
            )


def run_import_benchmark(
    *, rows: int, work_dir: Path, database_url: str = "", enrich: bool = False
) -> ImportFigures:
    """Generate the file in ``work_dir``, import it into a fresh database, measure."""
    path = work_dir / "1000000001.csv"
    write_weibo_crawler_csv(path, rows)
    url = database_url or f"sqlite:///{work_dir / 'bench.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            owner = accounts.create_user(
                db, data=UserCreate(email="bench@example.com", name="Bench", password="x" * 16)
            )
            workspace = accounts.create_workspace(
                db,
                data=WorkspaceCreate(slug=f"bench-{int(time.time())}", name="Bench"),
                owner=owner,
            )
            source = service.source_named(
                db, workspace_id=workspace.id, name="bench", file_format="weibo-crawler"
            )
            run = flows.start_run(db, source=source, path=path)
            db.commit()
            pipeline = pipeline_for(db, workspace_id=workspace.id) if enrich else None
            started = time.perf_counter()
            flows.import_file(
                db, run=run, path=path, importer=importer_for("weibo-crawler"), pipeline=pipeline
            )
            seconds = time.perf_counter() - started
            return ImportFigures(
                rows=run.rows_read,
                added=run.rows_added,
                seconds=seconds,
                peak_rss_mb=peak_rss_mb(),
                file_mb=path.stat().st_size / 1024 / 1024,
            )
    finally:
        engine.dispose()
