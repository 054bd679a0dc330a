"""Chart data in and out of the database: datasets, snapshots, tracked apps.

Reading rules: a workspace sees the public datasets (fetched on the schedule, no
workspace) and its own; anything else answers "not found". Writing rules: a chart is
stored whole or not at all; storing the same chart again replaces its ranks; a failed
fetch never replaces ranks already stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, ConflictError, NotFoundError, UserError
from guanxi.core.settings import Settings
from guanxi.core.upsert import create_unique, get_or_create, insert_statement
from guanxi.market.alerts import check_alerts
from guanxi.market.fetchers import ParsedChart
from guanxi.market.models import (
    Chart,
    ChartDataset,
    ChartEntry,
    ChartSnapshot,
    SnapshotStatus,
    Store,
    TrackedApp,
)

NO_SUCH_DATASET = N_("No such chart dataset in this workspace. Pick one from the list.")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
APP_NAME_MAX = 120
APP_KEY_MAX = 200
CHUNK = 1000  # ids per IN (...) list, well under SQLite's and PostgreSQL's limits


# --- Datasets --------------------------------------------------------------------------------


def visible_datasets(db: Session, *, workspace: Workspace) -> list[ChartDataset]:
    """The public datasets and the workspace's own, its own first, newest first."""
    query = (
        select(ChartDataset)
        .where(or_(ChartDataset.workspace_id.is_(None), ChartDataset.workspace_id == workspace.id))
        .order_by(ChartDataset.workspace_id.is_(None), ChartDataset.id.desc())
    )
    return list(db.scalars(query))


def get_dataset(db: Session, *, workspace: Workspace, dataset_id: int) -> ChartDataset:
    """A dataset the workspace may read; NotFound for another workspace's."""
    dataset = db.get(ChartDataset, dataset_id)
    if dataset is None or dataset.workspace_id not in (None, workspace.id):
        raise NotFoundError(NO_SUCH_DATASET)
    return dataset


def default_dataset(db: Session, *, workspace: Workspace) -> ChartDataset | None:
    """The dataset pages show when none is chosen: the workspace's newest, else public."""
    datasets = visible_datasets(db, workspace=workspace)
    return datasets[0] if datasets else None


def find_or_create_dataset(
    db: Session,
    *,
    workspace: Workspace | None,
    name: str,
    source: str,
    illustrative: bool = False,
    note: str = "",
) -> ChartDataset:
    """The dataset of this name (public when ``workspace`` is None), created if missing."""
    name = name.strip()
    if not name or len(name) > APP_NAME_MAX:
        raise UserError(N_("Name the dataset with 1 to {max} characters."), max=APP_NAME_MAX)
    owner = ChartDataset.workspace_id
    # Two imports may create the same dataset at once; its unique index is partial.
    dataset, _ = get_or_create(
        db,
        ChartDataset,
        key={"workspace_id": workspace.id if workspace else None, "name": name},
        defaults={"source": source, "illustrative": illustrative, "note": note},
        unique=["name"] if workspace is None else ["workspace_id", "name"],
        unique_where=owner.is_(None) if workspace is None else owner.is_not(None),
    )
    return dataset


# --- Snapshots -------------------------------------------------------------------------------


def _snapshot_query(
    dataset_id: int, store: Store, country: str, chart: Chart, category: str, day: date
) -> Select[ChartSnapshot]:
    return select(ChartSnapshot).where(
        ChartSnapshot.dataset_id == dataset_id,
        ChartSnapshot.store == store,
        ChartSnapshot.country == country,
        ChartSnapshot.chart == chart,
        ChartSnapshot.category == category,
        ChartSnapshot.day == day,
    )


def _snapshot(
    db: Session,
    *,
    dataset_id: int,
    key: tuple[Store, str, Chart, str, date],
    status: SnapshotStatus = SnapshotStatus.OK,
) -> tuple[ChartSnapshot, bool]:
    """The snapshot of the chart ``key`` (store, country, chart, category, day), created
    empty when missing; and whether it was created now."""
    store, country, chart, category, day = key
    return get_or_create(
        db,
        ChartSnapshot,
        key={
            "dataset_id": dataset_id,
            "store": store,
            "country": country,
            "chart": chart,
            "category": category,
            "day": day,
        },
        defaults={"status": status, "attempts": 0},
    )


@dataclass(frozen=True)
class RecordedChart:
    """What storing one chart did."""

    snapshot: ChartSnapshot
    created: bool  # False: an existing snapshot of that day was replaced


def record_chart(db: Session, *, dataset: ChartDataset, chart: ParsedChart) -> RecordedChart:
    """Store ``chart`` in ``dataset``, replacing the ranks of the same chart and day."""
    key = (chart.store, chart.country, chart.chart, chart.category, chart.day)
    snapshot = db.scalar(_snapshot_query(dataset.id, *key))
    created = False
    if snapshot is None:  # two fetches of the same chart may store it at once
        snapshot, created = _snapshot(db, dataset_id=dataset.id, key=key)
    if not created:
        db.execute(delete(ChartEntry).where(ChartEntry.snapshot_id == snapshot.id))
    snapshot.status = SnapshotStatus.OK
    snapshot.error = ""
    snapshot.attempts = ChartSnapshot.attempts + 1  # in SQL: two fetches at once count twice
    snapshot.captured_at = utcnow()
    snapshot.source_url = chart.source_url[:500]
    if chart.entries:
        db.execute(
            insert(ChartEntry),
            [
                {
                    "snapshot_id": snapshot.id,
                    "rank": e.rank,
                    "app_key": e.app_key[:APP_KEY_MAX],
                    "app_name": e.app_name[:200],
                    "publisher": e.publisher[:200],
                }
                for e in chart.entries
            ],
        )
    db.flush()
    db.refresh(snapshot, ["attempts"])  # the count SQL made, readable after the session
    return RecordedChart(snapshot, created)


def record_failure(
    db: Session,
    *,
    dataset: ChartDataset,
    store: Store,
    country: str,
    chart: Chart,
    category: str,
    day: date,
    error: str,
    source_url: str = "",
) -> ChartSnapshot:
    """Note that fetching this chart failed; ranks already stored for the day are kept."""
    key = (store, country, chart, category, day)
    snapshot = db.scalar(_snapshot_query(dataset.id, *key))
    if snapshot is None:
        snapshot, _ = _snapshot(db, dataset_id=dataset.id, key=key, status=SnapshotStatus.FAILED)
    snapshot.attempts = ChartSnapshot.attempts + 1  # in SQL: two fetches at once count twice
    snapshot.error = error[:2000]
    snapshot.source_url = source_url[:500]
    if snapshot.status != SnapshotStatus.OK:
        snapshot.status = SnapshotStatus.FAILED
        snapshot.captured_at = utcnow()
    db.flush()
    db.refresh(snapshot, ["attempts"])  # the count SQL made, readable after the session
    return snapshot


SnapshotKey = tuple[str, str, str, str, date]


def _key(chart: ParsedChart) -> SnapshotKey:
    return (chart.store.value, chart.country, chart.chart.value, chart.category, chart.day)


def _existing_keys(db: Session, *, dataset: ChartDataset) -> set[SnapshotKey]:
    query = select(
        ChartSnapshot.store,
        ChartSnapshot.country,
        ChartSnapshot.chart,
        ChartSnapshot.category,
        ChartSnapshot.day,
    ).where(ChartSnapshot.dataset_id == dataset.id)
    return {(str(s), c, str(ch), cat, d) for s, c, ch, cat, d in db.execute(query)}


def _insert_new(
    db: Session, *, dataset: ChartDataset, charts: Sequence[ParsedChart]
) -> tuple[list[int], list[ParsedChart]]:
    """Insert charts that have no snapshot yet in two bulk statements (an import of weeks
    of charts is thousands of them); the new snapshots' ids, and the charts another import
    stored meanwhile (left out here)."""
    if not charts:
        return [], []
    captured = utcnow()
    rows = [
        {
            "dataset_id": dataset.id,
            "store": c.store,
            "country": c.country,
            "chart": c.chart,
            "category": c.category,
            "day": c.day,
            "captured_at": captured,
            "status": SnapshotStatus.OK,
            "error": "",
            "attempts": 1,
            "source_url": c.source_url[:500],
        }
        for c in charts
    ]
    table = ChartSnapshot.__table__.c
    key_columns = [table.store, table.country, table.chart, table.category, table.day]
    statement = (
        insert_statement(db, ChartSnapshot)
        .on_conflict_do_nothing(index_elements=["dataset_id", *(c.name for c in key_columns)])
        .returning(table.id, *key_columns)
    )
    new = {
        (str(s), c, str(ch), cat, d): id_ for id_, s, c, ch, cat, d in db.execute(statement, rows)
    }
    entries = [
        {
            "snapshot_id": new[_key(chart)],
            "rank": e.rank,
            "app_key": e.app_key[:APP_KEY_MAX],
            "app_name": e.app_name[:200],
            "publisher": e.publisher[:200],
        }
        for chart in charts
        if _key(chart) in new
        for e in chart.entries
    ]
    if entries:
        db.execute(insert(ChartEntry), entries)
    taken = [chart for chart in charts if _key(chart) not in new]
    return [new[_key(chart)] for chart in charts if _key(chart) in new], taken


@dataclass(frozen=True)
class ImportReport:
    """What an import stored."""

    charts: int
    entries: int
    replaced: int
    countries: int
    first_day: date | None
    last_day: date | None


def import_charts(
    db: Session,
    *,
    dataset: ChartDataset,
    charts: Sequence[ParsedChart],
    settings: Settings | None = None,
    alert: bool = True,
) -> ImportReport:
    """Store every chart in ``dataset``; newly stored latest charts raise the alerts."""
    charts = list({_key(chart): chart for chart in charts}.values())  # the last one wins
    existing = _existing_keys(db, dataset=dataset)
    fresh = [chart for chart in charts if _key(chart) not in existing]
    stored = [chart for chart in charts if _key(chart) in existing]
    new_ids, taken = _insert_new(db, dataset=dataset, charts=fresh)
    stored += taken  # by another import at the same moment: replaced as if they had been there
    for chart in stored:
        record_chart(db, dataset=dataset, chart=chart)
    replaced = len(stored)
    if alert and settings is not None:
        for start in range(0, len(new_ids), CHUNK):
            chunk = new_ids[start : start + CHUNK]
            new = list(db.scalars(select(ChartSnapshot).where(ChartSnapshot.id.in_(chunk))))
            check_alerts(db, settings=settings, dataset=dataset, snapshots=new)
    days = [chart.day for chart in charts]
    return ImportReport(
        charts=len(charts),
        entries=sum(len(chart.entries) for chart in charts),
        replaced=replaced,
        countries=len({chart.country for chart in charts}),
        first_day=min(days, default=None),
        last_day=max(days, default=None),
    )


@dataclass(frozen=True)
class DatasetSummary:
    """What a dataset holds, for its description on the pages."""

    dataset: ChartDataset
    snapshots: int
    failed: int
    countries: int
    first_day: date | None
    last_day: date | None
    charts: tuple[tuple[Store, Chart, str], ...]


def summarize(db: Session, *, dataset: ChartDataset) -> DatasetSummary:
    """Counts and ranges of ``dataset`` (a few aggregate queries)."""
    ok = ChartSnapshot.status == SnapshotStatus.OK
    base = select(ChartSnapshot).where(ChartSnapshot.dataset_id == dataset.id).subquery()
    row = db.execute(
        select(
            func.count(base.c.id),
            func.count(func.distinct(base.c.country)),
            func.min(base.c.day),
            func.max(base.c.day),
        )
    ).one()
    failed = db.scalar(
        select(func.count(ChartSnapshot.id)).where(ChartSnapshot.dataset_id == dataset.id, ~ok)
    )
    charts = db.execute(
        select(ChartSnapshot.store, ChartSnapshot.chart, ChartSnapshot.category)
        .where(ChartSnapshot.dataset_id == dataset.id, ok)
        .distinct()
        .order_by(ChartSnapshot.store, ChartSnapshot.chart, ChartSnapshot.category)
    ).all()
    return DatasetSummary(
        dataset=dataset,
        snapshots=int(row[0]),
        failed=int(failed or 0),
        countries=int(row[1]),
        first_day=row[2],
        last_day=row[3],
        charts=tuple((Store(s), Chart(c), str(cat)) for s, c, cat in charts),
    )


# --- Tracked apps ----------------------------------------------------------------------------


def list_tracked_apps(db: Session, *, workspace: Workspace) -> list[TrackedApp]:
    """The apps the workspace watches, by name."""
    query = (
        select(TrackedApp)
        .where(TrackedApp.workspace_id == workspace.id)
        .order_by(TrackedApp.name, TrackedApp.id)
    )
    return list(db.scalars(query))


def track_app(
    db: Session,
    *,
    workspace: Workspace,
    app_key: str,
    name: str,
    color: str = "#1f77b4",
    alert_top_n: int = 10,
) -> TrackedApp:
    """Start watching an app; a UserError names the field to fix."""
    app_key, name, color = app_key.strip(), name.strip(), color.strip() or "#1f77b4"
    if not app_key or len(app_key) > APP_KEY_MAX:
        raise UserError(
            N_("Enter the app's store id (e.g. com.tencent.mm), up to {max} characters."),
            max=APP_KEY_MAX,
        )
    if not name or len(name) > APP_NAME_MAX:
        raise UserError(N_("Enter the app's name, 1 to {max} characters."), max=APP_NAME_MAX)
    if not COLOR_RE.match(color):
        raise UserError(N_("{value} is not a colour. Enter it as #RRGGBB."), value=color)
    if not 0 <= alert_top_n <= 200:
        raise UserError(N_("The alert threshold is a top N from 1 to 200, or 0 for no alerts."))
    values = {
        "workspace_id": workspace.id,
        "app_key": app_key,
        "name": name,
        "color": color.lower(),
        "alert_top_n": alert_top_n,
    }
    tracked = create_unique(db, TrackedApp, values, unique=["workspace_id", "app_key"])
    if tracked is None:
        raise ConflictError(N_("{app} is already tracked."), app=app_key)
    return tracked


def untrack_app(db: Session, *, workspace: Workspace, tracked_id: int) -> None:
    """Stop watching an app; NotFound for another workspace's."""
    tracked = db.get(TrackedApp, tracked_id)
    if tracked is None or tracked.workspace_id != workspace.id:
        raise NotFoundError(N_("This workspace does not track that app."))
    db.delete(tracked)
    db.flush()


def app_names(db: Session, *, dataset: ChartDataset, app_keys: Iterable[str]) -> dict[str, str]:
    """The latest name each app had in the dataset's charts."""
    keys = list(dict.fromkeys(app_keys))
    if not keys:
        return {}
    query = (
        select(ChartEntry.app_key, ChartEntry.app_name)
        .join(ChartSnapshot, ChartSnapshot.id == ChartEntry.snapshot_id)
        .where(ChartSnapshot.dataset_id == dataset.id, ChartEntry.app_key.in_(keys))
        .order_by(ChartSnapshot.day)
    )
    return dict(db.execute(query).all())


def find_app(
    db: Session, *, workspace: Workspace, dataset: ChartDataset, text: str
) -> tuple[str, str] | None:
    """The app a person typed, by name or store id: a tracked app first, then any app in the
    dataset's charts (an exact name before a partial one); ``(app_key, name)`` or None."""
    wanted = text.strip()
    if not wanted:
        return None
    folded = wanted.casefold()
    for app in list_tracked_apps(db, workspace=workspace):
        if folded in (app.app_key.casefold(), app.name.casefold()):
            return app.app_key, app.name
    pattern = f"%{wanted.replace('%', '').replace('_', '')}%"
    query = (
        select(ChartEntry.app_key, ChartEntry.app_name)
        .join(ChartSnapshot, ChartSnapshot.id == ChartEntry.snapshot_id)
        .where(
            ChartSnapshot.dataset_id == dataset.id,
            or_(ChartEntry.app_key == wanted, ChartEntry.app_name.ilike(pattern)),
        )
        .group_by(ChartEntry.app_key, ChartEntry.app_name)
        .order_by(func.min(ChartEntry.rank))
        .limit(50)
    )
    found = [(str(key), str(name)) for key, name in db.execute(query)]
    exact = [pair for pair in found if folded in (pair[0].casefold(), pair[1].casefold())]
    best = exact or found
    return best[0] if best else None
