"""Where an account's followers and reads came from: the platforms' breakdowns of a figure
(WeChat's ``user_source`` as ``follower_source``, its reads per source as ``view_source``),
summed over a period, with a label for each source name the connectors give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.errors import N_
from guanxi.measure.service import _channel
from guanxi.measure.store import measure_store

FOLLOWER_SOURCE = "follower_source"
VIEW_SOURCE = "view_source"

BREAKDOWN_LABELS: dict[str, str] = {
    FOLLOWER_SOURCE: N_("New followers by source"),
    VIEW_SOURCE: N_("Reads by source"),
}
# The connectors' stable source names (connectors/wechat_metrics.py), as people read them.
SOURCE_LABELS: dict[str, str] = {
    "other": N_("Other"),
    "search": N_("Search"),
    "business_card": N_("Shared business card"),
    "qr_code": N_("QR code"),
    "article_menu": N_("Article menu"),
    "after_payment": N_("After payment"),
    "article_account_name": N_("Account name in an article"),
    "article_ads": N_("Ads in articles"),
    "moments_ads": N_("Moments ads"),
    "wechat_ads": N_("WeChat ads"),
    "mini_program": N_("Mini program"),
    "reposted_by_others": N_("Reposted by others"),
    "channels": N_("WeChat Channels"),
    "live": N_("Live"),
    "chat": N_("Chats"),
    "friends": N_("Friends' shares"),
    "moments": N_("Moments"),
    "history": N_("Account history"),
    "top_stories": N_("Top stories (看一看)"),
}


@dataclass(frozen=True)
class SourceShare:
    """One source of a breakdown over a period: its total and its share of the whole."""

    key: str
    value: int
    share: float


@dataclass(frozen=True)
class Breakdown:
    """A figure split by source over a period, the largest source first."""

    name: str
    total: int
    sources: list[SourceShare]


def breakdowns(
    db: Session, *, workspace: Workspace, channel_id: int, start: date, end: date
) -> list[Breakdown]:
    """The account's breakdowns summed over ``start``..``end`` (the platform's days)."""
    channel = _channel(db, workspace, channel_id)
    rows = measure_store(db).breakdown_sums(channel.id, start, end)
    grouped: dict[str, list[tuple[str, int]]] = {}
    for name, key, value in rows:
        grouped.setdefault(name, []).append((key, int(value or 0)))
    result = []
    for name in sorted(grouped, key=lambda n: (n not in BREAKDOWN_LABELS, n)):
        parts = sorted(grouped[name], key=lambda part: -part[1])
        total = sum(value for _, value in parts)
        result.append(
            Breakdown(
                name, total, [SourceShare(k, v, v / total if total else 0.0) for k, v in parts]
            )
        )
    return result
