"""The team report: volume (by platform and kind), first-response and resolution times
(p50/p90) and, given the workspace's targets, how many were met; for the team and per person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.inbox.items.models import InboxItem
from guanxi.inbox.triage.sla import SlaTargets, add_minutes

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
    # Given the targets: the items first answered, and resolved, by their due time.
    first_response_met: int | None = None
    resolution_met: int | None = None


def figures(
    items: Sequence[tuple[datetime, datetime | None, datetime | None]],
    targets: SlaTargets | None = None,
) -> Figures:
    """Figures of (created, first response, resolved) triples, and how many met ``targets``."""
    responses = [(first - created).total_seconds() / 60 for created, first, _ in items if first]
    resolutions = [(done - created).total_seconds() / 60 for created, _, done in items if done]
    first_met = resolved_met = None
    if targets is not None:
        first_limit, resolution_limit = targets.first_response_minutes, targets.resolution_minutes
        first_met = sum(
            1 for c, first, _ in items if first and _met(targets, c, first, first_limit)
        )
        resolved_met = sum(
            1 for c, _, done in items if done and _met(targets, c, done, resolution_limit)
        )
    return Figures(
        volume=len(items),
        done=len(resolutions),
        first_response_p50=percentile(responses, 0.5),
        first_response_p90=percentile(responses, 0.9),
        resolution_p50=percentile(resolutions, 0.5),
        resolution_p90=percentile(resolutions, 0.9),
        first_response_met=first_met,
        resolution_met=resolved_met,
    )


def _met(targets: SlaTargets, created: datetime, done: datetime, minutes: int) -> bool:
    """Whether ``done`` came within ``minutes`` of counted time after ``created``. Counted
    time never exceeds the clock's, so only an answer slower by the clock walks the
    business hours (a hundred thousand items would otherwise take seconds)."""
    if done - created <= timedelta(minutes=minutes):
        return True
    return targets.business_hours_only and done <= add_minutes(targets, created, minutes)


@dataclass(frozen=True)
class TeamReport:
    """The whole team's figures and each assignee's (None: unassigned), and the volume per
    platform and kind."""

    total: Figures
    by_person: dict[int | None, Figures]
    volume: dict[tuple[str, str], int] = field(default_factory=dict)  # (platform, kind)


def team_report(
    db: Session,
    *,
    workspace_id: int,
    since: datetime,
    until: datetime,
    targets: SlaTargets | None = None,
) -> TeamReport:
    """Figures of the items that arrived in [since, until), counted against ``targets``
    when given."""
    rows = db.execute(
        select(
            InboxItem.platform,
            InboxItem.kind,
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
    volume: dict[tuple[str, str], int] = {}
    for platform, kind, assignee, created, first, resolved in rows:
        grouped.setdefault(assignee, []).append((created, first, resolved))
        volume[platform, str(kind)] = volume.get((platform, str(kind)), 0) + 1
    everything = [triple for triples in grouped.values() for triple in triples]
    return TeamReport(
        total=figures(everything, targets),
        by_person={assignee: figures(triples, targets) for assignee, triples in grouped.items()},
        volume=volume,
    )
