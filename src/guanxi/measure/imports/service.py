"""Importing a creator centre's export, and the figures a person reads off the app.

The page and ``guanxi analytics import`` call the same functions: ``start_import`` records
the uploaded file, ``proposed_mapping`` gives the remembered (or guessed) column mapping,
``check_file`` the first rows and problems for the preview, ``run_import`` imports.

Importing is idempotent, keyed as the collector keys its figures: a post by its channel and
id on the platform, its figures as the snapshot of one moment (``MetricsImport.observed_at``,
which the same file imported again for the same account reuses), an account's figures by
channel and day. So importing the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.channels.service import get_channel
from guanxi.connectors.metrics import AccountDay as ReportedDay
from guanxi.connectors.metrics import Metric
from guanxi.core import tables, values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.in_lists import scalars_among
from guanxi.core.tables import CHINA, RowError
from guanxi.mappings import service as mappings
from guanxi.measure.days import store_days
from guanxi.measure.imports.models import (
    MAX_ROW_ERRORS,
    ExportKind,
    ImportStatus,
    MetricsImport,
)
from guanxi.measure.imports.reading import (
    FILE_FORMATS,
    MAX_BYTES,
    WRONG_FORMAT,
    DayRow,
    PostRow,
    Preview,
    check_mapping,
    check_size,
    file_format,
    guess_mapping,
    parsed_rows,
    preview,
)
from guanxi.measure.models import FoundBy, MeasuredPost, SnapshotPlan
from guanxi.measure.runs import figure_columns
from guanxi.measure.store import measure_store
from guanxi.measure.store.base import SnapshotFact

BATCH = 500  # rows written per flush
UPLOAD_DIR = "measure/imports"  # under the data dir, then the workspace id
PROBLEMS_SHOWN = 20  # problems the preview lists (the count is exact)
Progress = Callable[[int], None]  # rows done so far


# --- Runs -------------------------------------------------------------------------------


def save_export(*, data_dir: Path, workspace_id: int, filename: str, content: IO[bytes]) -> str:
    """Copy an export under the data dir (streamed, within ``MAX_BYTES``); its relative path."""
    return tables.save_upload(
        data_dir=data_dir,
        folder=f"{UPLOAD_DIR}/{workspace_id}",
        filename=filename,
        content=content,
        max_bytes=MAX_BYTES,
        suffixes=frozenset(FILE_FORMATS),
        wrong_suffix=UserError(WRONG_FORMAT),
    )


def file_digest(path: Path) -> str:
    """The sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _observed_at(
    db: Session, *, channel_id: int, digest: str, as_of: date | None, now: datetime
) -> datetime:
    """When a post export's figures were true: the end of ``as_of`` (Beijing time, at most
    now), else the moment of an earlier import of the same file, else now."""
    if as_of is not None:
        end = datetime.combine(as_of, time(23, 59, 59), tzinfo=CHINA).astimezone(UTC)
        return min(end, now)
    earlier = db.scalar(
        select(MetricsImport.observed_at)
        .where(MetricsImport.channel_id == channel_id, MetricsImport.digest == digest)
        .order_by(MetricsImport.id)
        .limit(1)
    )
    return earlier if earlier is not None else now.replace(microsecond=0)


def start_import(
    db: Session,
    *,
    workspace: Workspace,
    channel_id: int,
    kind: ExportKind,
    filename: str,
    path: Path,
    storage_path: str,
    created_by_id: int | None,
    as_of: date | None = None,
    now: datetime | None = None,
) -> MetricsImport:
    """Record an uploaded export of one of the workspace's accounts, before its mapping."""
    now = now or utcnow()
    channel = get_channel(db, workspace=workspace, channel_id=channel_id)
    fmt = file_format(filename)
    check_size(path.stat().st_size)
    if as_of is not None:
        as_of = values.day(as_of, now=now)
    digest = file_digest(path)
    run = MetricsImport(
        workspace_id=workspace.id,
        channel_id=channel.id,
        kind=kind,
        filename=values.text(Path(filename).name, limit=255),
        file_format=fmt,
        storage_path=storage_path,
        digest=digest,
        created_by_id=created_by_id,
        created_at=now,
        observed_at=_observed_at(db, channel_id=channel.id, digest=digest, as_of=as_of, now=now),
    )
    db.add(run)
    db.flush()
    return run


def get_run(db: Session, *, workspace_id: int, run_id: int) -> MetricsImport:
    """The workspace's import run with this id; ``NotFoundError`` otherwise."""
    run = db.get(MetricsImport, run_id)
    if run is None or run.workspace_id != workspace_id:
        raise NotFoundError(N_("No such import in this workspace."))
    return run


def list_runs(db: Session, *, workspace_id: int, limit: int = 20) -> list[MetricsImport]:
    """The workspace's latest imports, newest first."""
    query = (
        select(MetricsImport)
        .where(MetricsImport.workspace_id == workspace_id)
        .order_by(MetricsImport.created_at.desc(), MetricsImport.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def run_channel(db: Session, run: MetricsImport) -> Channel:
    """The account the run imports figures for."""
    channel = db.get(Channel, run.channel_id)
    if channel is None:
        raise NotFoundError(N_("No such connected account in this workspace."))
    return channel


# --- Mappings ---------------------------------------------------------------------------


def _purpose(db: Session, run: MetricsImport) -> str:
    """What the run's mapping is remembered for: its platform's exports of its kind."""
    return f"analytics:{run_channel(db, run).platform}:{run.kind}"


def remembered_mapping(
    db: Session, *, run: MetricsImport, columns: list[str]
) -> dict[str, str] | None:
    """The mapping confirmed for a file of this platform, kind and headers, if any."""
    found = mappings.remembered(
        db, workspace_id=run.workspace_id, purpose=_purpose(db, run), columns=columns
    )
    return None if found is None else found.mapping


def proposed_mapping(db: Session, *, run: MetricsImport, columns: list[str]) -> dict[str, str]:
    """The remembered mapping for files of this shape, else the guess from the headers."""
    remembered = remembered_mapping(db, run=run, columns=columns)
    return remembered if remembered is not None else guess_mapping(run.kind, columns)


def remember_mapping(
    db: Session, *, run: MetricsImport, columns: list[str], mapping: Mapping[str, str]
) -> dict[str, str]:
    """Check ``mapping`` against the file's columns and remember it for files of this shape."""
    chosen = check_mapping(run.kind, mapping, columns)
    mappings.remember(
        db,
        workspace_id=run.workspace_id,
        purpose=_purpose(db, run),
        columns=columns,
        mapping=chosen,
    )
    run.mapping = chosen
    db.flush()
    return chosen


def file_preview(run: MetricsImport, *, data_dir: Path) -> Preview:
    """The run's file: its columns and first rows."""
    return preview(data_dir / run.storage_path, run.file_format)


# --- The preview ------------------------------------------------------------------------


@dataclass
class FileCheck:
    """What importing the file with a mapping would do: its first rows read, its problems."""

    rows: list[PostRow | DayRow] = field(default_factory=list)
    problems: list[RowError] = field(default_factory=list)
    good: int = 0
    bad: int = 0


def check_file(
    path: Path, file_format: str, *, kind: ExportKind, mapping: Mapping[str, str]
) -> FileCheck:
    """Read the whole file with ``mapping`` without storing anything."""
    found = FileCheck()
    for row in parsed_rows(path, file_format, kind=kind, mapping=mapping):
        if isinstance(row, RowError):
            found.bad += 1
            if len(found.problems) < PROBLEMS_SHOWN:
                found.problems.append(row)
            continue
        found.good += 1
        if len(found.rows) < 5:
            found.rows.append(row)
    return found


# --- Importing --------------------------------------------------------------------------


def run_import(
    db: Session,
    *,
    run: MetricsImport,
    data_dir: Path,
    mapping: Mapping[str, str],
    progress: Progress | None = None,
    now: datetime | None = None,
) -> MetricsImport:
    """Import the run's file with ``mapping``: the good rows stored, each bad one reported.

    A file that cannot be read (at all, or past some row of a broken workbook) leaves the
    run failed with the reason, the rows read before it stored; the caller commits.
    """
    now = now or utcnow()
    channel = run_channel(db, run)
    run.mapping = dict(mapping)
    run.rows_read = run.rows_imported = run.rows_failed = 0
    errors: list[dict[str, Any]] = []
    batch: list[PostRow | DayRow] = []
    try:
        rows = parsed_rows(
            data_dir / run.storage_path, run.file_format, kind=run.kind, mapping=mapping
        )
        for row in rows:
            run.rows_read += 1
            if isinstance(row, RowError):
                run.rows_failed += 1
                if len(errors) < MAX_ROW_ERRORS:
                    errors.append(_error_record(row))
                continue
            batch.append(row)
            if len(batch) >= BATCH:
                _store(db, channel, run, batch, now)
                if progress is not None:
                    progress(run.rows_read)
                batch = []
        _store(db, channel, run, batch, now)
    except UserError as exc:
        # The file cannot be read (at all, or past some row): the rows stored so far stay.
        run.status, run.error, run.error_params = ImportStatus.FAILED, exc.message, exc.params
        run.row_errors, run.finished_at = errors, now
        db.flush()
        return run
    if progress is not None:
        progress(run.rows_read)
    run.row_errors = errors
    run.status, run.error, run.error_params = ImportStatus.DONE, "", {}
    run.finished_at = now
    db.flush()
    return run


def _error_record(error: RowError) -> dict[str, Any]:
    return {
        "line": error.line,
        "column": error.column[:120],
        "problem": error.problem,
        "fix": error.fix,
        "value": error.value[:200],
    }


def _store(
    db: Session,
    channel: Channel,
    run: MetricsImport,
    rows: Sequence[PostRow | DayRow],
    now: datetime,
) -> None:
    posts = [row for row in rows if isinstance(row, PostRow)]
    days = [row for row in rows if isinstance(row, DayRow)]
    if posts:
        store_posts(db, channel=channel, rows=posts, observed_at=run.observed_at, now=now)
    if days:
        latest = {row.day: row for row in days}  # a day twice in a file: its last row counts
        reported = [ReportedDay(day=row.day, values=row.figures) for row in latest.values()]
        store_days(
            db,
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            days=reported,
            now=now,
        )
    run.rows_imported += len(rows)
    db.flush()


def store_posts(
    db: Session,
    *,
    channel: Channel,
    rows: Iterable[PostRow],
    observed_at: datetime,
    now: datetime,
    found_by: FoundBy = FoundBy.IMPORT,
) -> list[MeasuredPost]:
    """Insert or complete the channel's posts of ``rows``, and store each one's figures as
    its snapshot of ``observed_at`` (replacing a snapshot of that moment): idempotent."""
    by_id = {row.external_id: row for row in rows}  # a post twice: its last row counts
    if not by_id:
        return []
    posts = select(MeasuredPost).where(MeasuredPost.channel_id == channel.id)
    known = {
        post.external_id: post for post in scalars_among(db, posts, MeasuredPost.external_id, by_id)
    }
    for external_id, row in by_id.items():
        post = known.get(external_id)
        if post is None:
            post = MeasuredPost(
                workspace_id=channel.workspace_id,
                channel_id=channel.id,
                external_id=external_id,
                published_at=row.published_at,
                found_by=found_by,
                found_at=now,
                text_excerpt=row.title,
                url=row.url,
                plan=SnapshotPlan.FINISHED,
                next_snapshot_at=None,
                snapshot_count=0,
            )
            db.add(post)
            known[external_id] = post
        else:
            post.text_excerpt = post.text_excerpt or row.title
            post.url = post.url or row.url
    db.flush()
    snapshots = [
        SnapshotFact(
            workspace_id=known[external_id].workspace_id,
            post_id=known[external_id].id,
            observed_at=observed_at,
            figures=figure_columns(row.figures),
        )
        for external_id, row in by_id.items()
        if row.figures
    ]
    # The file's moment taken again (the same export twice) takes the figures read now.
    counted = measure_store(db).write_snapshots(snapshots, replace=True)
    by_post_id = {post.id: post for post in known.values()}
    for snapshot in snapshots:
        post = by_post_id[snapshot.post_id]
        if post.id in counted:
            post.snapshot_count += 1
        last = post.last_observed_at
        if last is None or observed_at >= last:
            post.last_observed_at = observed_at
            for name, value in snapshot.figures.items():
                setattr(post, name, value)
    db.flush()
    return [known[external_id] for external_id in by_id]


# --- The figures read off the app -------------------------------------------------------

FORM_METRICS = (Metric.VIEWS, Metric.LIKES, Metric.COMMENTS, Metric.SHARES, Metric.SAVES)


def _find_post(db: Session, *, channel: Channel, post: str) -> MeasuredPost | None:
    query = select(MeasuredPost).where(
        MeasuredPost.channel_id == channel.id,
        (MeasuredPost.external_id == post) | (MeasuredPost.url == post),
    )
    return db.scalars(query.limit(1)).first()


def record_figures(
    db: Session,
    *,
    workspace: Workspace,
    channel_id: int,
    post: str,
    published_at: datetime | None,
    figures: Mapping[Metric, int | None],
    title: str = "",
    now: datetime | None = None,
) -> MeasuredPost:
    """Store the figures a person read off the app for one post, as its snapshot of now.

    ``post`` is the post's link or its id on the platform; a post not measured yet needs
    ``published_at``. Raises ``UserError`` with what to fix.
    """
    now = (now or utcnow()).replace(microsecond=0)
    channel = get_channel(db, workspace=workspace, channel_id=channel_id)
    reference = values.text(post, limit=1000)
    if not reference:
        raise UserError(N_("Paste the post's link, or write its id on the platform."))
    found = {metric: value for metric, value in figures.items() if value is not None}
    if not found:
        raise UserError(
            N_("Fill in at least one figure (views, likes, comments, shares or saves).")
        )
    for value in found.values():
        if not 0 <= value <= values.MAX_COUNT:
            raise UserError(
                N_("“{value}” is not a count: write a whole number from 0."), value=value
            )
    existing = _find_post(db, channel=channel, post=reference)
    if existing is None:
        if published_at is None:
            raise UserError(N_("This post is not measured yet: say when it was published."))
        try:
            published_at = values.moment(published_at, now=now)
        except values.InvalidValue as exc:
            raise UserError(exc.problem) from exc
        if published_at > now + timedelta(minutes=5):
            raise UserError(N_("The publication time is in the future."))
        url = values.web_url(reference, limit=1000)
        if len(reference) > 200 and not url:
            raise UserError(N_("The post's id is longer than 200 characters; paste its link."))
        external_id, published = reference[:200], published_at
    else:
        external_id, url, published = existing.external_id, existing.url, existing.published_at
    row = PostRow(0, external_id, url, values.text(title, limit=280), published, found)
    (stored,) = store_posts(db, channel=channel, rows=[row], observed_at=now, now=now)
    return stored


def imported_posts(db: Session, *, workspace: Workspace, limit: int = 50) -> list[MeasuredPost]:
    """The workspace's posts measured from imports and by hand, latest published first."""
    query = (
        select(MeasuredPost)
        .where(MeasuredPost.workspace_id == workspace.id, MeasuredPost.found_by == FoundBy.IMPORT)
        .order_by(MeasuredPost.published_at.desc(), MeasuredPost.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))
