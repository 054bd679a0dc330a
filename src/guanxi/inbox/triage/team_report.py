"""The team report: volume, first-response and resolution times (p50/p90), per person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.inbox.items.models import InboxItem

MAX_ITEMS = 200_000


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` (nearest rank); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Figures:
    """Counts and times (in minutes) of one group of items."""

    volume: int
    done: int
    first_response_p50: float | None
    first_response_p90: float | None
    resolution_p50: float | None
    resolution_p90: float | None


def figures(items: Sequence[tuple[datetime, datetime | None, datetime | None]]) -> Figures:
    """Figures of (created, first response, resolved) triples."""
    responses = [(first - created).total_seconds() / 60 for created, first, _ in items if first]
    resolutions = [(done - created).total_seconds() / 60 for created, _, done in items if done]
    return Figures(
        volume=len(items),
        done=len(resolutions),
        first_response_p50=percentile(responses, 0.5),
        first_response_p90=percentile(responses, 0.9),
        resolution_p50=percentile(resolutions, 0.5),
        resolution_p90=percentile(resolutions, 0.9),
    )


@dataclass(frozen=True)
class TeamReport:
    """The whole team's figures and each assignee's (None: unassigned)."""

    total: Figures
    by_person: dict[int | None, Figures]


def team_report(db: Session, *, workspace_id: int, since: datetime, until: datetime) -> TeamReport:
    """Figures of the items that arrived in [since, until)."""
    rows = db.execute(
        select(
            InboxItem.assignee_id,
            InboxItem.created_at,
            InboxItem.first_response_at,
            InboxItem.resolved_at,
        )
        .where(
            InboxItem.workspace_id == workspace_id,
            InboxItem.created_at >= since,
            InboxItem.created_at < until,
        )
        .limit(MAX_ITEMS)
    ).all()
    grouped: dict[int | None, list[tuple[datetime, datetime | None, datetime | None]]] = {}
    for assignee, created, first, resolved in rows:
        grouped.setdefault(assignee, []).append((created, first, resolved))
    everything = [triple for triples in grouped.values() for triple in triples]
    return TeamReport(
        total=figures(everything),
        by_person={assignee: figures(triples) for assignee, triples in grouped.items()},
    )
