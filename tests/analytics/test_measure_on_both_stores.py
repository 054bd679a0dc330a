"""End to end: the analytics pages' JSON API gives the same figures on either store, and the
copy of the SQL facts to ClickHouse (``MeasureCopy``) carries every one of them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.analytics.client import AnalyticsClient
from guanxi.channels.models import Channel
from guanxi.core.db import utcnow
from guanxi.devtools.demo.analytics import load_demo
from guanxi.measure.models import AccountDay, AccountDayBreakdown, MeasuredPost, PostSnapshot
from guanxi.measure.store.copy import COPIES, month_bounds
from tests.analytics.conftest import use_measure_store
from tests.conftest import UserFactory, WorkspaceFactory, sign_in

PLATFORMS = ("weibo", "wechat", "douyin", "xiaohongshu")
API = "/api/v1/w/demo/analytics"


def _figures(web: TestClient, channel_ids: list[int], post_ids: list[int]) -> dict[str, Any]:
    periods = ["", "days=7", "days=90", "start=2000-01-01&end=2000-01-31"]
    paths = [f"overview?{p}" for p in periods]
    paths += [f"posts?{p}&sort={s}" for p in periods for s in ("published", "views", "rate")]
    paths += ["posts?days=90&page=2", "posts?days=90&sort=engagements&page=3"]
    paths += [f"accounts/{c}/days?days=90" for c in channel_ids]
    paths += [f"posts/{p}/curve" for p in post_ids]
    paths += ["content?days=90", "top?days=90"]
    found: dict[str, Any] = {}
    for path in paths:
        response = web.get(f"{API}/{path}")
        assert response.status_code == 200, (path, response.text)
        found[path] = response.json()
    return found


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = month_bounds(month)[1]
    return months


def test_the_demo_analytics_are_the_same_on_clickhouse(
    db: Session,
    client: TestClient,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    clickhouse: AnalyticsClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the demo's 180 days of accounts and posts on the SQL store, when its facts are
    copied to ClickHouse month by month in small batches (one batch sent twice), every
    analytics API answers the same JSON, and ClickHouse holds as many facts as SQL."""
    use_measure_store(monkeypatch, None)
    workspace = make_workspace("demo", owner=make_user("owner@demo.example"))
    for platform in PLATFORMS:
        db.add(
            Channel(
                workspace_id=workspace.id,
                connector="manual",
                platform=platform,
                external_id=f"demo-{platform}",
                name=f"Demo {platform}",
            )
        )
    db.commit()
    load_demo(db, workspace=workspace)
    db.commit()
    channel_ids = list(db.scalars(select(Channel.id).where(Channel.workspace_id == workspace.id)))
    post_ids = list(
        db.scalars(
            select(MeasuredPost.id)
            .where(MeasuredPost.workspace_id == workspace.id)
            .order_by(MeasuredPost.published_at.desc())
            .limit(4)
        )
    )
    sign_in(client, "owner@demo.example")
    on_sql = _figures(client, channel_ids, post_ids)

    first = db.scalar(select(func.min(AccountDay.day)))
    assert first is not None
    # Through this month: the latest snapshots may be of a month after the latest day.
    for copy in COPIES:
        for month in _months(first, utcnow().date()):
            after = 0
            while rows := copy.sql_rows(db, month, after, 500):
                copy.write_rows(clickhouse, rows, f"{month}:{after}")
                copy.write_rows(clickhouse, rows, f"{month}:{after}")  # a resumed copy
                after = rows[-1].id
    sql_counts = [
        db.scalar(select(func.count()).select_from(table))
        for table in (PostSnapshot, AccountDay, AccountDayBreakdown)
    ]
    copied = [clickhouse.rows(f"SELECT count() FROM {copy.table} FINAL")[0][0] for copy in COPIES]
    assert copied == sql_counts
    # The comparison is on real data: the demo's snapshots, and its four accounts' days.
    assert sql_counts[0] > 1000
    assert sql_counts[1] >= 4 * 170

    use_measure_store(monkeypatch, clickhouse)
    on_clickhouse = _figures(client, channel_ids, post_ids)
    assert on_clickhouse == on_sql
    assert on_sql["overview?days=90"]["figures"][0]["trend"]  # real figures, not empty ones
