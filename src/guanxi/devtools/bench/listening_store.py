"""The dashboard benchmark on the ClickHouse store: copy the filled facts, serve from it.

``guanxi bench dashboard --analytics-url chdb:///dir`` fills the SQL database as usual, then
writes every mention's facts to a scratch database of that ClickHouse through the store's
own write path (``ClickHouseMentionStore.write``: read the stored state, insert what
changed), and times the same API calls with ``GUANXI_ANALYTICS_URL`` pointing there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from guanxi.analytics import migrations
from guanxi.analytics.client import AnalyticsClient, connect
from guanxi.core.db import make_session_factory
from guanxi.core.settings import get_settings
from guanxi.devtools.bench.common import Progress
from guanxi.listening.mentions.models import MentionEnrichment
from guanxi.listening.store.base import MentionFact
from guanxi.listening.store.clickhouse import ClickHouseMentionStore
from guanxi.listening.topics.models import MentionFacet, TopicMatch

COPY_BATCH = 20_000
SETTING = "GUANXI_ANALYTICS_URL"


@contextmanager
def scratch_store(url: str) -> Iterator[tuple[AnalyticsClient, str]]:
    """A migrated scratch database on ``url``'s ClickHouse, dropped afterwards; yields the
    client and the address that names it."""
    database = f"bench_{secrets.token_hex(5)}"
    client = connect(url, database=database)
    try:
        migrations.upgrade(client, ("guanxi.listening.store.clickhouse_migrations",))
        parts = urlsplit(url)
        if parts.scheme == "chdb":  # the directory is the path: the database is a parameter
            named = f"chdb://{parts.path}?database={database}"
        else:
            named = parts._replace(path=f"/{database}").geturl()
        yield client, named
    finally:
        client.command(f"DROP DATABASE IF EXISTS {database}")


def copy_facts(engine: Engine, client: AnalyticsClient, *, progress: Progress) -> int:
    """Write every MentionFacet (with its topics and keywords) to the ClickHouse store."""
    copied = 0
    last = 0
    with make_session_factory(engine)() as db:
        store = ClickHouseMentionStore(db, client)
        total = db.query(MentionFacet).count()
        while True:
            rows = db.execute(
                select(MentionFacet, MentionEnrichment.keywords)
                .join(MentionEnrichment, MentionEnrichment.mention_id == MentionFacet.mention_id)
                .where(MentionFacet.mention_id > last)
                .order_by(MentionFacet.mention_id)
                .limit(COPY_BATCH)
            ).all()
            if not rows:
                return copied
            ids = [facet.mention_id for facet, _keywords in rows]
            topics: dict[int, list[int]] = {}
            for mention_id, topic_id in db.execute(
                select(TopicMatch.mention_id, TopicMatch.topic_id).where(
                    TopicMatch.mention_id.between(ids[0], ids[-1])
                )
            ):
                topics.setdefault(mention_id, []).append(topic_id)
            store.write(
                [
                    MentionFact(
                        mention_id=facet.mention_id,
                        workspace_id=facet.workspace_id,
                        posted_at=facet.posted_at,
                        platform=facet.platform,
                        sentiment=facet.sentiment,
                        source_kind=facet.source_kind,
                        stage=facet.stage,
                        author_id=facet.author_id,
                        topic_ids=tuple(sorted(topics.get(facet.mention_id, ()))),
                        keywords=tuple(keywords or ()),
                    )
                    for facet, keywords in rows
                ]
            )
            copied += len(rows)
            last = ids[-1]
            progress("clickhouse", copied, total)


@contextmanager
def serving_from(url: str) -> Iterator[None]:
    """The process's services use the analytics store at ``url`` until the block ends."""
    before = os.environ.get(SETTING)
    os.environ[SETTING] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SETTING, None)
        else:
            os.environ[SETTING] = before
        get_settings.cache_clear()
