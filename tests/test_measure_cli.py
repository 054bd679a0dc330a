"""`guanxi analytics sync` and `guanxi analytics posts`, against a connector with planted
figures installed under its own name."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors import registry
from guanxi.connectors.base import TransientError
from guanxi.core.db import utcnow
from guanxi.core.settings import get_settings
from guanxi.measure.models import AccountDay, PostSnapshot
from tests.cli import PREFIX, run, said, upgraded
from tests.measure_support import INSTALLED, FakeMetrics, PlantedPost, daily_figures

H = timedelta(hours=1)


@pytest.fixture
def fake(cli_database: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMetrics]:
    """A migrated database with a workspace "brand" and its Weibo account, whose connector
    (installed as "fake_metrics") has two posts and two months of days."""
    monkeypatch.setenv(PREFIX + "SECRET_KEY", "cli-secret-key-that-is-long-enough-0123456789")
    get_settings.cache_clear()
    factories = {**registry.connector_factories(), FakeMetrics.name: FakeMetrics}
    monkeypatch.setattr(registry, "connector_factories", lambda: factories)
    upgraded(cli_database)
    with Session(cli_database) as db:
        workspace = Workspace(slug="brand", name="Brand", timezone="Asia/Shanghai")
        db.add(workspace)
        db.flush()
        db.add(
            Channel(
                workspace_id=workspace.id,
                connector=FakeMetrics.name,
                platform="weibo",
                external_id="brand",
                name="Brand Weibo",
            )
        )
        db.commit()
    now = utcnow()
    today = now.date()
    connector = FakeMetrics(
        posts=[PlantedPost("p1", now - 30 * H), PlantedPost("p2", now - 3 * H, likes_per_hour=0)],
        days=daily_figures(today - timedelta(days=60), today),
        clock=[now],
    )
    INSTALLED.append(connector)
    yield connector
    INSTALLED.clear()
    get_settings.cache_clear()


def test_sync_collects_once_and_again_finds_nothing_new(
    cli_database: Engine, fake: FakeMetrics
) -> None:
    first = run("analytics", "sync")
    assert first.exit_code == 0, first.output
    assert "analytics sync: 1 accounts, 2 snapshots" in said(first)
    with Session(cli_database) as db:
        days = db.scalar(select(func.count()).select_from(AccountDay))
        snapshots = db.scalar(select(func.count()).select_from(PostSnapshot))
    assert (days, snapshots) == (30, 2)

    again = run("analytics", "sync", "--workspace", "brand")
    assert "1 accounts, 0 snapshots, 0 days, 0 errors" in said(again)


def test_sync_says_what_failed_and_for_which_account(fake: FakeMetrics) -> None:
    fake.errors["post_metrics"] = [TransientError("System busy, try again later")]
    result = run("analytics", "sync")
    assert result.exit_code == 0
    assert "Brand Weibo: System busy, try again later" in said(result)
    assert "1 errors" in said(result)


def test_sync_of_an_unknown_workspace_says_so(fake: FakeMetrics) -> None:
    result = run("analytics", "sync", "--workspace", "nobody")
    assert result.exit_code == 1
    assert "no workspace 'nobody'" in said(result)


def test_posts_as_json_one_object_per_post(fake: FakeMetrics) -> None:
    assert run("analytics", "sync").exit_code == 0
    today = utcnow().date()
    since = (today - timedelta(days=3)).isoformat()
    result = run(
        "analytics",
        "posts",
        "--workspace",
        "brand",
        "--from",
        since,
        "--to",
        (today + timedelta(days=1)).isoformat(),
    )

    assert result.exit_code == 0, result.output
    posts = json.loads(result.stdout)
    assert [p["external_id"] for p in posts] == ["p1", "p2"]
    first = posts[0]
    assert {k: first[k] for k in ("platform", "account", "views", "engagements")} == {
        "platform": "weibo",
        "account": "Brand Weibo",
        "views": 3000,
        "engagements": 180,
    }
    assert first["engagement_rate"] == pytest.approx(0.06)
    assert first["engagement_rate_basis"] == "views"
    assert first["published_at"].endswith("+08:00")


def test_posts_as_csv(fake: FakeMetrics) -> None:
    assert run("analytics", "sync").exit_code == 0
    today = utcnow().date()
    result = run(
        "analytics",
        "posts",
        "--workspace",
        "brand",
        "--format",
        "csv",
        "--from",
        (today - timedelta(days=3)).isoformat(),
        "--to",
        (today + timedelta(days=1)).isoformat(),
    )

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["external_id"] for r in rows] == ["p1", "p2"]
    assert list(rows[0])[:6] == [
        "platform",
        "account",
        "published_at",
        "views",
        "engagements",
        "engagement_rate",
    ]
    assert rows[1]["engagements"] == "3"  # comments only: p2 gets no likes


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "2026-13-01", "--to", "2026-03-01"], "--from '2026-13-01' is not a date"),
        (["--from", "2026-03-01", "--to", "yesterday"], "--to 'yesterday' is not a date"),
        (["--from", "2026-03-05", "--to", "2026-03-01"], "swap the two dates"),
    ],
)
def test_posts_with_bad_dates_say_what_to_write(
    fake: FakeMetrics, args: list[str], says: str
) -> None:
    result = run("analytics", "posts", "--workspace", "brand", *args)
    assert result.exit_code == 1
    assert says in said(result)


def test_posts_of_an_unknown_workspace_or_format_are_refused(fake: FakeMetrics) -> None:
    unknown = run(
        "analytics", "posts", "--workspace", "nobody", "--from", "2026-03-01", "--to", "2026-03-02"
    )
    assert unknown.exit_code == 1
    assert "no workspace 'nobody'" in said(unknown)
    xml = run(
        "analytics",
        "posts",
        "--workspace",
        "brand",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-02",
        "--format",
        "xml",
    )
    assert xml.exit_code == 2
