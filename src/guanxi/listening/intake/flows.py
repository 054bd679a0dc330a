"""Work that spans intake, enrichment and the dashboards: store batches of posts and
enrich the new ones, import a file batch by batch, resume interrupted imports, save uploads.

One import streams its file: rows are parsed one at a time, stored 1,000 at a time (each
batch committed, so memory stays bounded and progress is visible from other sessions), and
each batch's new mentions go through the NLP pipeline before the next batch is read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from guanxi.core import tables
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.listening.intake import service
from guanxi.listening.intake.importers.base import (
    Importer,
    ParsedAuthor,
    ParsedMention,
    ParsedRow,
    RowError,
)
from guanxi.listening.intake.models import ImportRowError, ImportRun, ImportStatus, ListeningSource
from guanxi.listening.mentions import service as mentions
from guanxi.listening.mentions.flows import EnrichingPipeline, EnrichTarget, write_enrichments
from guanxi.listening.mentions.models import Author, Mention
from guanxi.listening.topics import service as topics
from guanxi.nlp.pipeline import Document, Enrichment

log = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows stored, enriched and committed at a time
MAX_ROWS = 5_000_000  # rows of one file (GUANXI_IMPORT_MAX_ROWS)
MAX_STORED_ROW_ERRORS = 1000  # the report keeps the first ones; the count covers them all
INTERNAL_ERROR = N_(
    "The import stopped on an unexpected error after line {line}; the rows stored before it "
    "are kept. Import the file again (nothing is stored twice), or tell the administrator."
)
ROLLUP_ERROR = N_(
    "The rows are imported, but the dashboards could not count them yet. Tell the "
    "administrator: the dashboards' counts need to be refreshed."
)


# --- Storing -----------------------------------------------------------------------------


def store_and_enrich(
    db: Session,
    *,
    workspace_id: int,
    source_id: int | None,
    mentions: Sequence[ParsedMention],
    authors: Sequence[ParsedAuthor] = (),
    platform: str = "weibo",
    pipeline: EnrichingPipeline | None = None,
    pending_days: set[date] | None = None,
) -> service.StoredBatch:
    """Store one batch and enrich its new mentions (``pipeline=None`` leaves them for the
    worker's catch-up job); a mention the database refuses is left out (``refused``)."""
    rows = [
        ParsedRow(number, mentions=(mention,)) for number, mention in enumerate(mentions, start=1)
    ]
    if authors:
        rows.append(ParsedRow(0, authors=tuple(authors)))
    return store_rows(
        db,
        workspace_id=workspace_id,
        source_id=source_id,
        rows=rows,
        platform=platform,
        pipeline=pipeline,
        pending_days=pending_days,
    )


def store_rows(
    db: Session,
    *,
    workspace_id: int,
    source_id: int | None,
    rows: Sequence[ParsedRow],
    platform: str = "weibo",
    pipeline: EnrichingPipeline | None = None,
    pending_days: set[date] | None = None,
) -> service.StoredBatch:
    """Enrich the rows' new mentions, then store the rows and what was found.

    The NLP runs before anything is written, so no write transaction (SQLite's one write
    lock) is held while the models work: the web app keeps writing during an import. The
    rows are stored in one savepoint; when the database refuses the batch, each row is
    stored in its own, so a refused row becomes that row's error and the others are kept.
    """
    with db.no_autoflush:  # reads only: pending changes are written after the NLP
        found = _enrich_new(
            db, workspace_id=workspace_id, rows=rows, pipeline=pipeline, platform=platform
        )
    db.flush()
    stored = _store_rows(
        db, workspace_id=workspace_id, source_id=source_id, rows=rows, platform=platform
    )
    if found and stored.added:
        kinds = dict(
            db.execute(
                select(Author.id, Author.kind).where(
                    Author.id.in_({author for _id, author in stored.added.values() if author})
                )
            ).all()
        )
        targets: list[EnrichTarget] = []
        results: list[Enrichment] = []
        for key, (mention_id, author_id) in stored.added.items():
            if key in found:
                mention, enrichment = found[key]
                targets.append(
                    (
                        mention_id,
                        mention.posted_at,
                        author_id,
                        kinds.get(author_id) if author_id else None,
                    )
                )
                results.append(enrichment)
        write_enrichments(
            db,
            workspace_id=workspace_id,
            targets=targets,
            results=results,
            pending_days=pending_days,
        )
    return stored


def _enrich_new(
    db: Session,
    *,
    workspace_id: int,
    rows: Sequence[ParsedRow],
    pipeline: EnrichingPipeline | None,
    platform: str,
) -> dict[tuple[str, str], tuple[ParsedMention, Enrichment]]:
    """What the pipeline finds in the rows' mentions not stored yet, by (platform, post id)."""
    if pipeline is None:
        return {}
    new: dict[tuple[str, str], ParsedMention] = {}
    for row in rows:
        for mention in row.mentions:
            new.setdefault((mention.platform, mention.external_id), mention)
    if not new:
        return {}
    stored = db.execute(
        select(Mention.platform, Mention.external_id).where(
            Mention.workspace_id == workspace_id,
            Mention.external_id.in_({external_id for _platform, external_id in new}),
        )
    )
    for where, external_id in stored:
        new.pop((where, external_id), None)
    relations = mentions.official_relations(db, workspace_id=workspace_id)
    verified = _known_verified_types(db, workspace_id=workspace_id, rows=rows, platform=platform)
    documents = []
    for mention in new.values():
        author = mention.author
        hint, verified_type = "", None
        if author is not None:
            hint = relations.get((mention.platform, author.external_id)) or relations.get(
                (mention.platform, author.name), ""
            )
            verified_type = author.verified_type
            if verified_type is None:
                verified_type = verified.get((mention.platform, author.external_id))
        documents.append(
            Document(
                text=mention.text,
                platform=mention.platform,
                author_id=author.external_id if author else "",
                author_name=author.name if author else "",
                verified_type=verified_type,
                verified_reason=author.verified_reason if author else "",
                followers=author.followers if author else None,
                author_kind_hint=hint,
            )
        )
    try:
        results = pipeline.enrich(documents)
    except Exception:  # the rows are stored all the same; the catch-up job enriches them
        log.exception("enriching %d mentions failed; they are stored unenriched", len(documents))
        return {}
    return {
        key: (mention, found) for (key, mention), found in zip(new.items(), results, strict=True)
    }


def _known_verified_types(
    db: Session, *, workspace_id: int, rows: Sequence[ParsedRow], platform: str
) -> dict[tuple[str, str], int]:
    """The verified types known of the rows' authors: stored (another file said) or in an
    author record of this batch (users.csv, stored under the source's ``platform``)."""
    ids = {m.author.external_id for row in rows for m in row.mentions if m.author is not None}
    known: dict[tuple[str, str], int] = {}
    if ids:
        query = select(Author.platform, Author.external_id, Author.verified_type).where(
            Author.workspace_id == workspace_id,
            Author.external_id.in_(ids),
            Author.verified_type.is_not(None),
        )
        known.update(
            {(where, uid): kind for where, uid, kind in db.execute(query) if kind is not None}
        )
    for row in rows:
        for author in row.authors:
            if author.verified_type is not None:
                known[(platform, author.external_id)] = author.verified_type
    return known


# The database is gone or locked: no row is to blame, the whole batch fails.
UNAVAILABLE = (OperationalError, InterfaceError)


def _store_rows(
    db: Session,
    *,
    workspace_id: int,
    source_id: int | None,
    rows: Sequence[ParsedRow],
    platform: str,
) -> service.StoredBatch:
    def store(part: Sequence[ParsedRow]) -> service.StoredBatch:
        with db.begin_nested():
            return service.store_batch(
                db,
                workspace_id=workspace_id,
                source_id=source_id,
                platform=platform,
                mentions=[m for row in part for m in row.mentions],
                authors=[a for row in part for a in row.authors],
            )

    try:
        return store(rows)
    except UNAVAILABLE:
        raise
    except Exception:  # noqa: S110 - some row is refused: find it below, row by row
        pass
    stored = service.StoredBatch()
    for row in rows:
        try:
            stored.extend(store([row]))
        except UNAVAILABLE:
            raise
        except Exception as exc:  # whatever the database says, it is this row's
            stored.refused.append(
                RowError(
                    row.line,
                    "",
                    N_(
                        "The database refused this row: a value is out of its range (a huge "
                        "number, a time before year 1 or after 9999)."
                    ),
                    N_(
                        "Correct the value in the file and import it again (rows already "
                        "imported are not stored twice)."
                    ),
                    f"{type(exc).__name__}: {exc}"[:200],
                )
            )
    return stored


# --- Importing ---------------------------------------------------------------------------


@dataclass
class ImportProgress:
    """Where a running import is, for a progress bar."""

    bytes_done: int
    bytes_total: int
    run: ImportRun


def start_run(
    db: Session,
    *,
    source: ListeningSource,
    path: Path,
    filename: str = "",
    storage_path: str = "",
    created_by_id: int | None = None,
) -> ImportRun:
    """A queued import run of ``path`` into ``source``."""
    run = ImportRun(
        workspace_id=source.workspace_id,
        source_id=source.id,
        filename=filename or path.name,
        storage_path=storage_path,
        status=ImportStatus.QUEUED,
        bytes_total=path.stat().st_size if path.exists() else 0,
        created_by_id=created_by_id,
    )
    db.add(run)
    db.flush()
    return run


class _Batches:
    """The rows of one run on their way to the database, committed ``batch_size`` at a time
    with the run's counts, its row errors and the last line they cover."""

    def __init__(
        self,
        db: Session,
        run: ImportRun,
        source: ListeningSource,
        *,
        pipeline: EnrichingPipeline | None,
        batch_size: int,
        max_rows: int,
        on_progress: Callable[[ImportProgress], None] | None,
    ) -> None:
        self.db, self.run, self.source = db, run, source
        self.pipeline, self.batch_size, self.on_progress = pipeline, batch_size, on_progress
        self.max_rows = max_rows
        self.rows: list[ParsedRow] = []
        self.errors: list[RowError] = []
        # kept out of the ORM object: they change with every row
        self.read, self.failed, self.line = run.rows_read, run.rows_failed, run.line_committed
        self.pending = 0
        self.days: set[date] = set()  # the dashboards' rollup is recounted once, at the end

    def add(self, row: ParsedRow) -> None:
        """Count ``row`` in, and commit the batch when it is full; past ``max_rows`` commit
        what is read and raise ``UserError``."""
        if self.read >= self.max_rows:
            self.flush()
            raise UserError(
                N_(
                    "The file has more than {limit} rows: the first {limit} were imported. "
                    "Split the file and import the rest."
                ),
                limit=self.max_rows,
            )
        self.read += 1
        self.line = max(self.line, row.line)
        if row.error is not None:
            self.failed += 1
            self.errors.append(row.error)
        elif row.mentions or row.authors:
            self.rows.append(row)
        self.pending += len(row.mentions) + len(row.authors) + (row.error is not None)
        if self.pending >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Enrich and store the batch, then commit it with the run's progress."""
        run, db = self.run, self.db
        run.heartbeat_at = utcnow()  # the first write, after the NLP (see store_rows)
        stored = store_rows(
            db,
            workspace_id=run.workspace_id,
            source_id=self.source.id,
            rows=self.rows,
            platform=self.source.platform,
            pipeline=self.pipeline,
            pending_days=self.days,
        )
        self.errors.extend(stored.refused)
        self.failed += len(stored.refused)
        run.rows_read, run.rows_failed = self.read, self.failed
        run.rows_added += len(stored.added_ids)
        run.rows_skipped += stored.skipped
        run.line_committed = self.line
        _record_errors(db, run, self.errors)
        self.rows.clear()
        self.errors.clear()
        self.pending = 0
        db.commit()
        if self.on_progress is not None:
            self.on_progress(ImportProgress(run.bytes_done, run.bytes_total, run))


def import_file(
    db: Session,
    *,
    run: ImportRun,
    path: Path,
    importer: Importer,
    pipeline: EnrichingPipeline | None = None,
    batch_size: int = BATCH_SIZE,
    max_rows: int = MAX_ROWS,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportRun:
    """Import ``path`` into the run's source: stream, enrich, store, commit per batch.

    A row that cannot be read or stored goes to the run's row report (with its line) and
    the rest is kept; a file that cannot be read at all marks the run failed with the
    reason. Each commit records the last line it covers: a run resumed after an
    interruption (``sweep_interrupted``) skips the lines already committed.
    """
    source = db.get(ListeningSource, run.source_id)
    assert source is not None  # the run's foreign key guarantees it
    run.status, run.error, run.heartbeat_at = ImportStatus.RUNNING, "", utcnow()
    db.commit()
    resume_after = run.line_committed
    batches = _Batches(
        db,
        run,
        source,
        pipeline=pipeline,
        batch_size=batch_size,
        max_rows=max_rows,
        on_progress=on_progress,
    )

    def progress(done: int) -> None:
        run.bytes_done = done

    try:
        for row in importer.rows(path, progress=progress):
            if row.line <= resume_after:
                continue  # committed before the interruption
            batches.add(row)
        batches.flush()
    except UserError as exc:
        # A message without parameters stays a msgid (translated when shown); one with
        # parameters is kept formatted, in English.
        _fail_run(db, run, str(exc) if exc.params else exc.message)
        raise
    except Exception:
        log.exception("import run %s stopped after line %s", run.id, batches.line)
        _fail_run(db, run, INTERNAL_ERROR.format(line=batches.line))
        raise
    if batches.days and not _refresh_rollup(db, run, batches.days):
        return run
    run.status, run.finished_at = ImportStatus.DONE, utcnow()
    run.bytes_done = run.bytes_total
    source.last_run_at = run.finished_at
    db.commit()
    return run


def _refresh_rollup(db: Session, run: ImportRun, days: set[date]) -> bool:
    """Recount the dashboards' rollup of ``days``; False (the run failed) when it cannot."""
    try:
        topics.settle_days(db, workspace_id=run.workspace_id, days=days)
    except Exception:  # the rows are stored: the run must still end, and say so
        log.exception("import run %s: the rollup refresh failed", run.id)
        _fail_run(db, run, ROLLUP_ERROR)
        return False
    return True


def _fail_run(db: Session, run: ImportRun, error: str) -> None:
    """The run stopped: what was committed before stays, the run says why."""
    db.rollback()
    run.status, run.error = ImportStatus.FAILED, error
    run.finished_at = utcnow()
    db.commit()


# --- Interrupted imports ----------------------------------------------------------------

INTERRUPTED = N_(
    "The import was interrupted (the server stopped) and its file is no longer there: the "
    "rows imported before are kept. Import the file again (nothing is stored twice)."
)


def sweep_interrupted(db: Session, *, lease: timedelta, data_dir: Path) -> list[int]:
    """Runs left "running" by a stopped worker or web server: their heartbeat is older than
    ``lease``. Those whose file is still stored go back to the queue (returned, to enqueue:
    they resume after their last committed line); the others are marked failed."""
    cutoff = utcnow() - lease
    stale = db.scalars(
        select(ImportRun).where(
            ImportRun.status == ImportStatus.RUNNING,
            func.coalesce(ImportRun.heartbeat_at, ImportRun.created_at) < cutoff,
        )
    ).all()
    resumable: list[int] = []
    for run in stale:
        if run.storage_path and (data_dir / run.storage_path).is_file():
            run.status = ImportStatus.QUEUED
            resumable.append(run.id)
        else:
            run.status, run.error, run.finished_at = ImportStatus.FAILED, INTERRUPTED, utcnow()
    db.commit()
    return resumable


def _record_errors(db: Session, run: ImportRun, errors: Iterable[RowError]) -> None:
    room = MAX_STORED_ROW_ERRORS - _stored_errors(db, run)
    for error in list(errors)[: max(0, room)]:
        db.add(
            ImportRowError(
                run_id=run.id,
                line=error.line,
                column=error.column[:120],
                problem=error.problem,
                fix=error.fix,
                value=error.value[:200],
            )
        )


def _stored_errors(db: Session, run: ImportRun) -> int:
    query = select(func.count(ImportRowError.id)).where(ImportRowError.run_id == run.id)
    return db.scalar(query) or 0


# --- Uploads ----------------------------------------------------------------------------

UPLOAD_DIR = "listening/uploads"
UPLOAD_SUFFIXES = frozenset({".csv", ".jsonl", ".json", ".ndjson", ".txt", ".xlsx"})
MAX_UPLOAD_MB = 1024  # GUANXI_IMPORT_MAX_MB at most: the upload route's body limit
MAX_UPLOAD_BYTES = (MAX_UPLOAD_MB + 1) * 1024 * 1024  # the file and its form around it


def save_upload(
    *,
    data_dir: Path,
    workspace_id: int,
    filename: str,
    content: IO[bytes],
    max_bytes: int = MAX_UPLOAD_MB * 1024 * 1024,
) -> str:
    """Copy an uploaded file under the data dir (streamed); returns its relative path.

    A file larger than ``max_bytes`` is refused (and not kept) once that much is copied.
    """
    return tables.save_upload(
        data_dir=data_dir,
        folder=f"{UPLOAD_DIR}/{workspace_id}",
        filename=filename,
        content=content,
        max_bytes=max_bytes,
        suffixes=UPLOAD_SUFFIXES,
        wrong_suffix=UserError(
            N_(
                "guanxi imports .csv, .jsonl, .json and .xlsx files. Export "
                "the data in one of these formats."
            )
        ),
    )
