"""``guanxi analytics migrate`` for measure's and convert's facts: every copy they declare
walks its months and finds the same checksums on both sides, a rerun copies nothing, a
month that differs is reported, and the hourly counts of clicks a retention deleted are
carried over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.analytics import copy as analytics_copy
from guanxi.analytics.client import AnalyticsClient
from guanxi.channels.models import Channel
from guanxi.cli.analytics_migrate import declared_copies
from guanxi.convert import retention as convert_retention
from guanxi.convert.models import LinkClick
from guanxi.convert.rollup_models import ClickHour
from guanxi.core.db import utcnow
from guanxi.devtools.demo.analytics import load_demo as load_analytics_demo
from guanxi.devtools.demo.convert import load_demo as load_convert_demo
from tests.analytics.conftest import use_convert_store, use_measure_store
from tests.conftest import UserFactory, WorkspaceFactory

COPIED = {
    "measure_post_snapshots",
    "measure_account_days",
    "measure_account_day_breakdowns",
    "convert_clicks",
    "convert_click_hours",
    "convert_code_events",
    "convert_code_event_hours",
}


@pytest.fixture
def demo(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Workspace:
    """The demo's accounts, posts and conversions on the SQL stores, with the clicks older
    than 60 days deleted by the retention (their hours counted)."""
    use_measure_store(monkeypatch, None)
    use_convert_store(monkeypatch, None)
    workspace = make_workspace("demo", owner=make_user("owner@demo.example"))
    for platform in ("weibo", "wechat", "douyin"):
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
    load_analytics_demo(db, workspace=workspace)
    load_convert_demo(db, workspace=workspace)
    db.commit()
    while convert_retention.prune_clicks(
        db, workspace_id=workspace.id, before=utcnow() - timedelta(days=60), limit=5_000
    ):
        db.commit()
    db.commit()
    return workspace


def _copies() -> list[analytics_copy.AnalyticsCopy]:
    return [copy for copy in declared_copies() if copy.name in COPIED]


def test_measure_and_convert_copy_verify_and_resume(
    db: Session, demo: Workspace, clickhouse: AnalyticsClient
) -> None:
    """Given the demo's facts in SQL (some clicks already counted into hours and deleted),
    when every declared copy of measure and convert runs in small batches, then every month
    of every copy has the same count and checksum in ClickHouse; a second run copies
    nothing; a click deleted from ClickHouse makes its month differ."""
    assert int(db.scalar(select(func.count()).select_from(ClickHour)) or 0) > 0
    copies = _copies()
    assert {copy.name for copy in copies} == COPIED  # declared by the capabilities

    copied = {
        copy.name: analytics_copy.copy_months(db, clickhouse, copy, batch=400) for copy in copies
    }
    assert copied["measure_post_snapshots"] > 0
    assert copied["measure_account_days"] > 0
    assert copied["convert_clicks"] > 0
    assert copied["convert_click_hours"] > 0
    for copy in copies:
        checks = analytics_copy.verify(db, clickhouse, copy)
        assert checks or copied[copy.name] == 0, copy.name  # the demo has no breakdowns
        assert [check for check in checks if not check.matches] == [], copy.name
        assert sum(check.sql_count for check in checks) == sum(
            check.store_count for check in checks
        )

    assert all(analytics_copy.copy_months(db, clickhouse, copy) == 0 for copy in copies)

    clicks = next(copy for copy in copies if copy.name == "convert_clicks")
    newest = db.scalars(select(LinkClick).order_by(LinkClick.clicked_at.desc()).limit(1)).one()
    clickhouse.command(
        "DELETE FROM convert_clicks WHERE click_id = {c:String}", {"c": newest.click_id}
    )
    differing = [
        check for check in analytics_copy.verify(db, clickhouse, clicks) if not check.matches
    ]
    assert [check.month for check in differing] == [f"{newest.clicked_at:%Y-%m}"]
