"""Measure's analytics store: the snapshot and account-day facts every page reads (see
``base``).

``measure_store(db)`` is the one the instance is configured with: the SQL database by
default, ClickHouse when ``GUANXI_ANALYTICS_URL`` is set (docs/scale.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient, shared_client
from guanxi.core.settings import get_settings
from guanxi.measure.store.base import MeasureStore
from guanxi.measure.store.clickhouse import ClickHouseMeasureStore
from guanxi.measure.store.sql import SqlMeasureStore


def analytics_client() -> AnalyticsClient | None:
    """The process's ClickHouse client, or None when the analytics stay in SQL."""
    url = get_settings().analytics_url
    return shared_client(url) if url else None


def measure_store(db: Session) -> MeasureStore:
    """The configured store (the SQL one works through ``db``)."""
    client = analytics_client()
    if client is None:
        return SqlMeasureStore(db)
    return ClickHouseMeasureStore(client, db)
