"""Debates: the brand's topic campaigns (``#话题#``) and the participation they draw.

Participation is every inbox item on a post linked to the debate, or whose text carries the
hashtag; it is followed per day (in the workspace's time zone): items, unique participants
and the share of negative ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import record_audit, require
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.upsert import create_unique, get_or_create
from guanxi.inbox.debates.models import Debate, DebatePost
from guanxi.inbox.items.models import InboxItem
from guanxi.web import charts

HASHTAG_MAX_LENGTH = 100
MAX_ITEMS = 100_000


class InvalidDebateError(UserError):
    """A debate or post link that cannot be saved."""


def clean_hashtag(value: str) -> str:
    """The topic without its # marks (Weibo writes #话题#, others #topic)."""
    return value.strip().strip("#＃").strip()


def create_debate(db: Session, *, membership: Membership, hashtag: str, title: str = "") -> Debate:
    """Start following topic ``hashtag``."""
    require(membership, Permission.WRITE)
    topic = clean_hashtag(hashtag)
    if not topic:
        raise InvalidDebateError(N_("Enter the topic, e.g. #新品发布#."))
    if len(topic) > HASHTAG_MAX_LENGTH:
        raise InvalidDebateError(
            N_("Shorten the topic to {limit} characters."), limit=HASHTAG_MAX_LENGTH
        )
    values = {
        "workspace_id": membership.workspace_id,
        "hashtag": topic,
        "title": title.strip()[:200],
    }
    debate = create_unique(db, Debate, values, unique=["workspace_id", "hashtag"])
    if debate is None:
        raise InvalidDebateError(N_("This topic is followed already."))
    record_audit(
        db,
        actor=membership.user,
        action="inbox.debate.create",
        entity_type="debate",
        entity_id=debate.id,
        workspace=membership.workspace,
        after={"hashtag": topic},
    )
    return debate


def get_debate(db: Session, *, workspace_id: int, debate_id: int) -> Debate:
    """Debate ``debate_id`` of the workspace, or NotFoundError."""
    debate = db.get(Debate, debate_id)
    if debate is None or debate.workspace_id != workspace_id:
        raise NotFoundError(N_("This debate does not exist (any more)."))
    return debate


def list_debates(db: Session, *, workspace_id: int) -> list[Debate]:
    """The workspace's debates, newest first."""
    return list(
        db.scalars(
            select(Debate).where(Debate.workspace_id == workspace_id).order_by(Debate.id.desc())
        )
    )


def link_post(
    db: Session, *, membership: Membership, debate_id: int, post_external_id: str
) -> DebatePost:
    """Link a brand post (its platform id) to the debate: comments on it count."""
    require(membership, Permission.WRITE)
    debate = get_debate(db, workspace_id=membership.workspace_id, debate_id=debate_id)
    post_id = post_external_id.strip()
    if not post_id:
        raise InvalidDebateError(N_("Enter the post's id on the platform."))
    link, _ = get_or_create(
        db, DebatePost, key={"debate_id": debate.id, "post_external_id": post_id[:200]}
    )
    return link


def linked_posts(db: Session, *, debate_id: int) -> list[str]:
    """The platform ids of the posts linked to the debate."""
    return list(
        db.scalars(
            select(DebatePost.post_external_id)
            .where(DebatePost.debate_id == debate_id)
            .order_by(DebatePost.id)
        )
    )


@dataclass(frozen=True)
class Day:
    """Participation on one local day."""

    day: date
    items: int
    participants: int
    negative: int


@dataclass(frozen=True)
class Participation:
    """A debate's participation: totals and the days in order."""

    items: int
    participants: int
    negative_share: float
    days: list[Day]


def participation(db: Session, *, debate: Debate, timezone: str) -> Participation:
    """Comments, unique participants and sentiment per day, for the debate's posts and tag."""
    posts = linked_posts(db, debate_id=debate.id)
    conditions = [InboxItem.text.contains(f"#{debate.hashtag}")]
    if posts:
        conditions.append(InboxItem.post_external_id.in_(posts))
    rows = db.execute(
        select(
            InboxItem.created_at,
            InboxItem.platform,
            InboxItem.author_external_id,
            InboxItem.sentiment,
        )
        .where(InboxItem.workspace_id == debate.workspace_id, or_(*conditions))
        .order_by(InboxItem.created_at)
        .limit(MAX_ITEMS)
    ).all()
    zone = ZoneInfo(timezone)
    per_day: dict[date, list[tuple[str, str | None]]] = {}
    for created, platform, author, sentiment in rows:
        per_day.setdefault(created.astimezone(zone).date(), []).append(
            (f"{platform}:{author}", sentiment)
        )
    days: list[Day] = []
    if per_day:
        current, last = min(per_day), max(per_day)
        while current <= last:  # days without participation show as zero, not as gaps
            entries = per_day.get(current, [])
            days.append(
                Day(
                    current,
                    len(entries),
                    len({a for a, _ in entries}),
                    sum(s == "negative" for _, s in entries),
                )
            )
            current += timedelta(days=1)
    negative = sum(sentiment == "negative" for *_, sentiment in rows)
    return Participation(
        items=len(rows),
        participants=len({f"{platform}:{author}" for _, platform, author, _ in rows}),
        negative_share=negative / len(rows) if rows else 0.0,
        days=days,
    )


def chart_option(result: Participation, *, labels: dict[str, str]) -> dict[str, object]:
    """An ECharts option: items and participants per day (bars), negative share (line);
    ``labels`` names the series ("items", "participants", "negative") in the user's language."""
    days = [day.day for day in result.days]
    return charts.daily_option(
        days,
        [
            charts.bar(labels["items"], [day.items for day in result.days]),
            charts.bar(labels["participants"], [day.participants for day in result.days]),
            charts.line(
                labels["negative"],
                [round(100 * day.negative / day.items) if day.items else 0 for day in result.days],
                yAxisIndex=1,
            ),
        ],
        yAxis=[
            {"type": "value", "minInterval": 1},
            {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
        ],
    )
