"""Listening's analytics store: the mention facts every panel counts (see ``base``).

``mention_store(db)`` is the one the instance is configured with: the SQL database by
default, ClickHouse when ``GUANXI_ANALYTICS_URL`` is set (docs/scale.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient, shared_client
from guanxi.core.settings import get_settings
from guanxi.listening.store.base import MentionStore
from guanxi.listening.store.clickhouse import ClickHouseMentionStore
from guanxi.listening.store.sql import SqlMentionStore


def analytics_client() -> AnalyticsClient | None:
    """The process's ClickHouse client, or None when the analytics stay in SQL."""
    url = get_settings().analytics_url
    return shared_client(url) if url else None


def mention_store(db: Session) -> MentionStore:
    """The configured store, reading authors (and SQL facts) through ``db``."""
    client = analytics_client()
    if client is None:
        return SqlMentionStore(db)
    return ClickHouseMentionStore(db, client)
