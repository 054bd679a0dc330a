"""Imports never lose a good row: whatever breaks one row (a value out of any range, a
quote never closed, JSON nested thousands deep, a value the database refuses) is that
row's error with its line, and the batch and the file go on; an interrupted import is
found by the sweeper and resumes after its last committed line; the NLP runs outside the
write transaction; oversized files and archive bombs are refused before memory is spent."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.core.errors import UserError
from guanxi.core.schedule import ScheduledJob
from guanxi.listening.alerts import scheduled as alert_jobs
from guanxi.listening.intake import flows, scheduled, service
from guanxi.listening.intake.importers import importer_for
from guanxi.listening.intake.importers.base import Importer, ParsedRow, Progress
from guanxi.listening.intake.models import ImportRun, ImportStatus
from guanxi.listening.mentions import service as mention_service
from guanxi.listening.mentions.models import Mention
from guanxi.nlp.pipeline import Document, Enrichment
from tests.conftest import UserFactory, WorkspaceFactory
from tests.listening_data_support import FakePipeline

MAPPING = {"external_id": "id", "text": "text", "posted_at": "time"}
FULL_MAPPING = {**MAPPING, "likes": "likes", "author_id": "uid", "author_followers": "fans"}
GOOD_TIME = "2024-05-01 12:00:00"


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def start(db: Session, workspace: Workspace, path: Path, file_format: str) -> ImportRun:
    source = service.source_named(
        db, workspace_id=workspace.id, name=file_format, file_format=file_format
    )
    run = flows.start_run(db, source=source, path=path, storage_path=path.name)
    db.commit()
    return run


def run_import(
    db: Session,
    workspace: Workspace,
    path: Path,
    file_format: str,
    *,
    pipeline: FakePipeline | None = None,
    mapping: dict[str, str] | None = None,
    **options: object,
) -> ImportRun:
    run = start(db, workspace, path, file_format)
    chosen = importer_for(file_format, mapping=mapping or MAPPING)
    return flows.import_file(db, run=run, path=path, importer=chosen, pipeline=pipeline, **options)  # type: ignore[arg-type]


def stored_ids(db: Session, workspace: Workspace) -> list[str]:
    query = select(Mention.external_id).where(Mention.workspace_id == workspace.id)
    return sorted(db.scalars(query))


def error_lines(run: ImportRun) -> list[int]:
    return sorted(error.line for error in run.row_errors)


def jsonl_line(post_id: str, **fields: object) -> str:
    record = {
        "id": post_id,
        "text": f"post {post_id} 好",
        "time": GOOD_TIME,
        "likes": 1,
        "uid": "u1",
        "fans": 10,
        **fields,
    }
    return json.dumps(record, ensure_ascii=False)


# --- A bad value costs its row, never the batch or the file ------------------------------

BAD_VALUES = {
    "likes infinite (JSON 1e400)": '{"id": "b", "text": "t", "time": "%s", "likes": 1e400}',
    "likes Infinity (MediaCrawler)": '{"id": "b", "text": "t", "time": "%s", "likes": Infinity}',
    "likes 1e30": '{"id": "b", "text": "t", "time": "%s", "likes": 1e30}',
    "followers 1e300": '{"id": "b", "text": "t", "time": "%s", "uid": "u9", "fans": 1e300}',
    "time before year 1 in UTC": '{"id": "b", "text": "t", "time": "0001-01-01T00:00:00+14:00"}',
    "nested 100,000 deep": '{"id": "b", "text": "t", "time": "%s", "x": '
    + "[" * 100_000
    + "]" * 100_000
    + "}",
}


@pytest.mark.parametrize("bad", list(BAD_VALUES.values()), ids=list(BAD_VALUES))
def test_one_bad_value_costs_its_row_and_the_batch_goes_on(
    db: Session, workspace: Workspace, tmp_path: Path, bad: str
) -> None:
    """Given a JSON Lines file whose line 3 holds a value out of every range, in the middle
    of a batch, when imported, then lines 1, 2, 4 and 5 are stored, line 3 is reported with
    its line number, and the run is done."""
    path = tmp_path / "posts.jsonl"
    lines = [
        jsonl_line("a1"),
        jsonl_line("a2"),
        bad.replace("%s", GOOD_TIME),
        jsonl_line("a4"),
        jsonl_line("a5"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = run_import(db, workspace, path, "jsonl", pipeline=FakePipeline(), mapping=FULL_MAPPING)
    assert run.status == ImportStatus.DONE
    assert stored_ids(db, workspace) == ["a1", "a2", "a4", "a5"]
    assert error_lines(run) == [3]
    assert (run.rows_read, run.rows_added, run.rows_failed) == (5, 4, 1)


@pytest.mark.parametrize(
    ("file_format", "name", "header", "bad_row"),
    [
        (
            "weibo-crawler",
            "1669879400.csv",
            "id,正文,完整日期,点赞数",
            "b,坏,2024-05-01 12:00:00,inf",
        ),
        (
            "weibo-crawler",
            "1669879400.csv",
            "id,正文,完整日期,点赞数",
            "b,坏,0001-01-01T00:00:00+14:00,1",
        ),
        (
            "mediacrawler",
            "contents.csv",
            "note_id,content,create_time,liked_count",
            "b,坏,1714536000,1e30",
        ),
        ("csv", "posts.csv", "id,text,time,likes,uid,fans", "b,坏,2024-05-01 12:00:00,1,u9,1e300"),
    ],
)
def test_every_format_keeps_the_rows_around_a_bad_one(
    db: Session,
    workspace: Workspace,
    tmp_path: Path,
    file_format: str,
    name: str,
    header: str,
    bad_row: str,
) -> None:
    """Given a small batch size and a bad row in the middle of the second batch, the good
    rows of both batches are stored and the bad row is reported on its line (4)."""
    width = header.count(",") + 1
    good = [
        ",".join([f"g{n}", "好", "2024-05-01 12:00:00", "1", "u", "5"][:width])
        for n in (1, 2, 4, 5)
    ]
    path = tmp_path / name
    path.write_text("\n".join([header, *good[:2], bad_row, *good[2:]]) + "\n", encoding="utf-8")
    mapping = FULL_MAPPING if file_format == "csv" else None
    run = run_import(db, workspace, path, file_format, batch_size=2, mapping=mapping)
    assert run.status == ImportStatus.DONE
    assert stored_ids(db, workspace) == ["g1", "g2", "g4", "g5"]
    assert error_lines(run) == [4]


# --- CSV quoting ------------------------------------------------------------------------


def test_an_unclosed_quote_is_reported_and_the_rows_it_swallowed_are_imported(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    """Given a CSV whose line 3 opens a quote in its last column and never closes it, when
    imported, then line 3 is reported ("never closed") and lines 2, 4 and 5 are stored."""
    path = tmp_path / "posts.csv"
    path.write_text(
        "id,text,time\n"
        "p2,好,2024-05-01 12:00:00\n"
        'p3,好,"2024-05-01 12:00:00\n'
        "p4,好,2024-05-01 12:00:00\n"
        "p5,好,2024-05-01 12:00:00\n",
        encoding="utf-8",
    )
    run = run_import(db, workspace, path, "csv")
    assert stored_ids(db, workspace) == ["p2", "p4", "p5"]
    assert error_lines(run) == [3]
    assert "never closed" in run.row_errors[0].problem
    assert run.rows_failed == 1


def test_a_runaway_field_is_reported_on_its_first_line_and_the_file_goes_on(
    tmp_path: Path,
) -> None:
    """Given a quote that runs past the CSV reader's 1,000,000-character limit, the row
    it opened is one error and the rows after the runaway are read on their own."""
    path = tmp_path / "1.csv"
    filler = "\n".join(f"x{n}" for n in range(120_000))  # ~ 1 MB of lines inside the quote
    path.write_text(
        f'id,正文,完整日期\n1,ok,{GOOD_TIME}\n2,"{filler}\n3,ok,{GOOD_TIME}\n', encoding="utf-8"
    )
    rows = list(importer_for("weibo-crawler").rows(path))
    assert rows[0].mentions
    assert rows[1].line == 3
    assert rows[1].error is not None
    assert rows[-1].mentions
    assert rows[-1].mentions[0].external_id == "3"


def test_utf16_and_gbk_files_read_like_utf8(tmp_path: Path) -> None:
    for encoding in ("utf-16", "gbk", "utf-8-sig"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(f"id,正文,完整日期\n1,你好,{GOOD_TIME}\n".encode(encoding))
        rows = list(importer_for("weibo-crawler").rows(path))
        assert rows[0].mentions[0].text == "你好", encoding


# --- Interrupted imports resume --------------------------------------------------------


class Killed(BaseException):
    """The process dying mid-import (no ``except Exception`` sees it)."""


class DiesAfter:
    """An importer that stops the process after ``rows`` rows, like a killed worker."""

    def __init__(self, inner: Importer, rows: int) -> None:
        self.inner, self.limit = inner, rows

    def rows(self, path: Path, *, progress: Progress | None = None) -> Iterator[ParsedRow]:
        for count, row in enumerate(self.inner.rows(path), start=1):
            if count > self.limit:
                raise Killed
            yield row


def test_an_interrupted_import_is_swept_and_resumes_after_its_last_committed_line(
    db: Session, workspace: Workspace, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    """Given an import killed after 3 batches of 2 rows (line 7 committed, line 8 read
    but not), when the sweeper runs past the lease, then the run is queued again, and
    running it imports lines 8-11 only: every row once, counts as if never stopped."""
    path = tmp_path / "posts.csv"
    rows = [f"p{n},好,{GOOD_TIME}" for n in range(2, 12)]
    path.write_text("id,text,time\n" + "\n".join(rows) + "\n", encoding="utf-8")
    run = start(db, workspace, path, "csv")
    importer = importer_for("csv", mapping=MAPPING)
    with pytest.raises(Killed):
        flows.import_file(db, run=run, path=path, importer=DiesAfter(importer, 7), batch_size=2)
    db.rollback()
    assert (run.status, run.line_committed, run.rows_added) == (ImportStatus.RUNNING, 7, 6)
    # Within the lease nothing happens; past it, the run is queued again.
    assert flows.sweep_interrupted(db, lease=timedelta(minutes=10), data_dir=tmp_path) == []
    db.execute(update(ImportRun).values(heartbeat_at=run.created_at - timedelta(hours=1)))
    db.commit()
    queued: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scheduled, "enqueue_import", queued.append)
        assert scheduled.run_sweep_imports(session_factory, data_dir=tmp_path) == [run.id]
    assert queued == [run.id]
    db.refresh(run)
    assert run.status == ImportStatus.QUEUED
    resumed = flows.import_file(db, run=run, path=path, importer=importer, batch_size=2)
    assert resumed.status == ImportStatus.DONE
    assert (resumed.rows_read, resumed.rows_added, resumed.rows_skipped) == (10, 10, 0)
    assert stored_ids(db, workspace) == sorted(f"p{n}" for n in range(2, 12))


def test_an_interrupted_import_without_its_file_is_marked_failed(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "gone.csv"
    path.write_text("id,text,time\n", encoding="utf-8")
    run = start(db, workspace, path, "csv")
    run.status, run.heartbeat_at = ImportStatus.RUNNING, None
    run.created_at -= timedelta(hours=1)
    db.commit()
    path.unlink()
    assert flows.sweep_interrupted(db, lease=timedelta(minutes=10), data_dir=tmp_path) == []
    db.refresh(run)
    assert run.status == ImportStatus.FAILED
    assert "interrupted" in run.error


def test_the_sweeper_is_in_the_listening_schedule() -> None:
    jobs = {job.name: job for job in scheduled.SCHEDULE}
    assert isinstance(jobs.get("listen-sweep-imports"), ScheduledJob)
    assert jobs["listen-sweep-imports"].run is scheduled.run_sweep_imports


@pytest.mark.parametrize(
    ("name", "job"),
    [
        ("guanxi.listening.scheduled.import_run", scheduled.import_run),
        ("guanxi.listening.alert_jobs.check_alerts_job", alert_jobs.check_alerts_job),
    ],
)
def test_a_job_keeps_the_name_messages_already_in_the_queue_carry(name: str, job: Any) -> None:
    """Given an import (or an alert check) queued before an upgrade, under the name the queue
    stored it with, when the worker reads it, then it finds the job and runs it."""
    queued = scheduled.huey.serialize_task(job.s(1))

    assert scheduled.huey.serializer.deserialize(queued).name == name
    assert isinstance(scheduled.huey.deserialize_task(queued), job.task_class)


# --- The NLP runs outside the write transaction ----------------------------------------


class WritesWhileEnriching(FakePipeline):
    """A pipeline that, while it works, has another session write (the web app posting a
    note): with SQLite that write needs the one write lock."""

    def __init__(self, factory: sessionmaker[Session], workspace_id: int) -> None:
        super().__init__()
        self.factory, self.workspace_id, self.wrote = factory, workspace_id, 0

    def enrich(self, documents: Sequence[Document]) -> list[Enrichment]:
        with self.factory() as other:
            if other.get_bind().dialect.name == "sqlite":
                other.execute(text("PRAGMA busy_timeout=200"))  # fail fast, not in 5 s
            mention_service.track_account(
                other,
                workspace_id=self.workspace_id,
                platform="weibo",
                external_id=f"acct{self.wrote}",
                name="",
                relation="own",
            )
            other.commit()
        self.wrote += 1
        return super().enrich(documents)


def test_the_web_app_can_write_while_an_import_enriches(
    db: Session, workspace: Workspace, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    """Given an import of 4 rows in batches of 2, when another session writes during each
    batch's NLP step, then its writes succeed (no "database is locked") and the import
    stores and enriches every row."""
    path = tmp_path / "posts.csv"
    rows = [f"p{n},好,{GOOD_TIME}" for n in range(2, 6)]
    path.write_text("id,text,time\n" + "\n".join(rows) + "\n", encoding="utf-8")
    pipeline = WritesWhileEnriching(session_factory, workspace.id)
    run = run_import(db, workspace, path, "csv", pipeline=pipeline, batch_size=2)
    assert (run.status, run.rows_added, pipeline.wrote) == (ImportStatus.DONE, 4, 2)
    assert len(mention_service.list_tracked(db, workspace_id=workspace.id)) == 2


# --- Limits where data enters ----------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_and_not_kept(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_bytes(b"id,text,time\n" + b"x" * 3000)
    with source.open("rb") as handle, pytest.raises(UserError, match="larger than 0 MB"):
        flows.save_upload(
            data_dir=tmp_path / "data",
            workspace_id=1,
            filename="big.csv",
            content=handle,
            max_bytes=2048,
        )
    assert not any((tmp_path / "data").rglob("*.csv"))


def test_rows_past_the_row_limit_are_refused_with_the_first_ones_kept(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "posts.csv"
    rows = [f"p{n},好,{GOOD_TIME}" for n in range(2, 7)]
    path.write_text("id,text,time\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(UserError):
        run_import(db, workspace, path, "csv", max_rows=3)
    run = db.scalars(select(ImportRun)).one()
    assert run.status == ImportStatus.FAILED
    assert "more than 3 rows" in run.error
    assert stored_ids(db, workspace) == ["p2", "p3", "p4"]


def xlsx_bomb(path: Path, megabytes: int = 30) -> None:
    """A real workbook whose shared-strings part is one string of ``megabytes`` MB:
    a few tens of KB on disk."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "text", "time"])
    sheet.append(["1", "x", GOOD_TIME])
    plain = path.with_suffix(".plain.xlsx")
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        huge = "A" * (megabytes * 1024 * 1024)
        out.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="1" uniqueCount="1"><si><t>{huge}</t></si></sst>',
        )


def test_an_xlsx_bomb_is_refused_before_it_is_inflated(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    """Given a 30 KB workbook that unpacks to 30 MB, when imported, then the run fails
    with a message that says so, and reading it never held more than a few MB."""
    path = tmp_path / "bomb.xlsx"
    xlsx_bomb(path)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(UserError):
            run_import(db, workspace, path, "xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024
    run = db.scalars(select(ImportRun)).one()
    assert run.status == ImportStatus.FAILED
    assert "unpacks to far more data" in run.error


def test_a_workbook_broken_part_way_keeps_the_rows_before_and_says_where(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    """Given a workbook whose sheet XML breaks after 3,000 rows, when imported, then the
    rows read before the break are stored and the run fails saying which row it reached."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "text", "time"])
    for number in range(2, 3002):
        sheet.append([f"p{number}", "好", GOOD_TIME])
    plain = tmp_path / "plain.xlsx"
    workbook.save(plain)
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="3001"')] + b'<row r="3001"><c r="A3001" <<'
            out.writestr(item, data)
    with pytest.raises(UserError):
        run_import(db, workspace, path, "xlsx")
    run = db.scalars(select(ImportRun)).one()
    assert run.status == ImportStatus.FAILED
    assert "cannot be read after row" in run.error
    assert len(stored_ids(db, workspace)) > 1000


def test_a_sheet_thousands_of_columns_wide_is_refused(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    """Every row of a read-only sheet is padded to its width: a sheet 5,000 columns wide
    is refused before its rows are read."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "text", "time"])
    sheet.cell(row=2, column=5000, value="far away")
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    with pytest.raises(UserError, match="5000 columns wide"):
        run_import(db, workspace, path, "xlsx")
