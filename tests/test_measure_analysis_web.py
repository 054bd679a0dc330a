"""The analysis pages and API as a member sees them: the charts' figures and their tables,
the empty states that say how much history is needed, the exports, the composer's
suggested times, and nothing of another workspace."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Workspace
from guanxi.channels.best_times import suggested_times
from guanxi.channels.models import Channel
from guanxi.measure.models import FoundBy, MeasuredPost, PostFormat
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token

PERIOD = "start=2026-03-01&end=2026-05-31"
FIRST = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai


def add_channel(db: Session, workspace: Workspace, name: str) -> Channel:
    channel = Channel(
        workspace_id=workspace.id, connector="weibo", platform="weibo", external_id=name, name=name
    )
    db.add(channel)
    db.flush()
    return channel


def add_history(db: Session, channel: Channel, days: int = 84) -> None:
    """Two posts a day: 08:00 images, and 20:00 videos at twice their engagement rate."""
    for day in range(days):
        for number, hours, likes, fmt in (
            (2 * day, 0, 18 + day % 5, PostFormat.IMAGE),
            (2 * day + 1, 12, 36 + day % 7, PostFormat.VIDEO),
        ):
            at = FIRST + timedelta(days=day, hours=hours)
            db.add(
                MeasuredPost(
                    workspace_id=channel.workspace_id,
                    channel_id=channel.id,
                    external_id=f"{channel.name}-{number}",
                    published_at=at,
                    format=fmt,
                    found_by=FoundBy.PUBLISHED,
                    text_excerpt=f"#新品# {channel.name} {number}",
                    views=1000,
                    likes=likes,
                    comments=1,
                    last_observed_at=at + timedelta(days=1),
                )
            )
    db.commit()


@pytest.fixture
def member(signed_in: tuple[TestClient, Membership], db: Session) -> tuple[TestClient, Channel]:
    client, membership = signed_in
    workspace = db.get(Workspace, membership.workspace_id)
    assert workspace is not None
    workspace.timezone = "Asia/Shanghai"
    channel = add_channel(db, workspace, "acme-weibo")
    add_history(db, channel)
    return client, channel


@pytest.fixture
def theirs(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Channel:
    other = make_workspace("zebra", owner=make_user("owner@zebra.example"))
    channel = add_channel(db, other, "zebra-weibo")
    add_history(db, channel, days=20)
    return channel


def test_the_content_page_shows_groups_with_intervals_and_tables(
    member: tuple[TestClient, Channel],
) -> None:
    client, _channel = member
    page = client.get(f"/w/acme/analytics/content?{PERIOD}")
    assert page.status_code == 200
    assert 'data-analysis-chart="intervals"' in page.text
    assert 'id="chart-format"' in page.text
    assert "Higher than the average" in page.text  # videos
    assert "Lower than the average" in page.text  # images
    assert "#新品#" in page.text
    assert "nonce=" in page.text


def test_the_pages_speak_chinese(member: tuple[TestClient, Channel]) -> None:
    client, _channel = member
    client.post(
        "/language", data={"language": "zh_Hans", "next": "/", "csrf_token": csrf_token(client)}
    )
    for path in ("content", "best-time", "top"):
        page = client.get(f"/w/acme/analytics/{path}?{PERIOD}")
        assert page.status_code == 200
        assert "最佳发布时间" in page.text  # the navigation's "Best time to post"


def test_the_best_time_page_finds_the_evening(member: tuple[TestClient, Channel]) -> None:
    client, channel = member
    page = client.get(f"/w/acme/analytics/best-time?{PERIOD}&account={channel.id}")
    assert page.status_code == 200
    assert 'data-testid="suggestions"' in page.text
    assert "20:00" in page.text
    assert 'id="heatmap-data"' in page.text


def test_too_little_history_says_how_much_is_needed(member: tuple[TestClient, Channel]) -> None:
    client, channel = member
    one_week = "start=2026-03-02&end=2026-03-04"
    page = client.get(f"/w/acme/analytics/best-time?{one_week}&account={channel.id}")
    assert 'data-testid="too-little"' in page.text
    assert "at least 30 posts" in page.text
    assert "this account has 6" in page.text
    content = client.get("/w/acme/analytics/content?start=2026-03-02&end=2026-03-03")
    assert "at least 10 posts" in content.text
    empty = client.get("/w/acme/analytics/top?start=2025-01-01&end=2025-01-31")
    assert 'data-testid="too-little"' in empty.text


def test_top_posts_link_to_their_pages(member: tuple[TestClient, Channel], db: Session) -> None:
    client, _channel = member
    page = client.get(f"/w/acme/analytics/top?{PERIOD}")
    assert page.status_code == 200
    best = db.query(MeasuredPost).filter_by(external_id="acme-weibo-165").one()
    assert f"/w/acme/analytics/posts/{best.id}" in page.text
    assert 'data-testid="list-lowest-rate"' in page.text


def test_exports_as_csv_and_xlsx(member: tuple[TestClient, Channel]) -> None:
    client, channel = member
    csv_file = client.get(f"/w/acme/analytics/content/export.csv?{PERIOD}")
    assert csv_file.status_code == 200
    assert csv_file.content.startswith("\ufeff".encode())
    assert "Engagement rate" in csv_file.content.decode("utf-8-sig").splitlines()[0]
    xlsx = client.get(f"/w/acme/analytics/best-time/export.xlsx?{PERIOD}&account={channel.id}")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Day"
    assert len(rows) == 1 + 14  # 08:00 and 20:00 on seven days
    top = client.get(f"/w/acme/analytics/top/export.csv?{PERIOD}")
    assert "Highest engagement rate" in top.content.decode("utf-8-sig")
    assert client.get(f"/w/acme/analytics/top/export.pdf?{PERIOD}").status_code == 404


def test_the_api_gives_the_same_figures(member: tuple[TestClient, Channel]) -> None:
    client, channel = member
    content = client.get(f"/api/v1/w/acme/analytics/content?{PERIOD}").json()
    assert content["posts"] == 168
    formats = next(g for g in content["groupings"] if g["key"] == "format")
    assert {g["key"] for g in formats["groups"]} == {"image", "video"}
    best = client.get(f"/api/v1/w/acme/analytics/best-time/{channel.id}?{PERIOD}").json()
    assert best["enough"]
    assert {s["hour"] for s in best["suggestions"]} == {20}
    top = client.get(f"/api/v1/w/acme/analytics/top?{PERIOD}").json()
    assert len(top["highest_rate"]) == 10
    bad = client.get("/api/v1/w/acme/analytics/top?start=2026-05-01&end=2026-04-01")
    assert bad.status_code == 400


def test_another_workspaces_account_and_pages_are_not_found(
    member: tuple[TestClient, Channel], theirs: Channel
) -> None:
    client, _channel = member
    assert client.get(f"/w/acme/analytics/best-time?account={theirs.id}").status_code == 404
    api = f"/api/v1/w/acme/analytics/best-time/{theirs.id}?{PERIOD}"
    assert client.get(api).status_code == 404
    for path in (
        "/w/zebra/analytics/content",
        "/w/zebra/analytics/top",
        "/w/zebra/analytics/best-time",
        "/api/v1/w/zebra/analytics/content",
        "/w/zebra/analytics/content/export.csv",
        "/w/zebra/analytics/campaigns",
        "/api/v1/w/zebra/analytics/campaigns",
        "/w/zebra/analytics/benchmark",
        "/api/v1/w/zebra/analytics/benchmark",
    ):
        assert client.get(path).status_code == 404, path
    content = client.get(f"/w/acme/analytics/content?{PERIOD}&account={theirs.id}")
    assert "zebra-weibo" not in content.text


def test_the_composer_is_offered_the_better_hours(
    member: tuple[TestClient, Channel], db: Session
) -> None:
    """Once the app is built, analytics answers the composer through the shared hook."""
    _client, channel = member
    offered = suggested_times(db, channel, now=datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
    assert offered
    assert {t.at.astimezone(UTC).hour for t in offered} == {12}  # 20:00 in Shanghai


def test_the_campaigns_page_without_campaigns_says_how_to_get_one(
    member: tuple[TestClient, Channel],
) -> None:
    client, _channel = member
    page = client.get("/w/acme/analytics/campaigns")
    assert page.status_code == 200
    assert 'data-testid="too-little"' in page.text
    assert client.get("/api/v1/w/acme/analytics/campaigns").json() == []
    assert client.get("/w/acme/analytics/campaigns/export.csv").status_code == 200


def test_the_benchmark_without_competitors_says_how_to_track_them(
    member: tuple[TestClient, Channel],
) -> None:
    client, _channel = member
    page = client.get(f"/w/acme/analytics/benchmark?{PERIOD}")
    assert page.status_code == 200
    assert 'data-testid="no-competitors"' in page.text
    assert 'data-testid="benchmark"' in page.text  # the brand's own accounts still show
    found = client.get(f"/api/v1/w/acme/analytics/benchmark?{PERIOD}").json()
    assert found["rows"][0]["posts"] == 168
    assert client.get(f"/w/acme/analytics/benchmark/export.xlsx?{PERIOD}").status_code == 200
