"""The analytics tables: one column per base metric, and a post's figures in time order."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.measure.models import (
    AccountDay,
    FoundBy,
    MeasuredPost,
    MetricColumns,
    PostSnapshot,
)
from tests.conftest import UserFactory, WorkspaceFactory


def test_every_base_metric_has_a_column_in_every_table_of_figures() -> None:
    """A metric added to the connectors' contract needs its column (and a migration)."""
    for table in (PostSnapshot.__table__, AccountDay.__table__, MeasuredPost.__table__):
        assert {metric.value for metric in Metric} <= set(table.columns.keys())
        assert all(table.columns[metric.value].nullable for metric in Metric)


def test_figures_leave_out_what_was_not_reported() -> None:
    snapshot = PostSnapshot(views=120, likes=0)
    assert snapshot.figures() == {Metric.VIEWS: 120, Metric.LIKES: 0}
    assert isinstance(snapshot, MetricColumns)


def test_a_post_and_its_snapshots_are_stored_and_deleted_with_the_channel(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace: Workspace = make_workspace("brand", owner=make_user("o@brand.example"))
    channel = Channel(
        workspace_id=workspace.id,
        connector="weibo",
        platform="weibo",
        external_id="1",
        name="Brand",
    )
    db.add(channel)
    db.flush()
    published = datetime(2026, 3, 1, 4, tzinfo=UTC)
    post = MeasuredPost(
        workspace_id=workspace.id,
        channel_id=channel.id,
        external_id="p1",
        published_at=published,
        found_by=FoundBy.TIMELINE,
    )
    db.add(post)
    db.flush()
    db.add_all(
        PostSnapshot(post_id=post.id, observed_at=published + timedelta(hours=h), views=h * 10)
        for h in (1, 6, 24)
    )
    db.add(AccountDay(channel_id=channel.id, day=date(2026, 3, 1), followers=1000))
    db.commit()

    views = db.scalars(
        select(PostSnapshot.views)
        .where(PostSnapshot.post_id == post.id)
        .order_by(PostSnapshot.observed_at)
    ).all()
    assert views == [10, 60, 240]

    db.delete(channel)
    db.commit()
    assert db.scalar(select(PostSnapshot.id)) is None
    assert db.scalar(select(AccountDay.day)) is None


def test_analytics_reads_other_capabilities_through_their_tables_only() -> None:
    """Analytics uses the shared packages; of a capability, only publishing's tables and
    listening's competitor activity, and only where work spans them (the flows modules)."""
    shared = {
        "core",
        "web",
        "cli",
        "accounts",
        "catalog",
        "channels",
        "connectors",
        "mappings",
        "measure",
        "retention",  # a shared service: from which day a post's snapshots are kept
        "analytics",  # a shared service: the ClickHouse client the measure store writes with
    }
    package = Path(__file__).resolve().parents[1] / "src" / "guanxi" / "measure"
    crossings = set()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] != "guanxi" or len(parts) < 2 or parts[1] in shared:
                    continue
                crossings.add(f"{path.relative_to(package).as_posix()}: {module}")

    assert crossings == {
        "flows.py: guanxi.publishing.models",
        "analysis/flows.py: guanxi.publishing.models",
        "analysis/flows.py: guanxi.listening.mentions.service",
    }
