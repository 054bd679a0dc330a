"""Convert's raw rows under a workspace's retention: clicks and scene-code events older than
the period go, counted first per hour in ``rollup_models`` (the pages add those counts to
the raw rows'). The rows an order points back to are kept, whatever their age: the
clicks orders carry the id of, and the code events of WeChat users who ordered, so the
revenue of any period is attributed as it was."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session

from guanxi.convert.models import LinkClick, Order
from guanxi.convert.rollup_models import ClickHour, CodeEventHour
from guanxi.convert.scene_models import CodeEvent
from guanxi.core.db import Base
from guanxi.core.errors import N_
from guanxi.core.in_lists import among
from guanxi.core.retention import RetentionKind
from guanxi.core.upsert import insert_statement

CLICKS = "convert.clicks"
CODE_EVENTS = "convert.code_events"
LONGEST_WINDOW_DAYS = 30  # the longest attribution lookback a workspace may choose


def _hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _add_counts(
    db: Session,
    model: type[Base],
    counts: Mapping[tuple[Any, ...], Mapping[str, int]],
    *,
    key: Sequence[str],
    workspace_id: int,
) -> None:
    """Add ``counts`` (per key) to the rows of ``model`` with the same key, or insert them."""
    if not counts:
        return
    rows = [
        {"workspace_id": workspace_id, **dict(zip(key, values, strict=True)), **figures}
        for values, figures in counts.items()
    ]
    statement = insert_statement(db, model)
    counters = [name for name in rows[0] if name not in key and name != "workspace_id"]
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: getattr(model, name) + statement.excluded[name] for name in counters},
    )
    db.execute(statement, rows)


# --- Clicks ----------------------------------------------------------------------------------


def _old_clicks(workspace_id: int, before: datetime) -> tuple[ColumnElement[bool], ...]:
    ordered = exists().where(
        Order.workspace_id == workspace_id, Order.click_id == LinkClick.click_id
    )
    return (LinkClick.workspace_id == workspace_id, LinkClick.clicked_at < before, ~ordered)


def count_clicks(db: Session, *, workspace_id: int, before: datetime) -> int:
    """The workspace's clicks before ``before`` that no order points back to."""
    query = select(func.count()).select_from(LinkClick).where(*_old_clicks(workspace_id, before))
    return int(db.scalar(query) or 0)


def prune_clicks(db: Session, *, workspace_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` old clicks and count them into their hours."""
    ids = list(
        db.scalars(select(LinkClick.id).where(*_old_clicks(workspace_id, before)).limit(limit))
    )
    if not ids:
        return 0
    # Only what this statement deleted is counted: a run beside it (another worker) that
    # deleted the same rows first counted them itself.
    rows = db.execute(
        delete(LinkClick)
        .where(among(db, LinkClick.id, ids))
        .returning(
            LinkClick.link_id,
            LinkClick.clicked_at,
            LinkClick.platform,
            LinkClick.counted,
            LinkClick.bot,
        )
    ).all()
    hours: dict[tuple[Any, ...], Counter[str]] = {}
    for row in rows:
        figures = hours.setdefault(
            (row.link_id, _hour_start(row.clicked_at), row.platform), Counter()
        )
        figures["visits"] += 1
        figures["counted"] += int(row.counted)
        figures["bots"] += int(row.bot)
    counts = {k: {n: v[n] for n in ("visits", "counted", "bots")} for k, v in hours.items()}
    _add_counts(
        db, ClickHour, counts, key=("link_id", "hour_start", "platform"), workspace_id=workspace_id
    )
    return len(rows)


# --- Scene-code events -----------------------------------------------------------------------


def _old_events(workspace_id: int, before: datetime) -> tuple[ColumnElement[bool], ...]:
    ordered = exists().where(Order.workspace_id == workspace_id, Order.openid == CodeEvent.openid)
    return (CodeEvent.workspace_id == workspace_id, CodeEvent.occurred_at < before, ~ordered)


def count_code_events(db: Session, *, workspace_id: int, before: datetime) -> int:
    """The workspace's scans and follows before ``before`` of people who never ordered."""
    query = select(func.count()).select_from(CodeEvent).where(*_old_events(workspace_id, before))
    return int(db.scalar(query) or 0)


def prune_code_events(db: Session, *, workspace_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` old scans and follows and count them into their hours."""
    ids = list(
        db.scalars(select(CodeEvent.id).where(*_old_events(workspace_id, before)).limit(limit))
    )
    if not ids:
        return 0
    rows = db.execute(  # only what this statement deleted is counted (see prune_clicks)
        delete(CodeEvent)
        .where(among(db, CodeEvent.id, ids))
        .returning(CodeEvent.code_id, CodeEvent.kind, CodeEvent.occurred_at)
    ).all()
    # An event of no code (a follow from search) is counted nowhere: it goes uncounted.
    hours = Counter(
        (row.code_id, _hour_start(row.occurred_at), str(row.kind))
        for row in rows
        if row.code_id is not None
    )
    counts = {key: {"events": count} for key, count in hours.items()}
    _add_counts(
        db, CodeEventHour, counts, key=("code_id", "hour_start", "kind"), workspace_id=workspace_id
    )
    return len(rows)


_WINDOW_REASON = N_(
    "orders are attributed to the touches of the 30 days before them (the longest lookback window)."
)

CLICK_KIND = RetentionKind(
    key=CLICKS,
    label=N_("Tracked-link clicks"),
    description=N_(
        "Each visit of a tracked link. The counts per link, app and hour stay, and so do the "
        "clicks an order points back to."
    ),
    minimum_days=LONGEST_WINDOW_DAYS,
    minimum_reason=_WINDOW_REASON,
    prune=prune_clicks,
    count=count_clicks,
)

CODE_EVENT_KIND = RetentionKind(
    key=CODE_EVENTS,
    label=N_("Scene-code scans and follows"),
    description=N_(
        "Each scan or follow of a WeChat scene code. The counts per code and hour stay, and "
        "so do the events of people who ordered; the paths of people who never ordered "
        "(the Markov estimate) are kept only for the days kept."
    ),
    minimum_days=LONGEST_WINDOW_DAYS,
    minimum_reason=_WINDOW_REASON,
    prune=prune_code_events,
    count=count_code_events,
)
