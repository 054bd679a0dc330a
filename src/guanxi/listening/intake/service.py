"""Intake data access: sources, storing a batch of posts, import runs.

Storing is built for volume: a batch of mentions is one multi-row INSERT that skips posts
already stored (``ON CONFLICT DO NOTHING`` on workspace + platform + post id, so importing
the same file twice changes nothing), and authors are one multi-row upsert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.core.db import utcnow
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.upsert import get_or_create, insert_statement
from guanxi.listening.intake.importers.base import ParsedAuthor, ParsedMention, RowError
from guanxi.listening.intake.models import ImportRun, ListeningSource, SourceFormat
from guanxi.listening.mentions.models import Author, Mention
from guanxi.listening.mentions.service import known_platforms

# --- Sources ------------------------------------------------------------------------------


def list_sources(db: Session, *, workspace_id: int) -> list[ListeningSource]:
    """The workspace's sources, by name."""
    query = select(ListeningSource).where(ListeningSource.workspace_id == workspace_id)
    return list(db.scalars(query.order_by(ListeningSource.name)))


def get_source(db: Session, *, workspace_id: int, source_id: int) -> ListeningSource:
    """One source of the workspace; ``NotFoundError`` otherwise."""
    source = db.get(ListeningSource, source_id)
    if source is None or source.workspace_id != workspace_id:
        raise NotFoundError(N_("This source does not exist."))
    return source


def source_named(
    db: Session, *, workspace_id: int, name: str, file_format: str, platform: str = "weibo"
) -> ListeningSource:
    """The source called ``name``, created on first use with ``file_format``."""
    name = name.strip()[:120]
    if not name:
        raise UserError(N_("Give the source a name, e.g. the crawler or the project."))
    if file_format not in set(SourceFormat):
        raise UserError(N_("Choose one of the listed formats."))
    if platform not in known_platforms():
        raise UserError(
            N_("guanxi does not know the platform {platform}. Choose one of the catalog's."),
            platform=platform[:40],
        )
    # Two imports may name the same new source at once: it is created once.
    source, created = get_or_create(
        db,
        ListeningSource,
        key={"workspace_id": workspace_id, "name": name},
        defaults={"format": file_format, "platform": platform},
    )
    if not created and source.format != file_format:
        raise ConflictError(
            N_(
                "The source {name} takes {format} files. Choose that format, or give this "
                "file another source name."
            ),
            name=name,
            format=source.format,
        )
    return source


def remember_mapping(source: ListeningSource, mapping: Mapping[str, str]) -> None:
    """Keep ``mapping`` on the source so its next file imports without asking."""
    source.column_mapping = dict(mapping)


def create_pull_source(
    db: Session, *, workspace_id: int, name: str, channel_id: int, query: str, platform: str
) -> ListeningSource:
    """A keyword search run through a connected account on every pull."""
    if not query.strip():
        raise UserError(N_("Write the keywords to search for."))
    source = source_named(
        db, workspace_id=workspace_id, name=name, file_format=SourceFormat.PULL, platform=platform
    )
    source.channel_id = channel_id
    source.query = query.strip()[:400]
    return source


# --- Storing ----------------------------------------------------------------------------


@dataclass
class StoredBatch:
    """What storing one batch did: the new mentions' ids, how many were known, and the rows
    the database refused (each reported with its line; the others are stored)."""

    added_ids: list[int] = field(default_factory=list)
    skipped: int = 0
    # (platform, post id) → (mention id, author id) of each new mention
    added: dict[tuple[str, str], tuple[int, int | None]] = field(default_factory=dict)
    refused: list[RowError] = field(default_factory=list)

    def extend(self, other: StoredBatch) -> None:
        """Add what storing another part of the batch did."""
        self.added_ids.extend(other.added_ids)
        self.skipped += other.skipped
        self.added.update(other.added)
        self.refused.extend(other.refused)


def _insert(db: Session, model: type[Any]) -> Any:
    """A Core INSERT on ``model``'s table that knows ``ON CONFLICT`` (SQLite, PostgreSQL).

    Core, not the ORM: a batch of a thousand rows skips the ORM's per-row bookkeeping.
    """
    return insert_statement(db, model)


def upsert_authors(
    db: Session, *, workspace_id: int, platform: str, authors: Sequence[ParsedAuthor]
) -> dict[str, int]:
    """Insert or update authors; returns ``external_id → Author.id``.

    What a source does not say (``None``, empty name) never erases what another said.
    """
    merged: dict[str, dict[str, Any]] = {}
    for author in authors:
        row = merged.setdefault(
            author.external_id,
            {
                "workspace_id": workspace_id,
                "platform": platform,
                "external_id": author.external_id,
                "name": "",
                "verified_type": None,
                "verified_reason": "",
                "followers": None,
                "url": "",
                "kind": "",
                "updated_at": utcnow(),
            },
        )
        for key in ("name", "verified_type", "verified_reason", "followers", "url"):
            value = getattr(author, key)
            if value not in (None, ""):
                row[key] = value
    if not merged:
        return {}
    statement = _insert(db, Author)
    excluded = statement.excluded
    table = Author.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=["workspace_id", "platform", "external_id"],
        set_={
            "name": func.coalesce(func.nullif(excluded.name, ""), table.name),
            "verified_type": func.coalesce(excluded.verified_type, table.verified_type),
            "verified_reason": func.coalesce(
                func.nullif(excluded.verified_reason, ""), table.verified_reason
            ),
            "followers": func.coalesce(excluded.followers, table.followers),
            "url": func.coalesce(func.nullif(excluded.url, ""), table.url),
            "updated_at": excluded.updated_at,
        },
    ).returning(table.id, table.external_id)
    rows = db.execute(statement, list(merged.values())).all()
    return {external_id: author_id for author_id, external_id in rows}


def store_batch(
    db: Session,
    *,
    workspace_id: int,
    source_id: int | None,
    mentions: Sequence[ParsedMention],
    authors: Sequence[ParsedAuthor] = (),
    platform: str = "weibo",
) -> StoredBatch:
    """Store a batch: upsert its authors, insert the mentions not stored yet."""
    result = StoredBatch()
    by_platform: dict[str, list[ParsedAuthor]] = {platform: list(authors)}
    for mention in mentions:
        if mention.author is not None:
            by_platform.setdefault(mention.platform, []).append(mention.author)
    author_ids: dict[tuple[str, str], int] = {}
    for author_platform, group in by_platform.items():
        ids = upsert_authors(db, workspace_id=workspace_id, platform=author_platform, authors=group)
        author_ids.update({(author_platform, key): value for key, value in ids.items()})
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    now = utcnow()
    for mention in mentions:
        key = (mention.platform, mention.external_id)
        if key in rows:
            result.skipped += 1  # the same post twice in one batch
            continue
        author_key = (mention.platform, mention.author.external_id) if mention.author else None
        rows[key] = {
            "workspace_id": workspace_id,
            "platform": mention.platform,
            "external_id": mention.external_id,
            "kind": mention.kind,
            "url": mention.url[:400],
            "author_id": author_ids.get(author_key) if author_key else None,
            "text": mention.text,
            "posted_at": mention.posted_at,
            "likes": mention.likes,
            "comments": mention.comments,
            "reposts": mention.reposts,
            "reply_to_external_id": mention.reply_to_external_id[:120],
            "repost_of_external_id": mention.repost_of_external_id[:120],
            "raw": dict(mention.raw),
            "source_id": source_id,
            "imported_at": now,
        }
    if rows:
        columns = Mention.__table__.c
        statement = (
            _insert(db, Mention)
            .on_conflict_do_nothing(index_elements=["workspace_id", "platform", "external_id"])
            .returning(columns.id, columns.platform, columns.external_id, columns.author_id)
        )
        for mention_id, mention_platform, external_id, author_id in db.execute(
            statement, list(rows.values())
        ):
            result.added_ids.append(mention_id)
            result.added[(mention_platform, external_id)] = (mention_id, author_id)
        result.skipped += len(rows) - len(result.added_ids)
    return result


# --- Import runs ------------------------------------------------------------------------


def get_run(db: Session, *, workspace_id: int, run_id: int) -> ImportRun:
    """One import run of the workspace; ``NotFoundError`` otherwise."""
    run = db.get(ImportRun, run_id)
    if run is None or run.workspace_id != workspace_id:
        raise NotFoundError(N_("This import does not exist."))
    return run


def list_runs(db: Session, *, workspace_id: int, limit: int = 20) -> list[ImportRun]:
    """The latest import runs of the workspace."""
    query = select(ImportRun).where(ImportRun.workspace_id == workspace_id)
    return list(db.scalars(query.order_by(ImportRun.id.desc()).limit(limit)))
