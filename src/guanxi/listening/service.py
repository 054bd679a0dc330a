"""Listening data access: sources, tracked accounts, storing mentions, listing them.

Storing is built for volume: a batch of mentions is one multi-row INSERT that skips posts
already stored (``ON CONFLICT DO NOTHING`` on workspace + platform + post id, so importing
the same file twice changes nothing), and authors are one multi-row upsert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from guanxi.core.db import utcnow
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.upsert import get_or_create, insert_statement
from guanxi.listening.importers.base import ParsedAuthor, ParsedMention, RowError, known_platforms
from guanxi.listening.models import (
    Author,
    ImportRun,
    ListeningSource,
    Mention,
    MentionEnrichment,
    OfficialRelation,
    SourceFormat,
    TrackedAccount,
)

PER_PAGE = 50
MAX_PER_PAGE = 200


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
        db, ListeningSource, key={"workspace_id": workspace_id, "name": name},
        defaults={"format": file_format, "platform": platform},
    )  # fmt: skip
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


# --- Tracked official accounts ---------------------------------------------------------


def list_tracked(db: Session, *, workspace_id: int) -> list[TrackedAccount]:
    """The official accounts the workspace knows (own and competitors')."""
    query = select(TrackedAccount).where(TrackedAccount.workspace_id == workspace_id)
    return list(db.scalars(query.order_by(TrackedAccount.relation, TrackedAccount.name)))


def track_account(
    db: Session, *, workspace_id: int, platform: str, external_id: str, name: str, relation: str
) -> TrackedAccount:
    """Record an official account; its mentions become marketer-dominated sources."""
    external_id, name = external_id.strip(), name.strip()
    if not external_id and not name:
        raise UserError(N_("Give the account's id on the platform, or its exact name."))
    if relation not in set(OfficialRelation):
        raise UserError(N_("Choose whether it is your own account or a competitor's."))
    if platform not in known_platforms():
        raise UserError(
            N_("guanxi does not know the platform {platform}. Choose one of the catalog's."),
            platform=platform[:40],
        )
    key = (external_id or name)[:120]
    account, created = get_or_create(
        db, TrackedAccount,
        key={"workspace_id": workspace_id, "platform": platform, "external_id": key},
        defaults={"name": name[:120], "relation": relation},
    )  # fmt: skip
    if not created:
        account.relation, account.name = relation, name[:120] or account.name
    return account


def untrack_account(db: Session, *, workspace_id: int, account_id: int) -> None:
    """Forget a tracked account (mentions enriched before keep their source kind)."""
    db.execute(
        delete(TrackedAccount).where(
            TrackedAccount.workspace_id == workspace_id, TrackedAccount.id == account_id
        )
    )


def official_relations(db: Session, *, workspace_id: int) -> dict[tuple[str, str], str]:
    """``(platform, id or name) → "own" | "competitor"`` for the enrichment's hint."""
    relations: dict[tuple[str, str], str] = {}
    for account in list_tracked(db, workspace_id=workspace_id):
        relations[(account.platform, account.external_id)] = account.relation
        if account.name:
            relations[(account.platform, account.name)] = account.relation
    return relations


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
            {"workspace_id": workspace_id, "platform": platform,
             "external_id": author.external_id, "name": "", "verified_type": None,
             "verified_reason": "", "followers": None, "url": "", "kind": "",
             "updated_at": utcnow()},
        )  # fmt: skip
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
        ids = upsert_authors(db, workspace_id=workspace_id, platform=author_platform,
                             authors=group)  # fmt: skip
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
            "workspace_id": workspace_id, "platform": mention.platform,
            "external_id": mention.external_id, "kind": mention.kind, "url": mention.url[:400],
            "author_id": author_ids.get(author_key) if author_key else None,
            "text": mention.text, "posted_at": mention.posted_at, "likes": mention.likes,
            "comments": mention.comments, "reposts": mention.reposts,
            "reply_to_external_id": mention.reply_to_external_id[:120],
            "repost_of_external_id": mention.repost_of_external_id[:120],
            "raw": dict(mention.raw), "source_id": source_id, "imported_at": now,
        }  # fmt: skip
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


# --- Reading mentions -------------------------------------------------------------------


@dataclass(frozen=True)
class MentionFilters:
    """What the mentions list is narrowed to; empty means "any"."""

    text: str = ""
    platform: str = ""
    sentiment: str = ""
    source_kind: str = ""
    stage: str = ""
    source_id: int | None = None
    author_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class MentionPage:
    """One page of mentions, newest first."""

    mentions: list[Mention]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filters give."""
        return max(1, -(-self.total // self.per_page))


def _filtered(query: Select[Any], workspace_id: int, filters: MentionFilters) -> Select[Any]:
    query = query.where(Mention.workspace_id == workspace_id)
    if filters.platform:
        query = query.where(Mention.platform == filters.platform)
    if filters.source_id is not None:
        query = query.where(Mention.source_id == filters.source_id)
    if filters.author_id is not None:
        query = query.where(Mention.author_id == filters.author_id)
    if filters.since is not None:
        query = query.where(Mention.posted_at >= filters.since)
    if filters.until is not None:
        query = query.where(Mention.posted_at < filters.until)
    if filters.text.strip():
        needle = filters.text.strip().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        query = query.where(Mention.text.like(f"%{needle}%", escape="\\"))
    if filters.sentiment or filters.source_kind or filters.stage:
        query = query.join(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
        if filters.sentiment:
            query = query.where(MentionEnrichment.sentiment == filters.sentiment)
        if filters.source_kind:
            query = query.where(MentionEnrichment.source_kind == filters.source_kind)
        if filters.stage:
            query = query.where(MentionEnrichment.stage == filters.stage)
    return query


def list_mentions(
    db: Session,
    *,
    workspace_id: int,
    filters: MentionFilters | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> MentionPage:
    """A page of the workspace's mentions matching ``filters``, newest first."""
    filters = filters or MentionFilters()
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    total = db.scalar(_filtered(select(func.count(Mention.id)), workspace_id, filters)) or 0
    query = (
        _filtered(select(Mention), workspace_id, filters)
        .options(selectinload(Mention.author), selectinload(Mention.enrichment))
        .order_by(Mention.posted_at.desc(), Mention.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return MentionPage(list(db.scalars(query)), total, page, per_page)


def get_mention(db: Session, *, workspace_id: int, mention_id: int) -> Mention:
    """One mention of the workspace; ``NotFoundError`` otherwise."""
    mention = db.get(Mention, mention_id)
    if mention is None or mention.workspace_id != workspace_id:
        raise NotFoundError(N_("This mention does not exist."))
    return mention


def count_mentions(db: Session, *, workspace_id: int) -> int:
    """How many mentions the workspace has."""
    query = select(func.count(Mention.id)).where(Mention.workspace_id == workspace_id)
    return db.scalar(query) or 0


def related_mentions(db: Session, *, mention: Mention) -> list[Mention]:
    """The posts a mention answers or reposts, and those that answer or repost it."""
    query = select(Mention).where(
        Mention.workspace_id == mention.workspace_id,
        Mention.platform == mention.platform,
        or_(
            Mention.external_id.in_(
                [x for x in (mention.reply_to_external_id, mention.repost_of_external_id) if x]
            ),
            Mention.reply_to_external_id == mention.external_id,
            Mention.repost_of_external_id == mention.external_id,
        ),
    )
    return list(db.scalars(query.order_by(Mention.posted_at).limit(50)))
