"""End to end: the listening dashboard's JSON API gives the same figures on either store."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.devtools.demo.listening import load_demo
from guanxi.listening.insight.service import PANELS
from guanxi.listening.mentions.models import MentionEnrichment
from guanxi.listening.topics import service as topics
from guanxi.listening.topics.models import TopicQuery
from tests.analytics.conftest import use_store
from tests.conftest import UserFactory, WorkspaceFactory, sign_in


def _figures(web: TestClient, queries: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for query in queries:
        for panel in PANELS:
            response = web.get(f"/api/v1/w/demo/listen/dashboard/{panel}?{query}")
            assert response.status_code == 200, (panel, query, response.text)
            found[f"{panel}?{query}"] = response.json()
        for page in (1, 2):
            response = web.get(f"/api/v1/w/demo/listen/posts?{query}&page={page}")
            assert response.status_code == 200, (query, response.text)
            found[f"posts?{query}&page={page}"] = response.json()
    return found


def test_the_demo_dashboard_is_the_same_on_clickhouse(
    db: Session,
    client: TestClient,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the demo workspace's mentions and topics, enriched and matched on the SQL
    store, when the same mentions are written to ClickHouse, every panel and page of posts
    of the API answers the same JSON under each filter."""
    use_store(monkeypatch, None)
    workspace = make_workspace("demo", owner=make_user("owner@demo.example"))
    load_demo(db, workspace=workspace)
    db.commit()
    ids = list(
        db.scalars(
            select(MentionEnrichment.mention_id).where(
                MentionEnrichment.workspace_id == workspace.id
            )
        )
    )
    assert len(ids) > 100  # the demo's mentions are enriched
    topic_ids = list(
        db.scalars(select(TopicQuery.id).where(TopicQuery.workspace_id == workspace.id))
    )
    sign_in(client, "owner@demo.example")
    queries = [
        "",
        "sentiment=negative",
        "platform=weibo&kind=personal",
        f"topic={topic_ids[0]}",
        f"topic={topic_ids[0]}&topic={topic_ids[1]}&sentiment=positive",
        "start=2000-01-01&end=2000-01-31",
    ]
    on_sql = _figures(client, queries)
    use_store(monkeypatch, clickhouse)
    topics.match_mention_ids(db, workspace_id=workspace.id, mention_ids=ids)
    db.commit()
    on_clickhouse = _figures(client, queries)
    assert on_clickhouse == on_sql
    assert on_sql["volume?"]["series"]  # the comparison is over real figures
