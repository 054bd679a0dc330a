"""Mentions data access: the official accounts the workspace tracks, and reading mentions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from guanxi.catalog.service import get_catalog
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.upsert import get_or_create
from guanxi.listening.mentions.models import (
    Author,
    Mention,
    MentionEnrichment,
    MentionKind,
    OfficialRelation,
    TrackedAccount,
)

PER_PAGE = 50
MAX_PER_PAGE = 200


@cache
def known_platforms() -> frozenset[str]:
    """The slugs of the catalog's platforms: the ones a mention may come from."""
    return frozenset(platform.slug for platform in get_catalog().platforms)


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
        db,
        TrackedAccount,
        key={"workspace_id": workspace_id, "platform": platform, "external_id": key},
        defaults={"name": name[:120], "relation": relation},
    )
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


# --- Competitors' activity (read by the analytics benchmark) ---------------------------


@dataclass(frozen=True)
class TrackedActivity:
    """A tracked competitor account's own posts in a period, with the sums of their public
    counts as last imported or pulled."""

    platform: str
    external_id: str
    name: str
    posts: int
    likes: int
    comments: int
    reposts: int


def competitor_activity(
    db: Session, *, workspace_id: int, begins: datetime, ends: datetime
) -> list[TrackedActivity]:
    """Each competitor account the workspace tracks, with its posts (not its comments)
    posted from ``begins`` to ``ends`` (exclusive); one with none is listed with zeros."""
    competitors = db.scalars(
        select(TrackedAccount)
        .where(
            TrackedAccount.workspace_id == workspace_id,
            TrackedAccount.relation == OfficialRelation.COMPETITOR,
        )
        .order_by(TrackedAccount.platform, TrackedAccount.name)
    ).all()
    if not competitors:
        return []
    rows = db.execute(
        select(
            Author.platform,
            Author.external_id,
            func.count(Mention.id),
            func.coalesce(func.sum(Mention.likes), 0),
            func.coalesce(func.sum(Mention.comments), 0),
            func.coalesce(func.sum(Mention.reposts), 0),
        )
        .join(Mention, Mention.author_id == Author.id)
        .where(
            Author.workspace_id == workspace_id,
            Mention.workspace_id == workspace_id,
            Mention.kind == MentionKind.POST,
            Mention.posted_at >= begins,
            Mention.posted_at < ends,
            or_(
                *(
                    (Author.platform == account.platform)
                    & (Author.external_id == account.external_id)
                    for account in competitors
                )
            ),
        )
        .group_by(Author.platform, Author.external_id)
    ).all()
    found = {(row[0], row[1]): row[2:] for row in rows}
    result = []
    for account in competitors:
        posts, likes, comments, reposts = found.get(
            (account.platform, account.external_id), (0, 0, 0, 0)
        )
        result.append(
            TrackedActivity(
                account.platform,
                account.external_id,
                account.name or account.external_id,
                int(posts),
                int(likes),
                int(comments),
                int(reposts),
            )
        )
    return result
