"""Convert's raw rows under a workspace's retention: clicks and scene-code events older than
the period go, their counts kept per hour (``rollup_models`` on SQL, the hourly tables on
ClickHouse); the pages add those counts to the raw rows'. The rows an order points back to
are kept, whatever their age: the clicks orders carry the id of, and the code events of
WeChat users who ordered, so the revenue of any period is attributed as it was."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.convert.models import Order
from guanxi.convert.store import convert_store
from guanxi.convert.store.base import Kept
from guanxi.core.errors import N_
from guanxi.core.retention import RetentionKind

CLICKS = "convert.clicks"
CODE_EVENTS = "convert.code_events"
LONGEST_WINDOW_DAYS = 30  # the longest attribution lookback a workspace may choose


def _ordered_click_ids(db: Session, workspace_id: int) -> Kept:
    def kept() -> set[str]:
        return set(
            db.scalars(
                select(Order.click_id).where(
                    Order.workspace_id == workspace_id, Order.click_id != ""
                )
            )
        )

    return kept


def _ordering_openids(db: Session, workspace_id: int) -> Kept:
    def kept() -> set[str]:
        return set(
            db.scalars(
                select(Order.openid).where(Order.workspace_id == workspace_id, Order.openid != "")
            )
        )

    return kept


def count_clicks(db: Session, *, workspace_id: int, before: datetime) -> int:
    """The workspace's clicks before ``before`` that no order points back to."""
    return convert_store(db).count_clicks_before(
        workspace_id=workspace_id, before=before, kept=_ordered_click_ids(db, workspace_id)
    )


def prune_clicks(db: Session, *, workspace_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` old clicks, counted first into their hours."""
    return convert_store(db).prune_clicks(
        workspace_id=workspace_id,
        before=before,
        limit=limit,
        kept=_ordered_click_ids(db, workspace_id),
    )


def count_code_events(db: Session, *, workspace_id: int, before: datetime) -> int:
    """The workspace's scans and follows before ``before`` of people who never ordered."""
    return convert_store(db).count_code_events_before(
        workspace_id=workspace_id, before=before, kept=_ordering_openids(db, workspace_id)
    )


def prune_code_events(db: Session, *, workspace_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` old scans and follows, counted first into their hours."""
    return convert_store(db).prune_code_events(
        workspace_id=workspace_id,
        before=before,
        limit=limit,
        kept=_ordering_openids(db, workspace_id),
    )


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
