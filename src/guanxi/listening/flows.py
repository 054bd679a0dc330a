"""Work that spans listening and NLP: import a file in batches, enrich what was stored,
and re-enrich what an older model version produced.

One import streams its file: rows are parsed one at a time, stored 1,000 at a time (each
batch committed, so memory stays bounded and progress is visible from other sessions), and
each batch's new mentions go through the NLP pipeline before the next batch is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.listening import service, topics
from guanxi.listening.importers.base import Importer, ParsedAuthor, ParsedMention, RowError
from guanxi.listening.models import (
    Author,
    ImportRowError,
    ImportRun,
    ImportStatus,
    ListeningSource,
    Mention,
    MentionEnrichment,
)

if TYPE_CHECKING:
    from guanxi.nlp.pipeline import Document, Enrichment

BATCH_SIZE = 1000
MAX_STORED_ROW_ERRORS = 1000  # the report keeps the first ones; the count covers them all
INTERNAL_ERROR = N_(
    "The import stopped on an unexpected error; the rows stored before it are kept. Import "
    "the file again (nothing is stored twice), or tell the administrator."
)


class EnrichingPipeline(Protocol):
    """What listening needs of guanxi.nlp's pipeline (tests pass a small fake)."""

    @property
    def model_version(self) -> str:
        """The version every Enrichment from this pipeline carries."""
        ...

    def enrich(self, documents: Sequence[Document]) -> list[Enrichment]:
        """One Enrichment per document, in order."""
        ...


@lru_cache(maxsize=32)
def _pipeline(user_dictionary: tuple[str, ...]) -> EnrichingPipeline:
    from guanxi.nlp.pipeline import default_pipeline  # loads models lazily, on first use

    return default_pipeline(user_dictionary=user_dictionary)


def pipeline_for(db: Session, *, workspace_id: int) -> EnrichingPipeline:
    """The NLP pipeline for a workspace: its tracked accounts' names join the dictionary."""
    names = sorted(
        {account.name for account in service.list_tracked(db, workspace_id=workspace_id)} - {""}
    )
    return _pipeline(tuple(names))


# --- Enrichment -------------------------------------------------------------------------


def enrich_mentions(
    db: Session,
    *,
    workspace_id: int,
    mention_ids: Sequence[int],
    pipeline: EnrichingPipeline,
    pending_days: set[date] | None = None,
) -> int:
    """Enrich these mentions (replacing earlier results), then match them against the
    workspace's topic queries; returns how many were enriched.

    The dashboards' rollup of their days is refreshed at once, or, given ``pending_days``,
    those days are collected for one ``topics.refresh_rollup`` at the end of a bulk import.
    """
    from guanxi.nlp.pipeline import Document

    if not mention_ids:
        return 0
    relations = service.official_relations(db, workspace_id=workspace_id)
    rows = db.execute(
        select(Mention.id, Mention.text, Mention.platform, Mention.posted_at, Author)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(Mention.workspace_id == workspace_id, Mention.id.in_(list(mention_ids)))
    ).all()
    documents = []
    for _id, text, platform, _posted, author in rows:
        hint = ""
        if author is not None:
            hint = relations.get((platform, author.external_id)) or relations.get(
                (platform, author.name), ""
            )
        documents.append(
            Document(
                text=text,
                platform=platform,
                author_id=author.external_id if author else "",
                author_name=author.name if author else "",
                verified_type=author.verified_type if author else None,
                author_kind_hint=hint,
            )
        )
    results = pipeline.enrich(documents)
    now = utcnow()
    db.execute(
        delete(MentionEnrichment).where(MentionEnrichment.mention_id.in_([r[0] for r in rows]))
    )
    db.execute(
        insert(MentionEnrichment),
        [
            {
                "mention_id": row[0],
                "workspace_id": workspace_id,
                "posted_at": row[3],
                "language": found.language,
                "script": found.script,
                "normalized_text": found.normalized_text,
                "sentiment": found.sentiment,
                "positive_probability": float(found.positive_probability),
                "source_kind": found.source_kind,
                "source_reason": found.source_reason,
                "stage": found.stage,
                "stage_cue": found.stage_cue[:120],
                "keywords": list(found.keywords),
                "features": {
                    "emoticons": list(found.emoticons),
                    "hashtags": list(found.hashtags),
                    "mentions": list(found.mentions),
                    "urls": list(found.urls),
                },
                "model_version": found.model_version,
                "enriched_at": now,
            }
            for row, found in zip(rows, results, strict=True)
        ],
    )
    kinds = {
        row[4].id: found.source_kind
        for row, found in zip(rows, results, strict=True)
        if row[4] is not None and row[4].kind != found.source_kind
    }
    if kinds:
        db.execute(update(Author), [{"id": key, "kind": kind} for key, kind in kinds.items()])
    topics.match_mention_ids(
        db, workspace_id=workspace_id, mention_ids=[row[0] for row in rows],
        pending_days=pending_days,
    )  # fmt: skip
    return len(rows)


def stale_mention_ids(
    db: Session,
    *,
    model_version: str,
    workspace_id: int | None = None,
    limit: int = BATCH_SIZE,
    after_id: int = 0,
) -> list[int]:
    """Mentions never enriched, or enriched by another model version (oldest first)."""
    query = (
        select(Mention.id)
        .outerjoin(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
        .where(
            Mention.id > after_id,
            or_(
                MentionEnrichment.mention_id.is_(None),
                MentionEnrichment.model_version != model_version,
            ),
        )
    )
    if workspace_id is not None:
        query = query.where(Mention.workspace_id == workspace_id)
    return list(db.scalars(query.order_by(Mention.id).limit(limit)))


def reenrich(
    db: Session,
    *,
    workspace_id: int | None = None,
    pipeline: EnrichingPipeline | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    commit: bool = True,
) -> int:
    """Enrich every stale mention (after a model upgrade) in batches, each committed unless
    ``commit`` is off; returns how many were enriched. The CLI command and the worker's job
    both call this."""
    done = 0
    last_id = 0
    version = _version(db, pipeline, workspace_id)
    while True:
        ids = stale_mention_ids(db, model_version=version, workspace_id=workspace_id,
                                limit=batch_size, after_id=last_id)  # fmt: skip
        if not ids:
            return done
        by_workspace: dict[int, list[int]] = {}
        for mention_id, owner in db.execute(
            select(Mention.id, Mention.workspace_id).where(Mention.id.in_(ids))
        ):
            by_workspace.setdefault(owner, []).append(mention_id)
        for owner, owned in by_workspace.items():
            chosen = pipeline or pipeline_for(db, workspace_id=owner)
            done += enrich_mentions(db, workspace_id=owner, mention_ids=owned, pipeline=chosen)
        if commit:
            db.commit()
        last_id = ids[-1]
        if progress is not None:
            progress(done)


def _version(db: Session, pipeline: EnrichingPipeline | None, workspace_id: int | None) -> str:
    if pipeline is not None:
        return pipeline.model_version
    # Every workspace's pipeline shares the models, so any one gives the version.
    return pipeline_for(db, workspace_id=workspace_id or 0).model_version


def count_stale(db: Session, *, model_version: str, workspace_id: int | None = None) -> int:
    """How many mentions ``reenrich`` would process."""
    from sqlalchemy import func

    query = (
        select(func.count(Mention.id))
        .outerjoin(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
        .where(
            or_(
                MentionEnrichment.mention_id.is_(None),
                MentionEnrichment.model_version != model_version,
            )
        )
    )
    if workspace_id is not None:
        query = query.where(Mention.workspace_id == workspace_id)
    return db.scalar(query) or 0


# --- Storing and importing --------------------------------------------------------------


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
    worker's catch-up job)."""
    stored = service.store_batch(db, workspace_id=workspace_id, source_id=source_id,
                                 mentions=mentions, authors=authors, platform=platform)  # fmt: skip
    if pipeline is not None and stored.added_ids:
        enrich_mentions(db, workspace_id=workspace_id, mention_ids=stored.added_ids,
                        pipeline=pipeline, pending_days=pending_days)  # fmt: skip
    return stored


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
        workspace_id=source.workspace_id, source_id=source.id, filename=filename or path.name,
        storage_path=storage_path, status=ImportStatus.QUEUED,
        bytes_total=path.stat().st_size if path.exists() else 0, created_by_id=created_by_id,
    )  # fmt: skip
    db.add(run)
    db.flush()
    return run


def import_file(
    db: Session,
    *,
    run: ImportRun,
    path: Path,
    importer: Importer,
    pipeline: EnrichingPipeline | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportRun:
    """Import ``path`` into the run's source: stream, store, enrich, commit per batch.

    A row that cannot be read goes to the run's row report and the rest is kept; a file
    that cannot be read at all marks the run failed with the reason.
    """
    source = db.get(ListeningSource, run.source_id)
    assert source is not None  # the run's foreign key guarantees it
    run.status, run.error = ImportStatus.RUNNING, ""
    db.commit()
    mentions: list[ParsedMention] = []
    authors: list[ParsedAuthor] = []
    errors: list[RowError] = []
    counts = {"read": 0, "failed": 0}  # kept out of the ORM object: it is updated per row
    days: set[date] = set()  # the dashboards' rollup is recounted once, at the end

    def flush() -> None:
        stored = store_and_enrich(db, workspace_id=run.workspace_id, source_id=source.id,
                                  mentions=mentions, authors=authors, platform=source.platform,
                                  pipeline=pipeline, pending_days=days)  # fmt: skip
        run.rows_read, run.rows_failed = counts["read"], counts["failed"]
        run.rows_added += len(stored.added_ids)
        run.rows_skipped += stored.skipped
        _record_errors(db, run, errors)
        mentions.clear()
        authors.clear()
        errors.clear()
        db.commit()
        if on_progress is not None:
            on_progress(ImportProgress(run.bytes_done, run.bytes_total, run))

    def progress(done: int) -> None:
        run.bytes_done = done

    try:
        for row in importer.rows(path, progress=progress):
            counts["read"] += 1
            if row.error is not None:
                counts["failed"] += 1
                errors.append(row.error)
            mentions.extend(row.mentions)
            authors.extend(row.authors)
            if len(mentions) + len(authors) + len(errors) >= batch_size:
                flush()
        flush()
    except UserError as exc:
        # A message without parameters stays a msgid (translated when shown); one with
        # parameters is kept formatted, in English.
        _fail_run(db, run, str(exc) if exc.params else exc.message)
        raise
    except Exception:
        _fail_run(db, run, INTERNAL_ERROR)
        raise
    if days:
        topics.refresh_rollup(db, workspace_id=run.workspace_id, days=days)
    run.status, run.finished_at = ImportStatus.DONE, utcnow()
    run.bytes_done = run.bytes_total
    source.last_run_at = run.finished_at
    db.commit()
    return run


def _fail_run(db: Session, run: ImportRun, error: str) -> None:
    """The run stopped: what was committed before stays, the run says why."""
    db.rollback()
    run.status, run.error = ImportStatus.FAILED, error
    run.finished_at = utcnow()
    db.commit()


def _record_errors(db: Session, run: ImportRun, errors: Iterable[RowError]) -> None:
    room = MAX_STORED_ROW_ERRORS - _stored_errors(db, run)
    for error in list(errors)[: max(0, room)]:
        db.add(
            ImportRowError(
                run_id=run.id, line=error.line, column=error.column[:120], problem=error.problem,
                fix=error.fix, value=error.value[:200],
            )
        )  # fmt: skip


def _stored_errors(db: Session, run: ImportRun) -> int:
    from sqlalchemy import func

    query = select(func.count(ImportRowError.id)).where(ImportRowError.run_id == run.id)
    return db.scalar(query) or 0


# --- Uploads ----------------------------------------------------------------------------

UPLOAD_DIR = "listening/uploads"
UPLOAD_SUFFIXES = frozenset({".csv", ".jsonl", ".json", ".ndjson", ".txt", ".xlsx"})
COPY_CHUNK = 1024 * 1024
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # one import file, about five million mentions


def save_upload(*, data_dir: Path, workspace_id: int, filename: str, content: IO[bytes]) -> str:
    """Copy an uploaded file under the data dir (streamed); returns its relative path."""
    import shutil
    import uuid

    name = Path(filename or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UserError(
            N_(
                "guanxi imports .csv, .jsonl, .json and .xlsx files. Export the data in one of "
                "these formats."
            )
        )
    relative = Path(UPLOAD_DIR) / str(workspace_id) / f"{uuid.uuid4().hex}{suffix}"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(content, out, COPY_CHUNK)
    if target.stat().st_size == 0:
        target.unlink()
        raise UserError(N_("The file is empty. Export the data again."))
    return relative.as_posix()
