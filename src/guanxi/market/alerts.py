"""Alerts when a tracked app enters or leaves the top N of a country.

A newly stored snapshot is compared with the previous snapshot of the same chart and
country; each workspace that tracks an app (and can read the dataset) is told, through the
in-app notifications of ``notifications.service`` (and e-mail when configured), when the app
crossed its threshold. Backfilled days (older than the newest one) and re-imports of a day
already stored raise nothing: only news is news.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.errors import N_
from guanxi.core.settings import Settings
from guanxi.market.models import (
    ChartDataset,
    ChartEntry,
    ChartSnapshot,
    SnapshotStatus,
    TrackedApp,
)
from guanxi.notifications import service as notifications

ENTERED_TOP = "market_entered_top"
LEFT_TOP = "market_left_top"
MESSAGES: dict[str, str] = {
    ENTERED_TOP: N_("{app} entered the top {top} of the {chart} chart in {country}: #{rank}."),
    LEFT_TOP: N_("{app} left the top {top} of the {chart} chart in {country} (was #{previous})."),
}
notifications.register_kinds(MESSAGES)


@dataclass(frozen=True)
class Crossing:
    """A tracked app crossing its threshold in one country."""

    tracked: TrackedApp
    snapshot: ChartSnapshot
    kind: str
    rank: int | None
    previous: int | None


def crossing(rank: int | None, previous: int | None, *, top: int) -> str | None:
    """ENTERED_TOP, LEFT_TOP or None for a move from ``previous`` to ``rank`` (None: absent)."""
    was_in = previous is not None and previous <= top
    is_in = rank is not None and rank <= top
    if is_in and not was_in:
        return ENTERED_TOP
    if was_in and not is_in:
        return LEFT_TOP
    return None


def _previous(db: Session, snapshot: ChartSnapshot) -> ChartSnapshot | None:
    same_chart = (
        ChartSnapshot.dataset_id == snapshot.dataset_id,
        ChartSnapshot.store == snapshot.store,
        ChartSnapshot.country == snapshot.country,
        ChartSnapshot.chart == snapshot.chart,
        ChartSnapshot.category == snapshot.category,
        ChartSnapshot.status == SnapshotStatus.OK,
    )
    newest = db.scalar(select(func.max(ChartSnapshot.day)).where(*same_chart))
    if newest is None or newest > snapshot.day:
        return None  # a backfill: not news
    query = (
        select(ChartSnapshot)
        .where(*same_chart, ChartSnapshot.day < snapshot.day)
        .order_by(ChartSnapshot.day.desc())
        .limit(1)
    )
    return db.scalar(query)


def _ranks(db: Session, snapshot_id: int, app_keys: list[str]) -> dict[str, int]:
    query = select(ChartEntry.app_key, ChartEntry.rank).where(
        ChartEntry.snapshot_id == snapshot_id, ChartEntry.app_key.in_(app_keys)
    )
    return dict(db.execute(query).all())


def find_crossings(
    db: Session, *, dataset: ChartDataset, snapshots: Sequence[ChartSnapshot]
) -> list[Crossing]:
    """The threshold crossings of tracked apps in ``snapshots`` (newly stored ones)."""
    query = select(TrackedApp).where(TrackedApp.alert_top_n > 0)
    if dataset.workspace_id is not None:
        query = query.where(TrackedApp.workspace_id == dataset.workspace_id)
    tracked = list(db.scalars(query))
    if not tracked:
        return []
    keys = sorted({app.app_key for app in tracked})
    found = []
    for snapshot in snapshots:
        if snapshot.status != SnapshotStatus.OK:
            continue
        previous = _previous(db, snapshot)
        if previous is None:
            continue
        now, before = _ranks(db, snapshot.id, keys), _ranks(db, previous.id, keys)
        for app in tracked:
            rank, prior = now.get(app.app_key), before.get(app.app_key)
            kind = crossing(rank, prior, top=app.alert_top_n)
            if kind is not None:
                found.append(Crossing(app, snapshot, kind, rank, prior))
    return found


def check_alerts(
    db: Session, *, settings: Settings, dataset: ChartDataset, snapshots: Sequence[ChartSnapshot]
) -> list[Crossing]:
    """Notify the managers of each workspace whose tracked apps crossed a threshold."""
    crossings = find_crossings(db, dataset=dataset, snapshots=snapshots)
    for event in crossings:
        snapshot, app = event.snapshot, event.tracked
        params = {
            "app": app.name,
            "top": app.alert_top_n,
            "chart": str(snapshot.chart),
            "country": snapshot.country,
            "rank": event.rank,
            "previous": event.previous,
        }
        notifications.notify(
            db,
            settings=settings,
            workspace_id=app.workspace_id,
            kind=event.kind,
            params=params,
            recipients=notifications.managers_of(db, workspace_id=app.workspace_id),
            link=f"/w/{_slug(db, app.workspace_id)}/market/history?dataset={dataset.id}"
            f"&app={app.app_key}",
        )
    return crossings


def _slug(db: Session, workspace_id: int) -> str:
    workspace = db.get(Workspace, workspace_id)
    return workspace.slug if workspace else ""
