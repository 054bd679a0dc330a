"""Convert's analytics store: the click and scene-code event facts (see ``base``).

``convert_store(db)`` is the one the instance is configured with: the SQL database by
default, ClickHouse when ``GUANXI_ANALYTICS_URL`` is set (docs/scale.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient, shared_client
from guanxi.convert.store.base import ConvertStore
from guanxi.convert.store.clickhouse import ClickHouseConvertStore
from guanxi.convert.store.sql import SqlConvertStore
from guanxi.core.settings import get_settings


def analytics_client() -> AnalyticsClient | None:
    """The process's ClickHouse client, or None when the facts stay in SQL."""
    url = get_settings().analytics_url
    return shared_client(url) if url else None


def convert_store(db: Session) -> ConvertStore:
    """The configured store (the SQL one works through ``db``)."""
    client = analytics_client()
    if client is None:
        return SqlConvertStore(db)
    return ClickHouseConvertStore(client, db)
