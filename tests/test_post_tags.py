"""Tags on posts: normalised so one tag is written one way, limited where they enter (the
composer, the post page, the API), offered again in the composer, filtering the posts list,
and grouping the posts in analytics ("by tag", with counts and 95% intervals) and in
`guanxi analytics posts`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.core.errors import UserError
from guanxi.devtools.demo import post_tags
from guanxi.measure import cli as measure_cli
from guanxi.measure.analysis import service as analysis
from guanxi.measure.listing import post_figures
from guanxi.measure.models import FoundBy, MeasuredPost, PostFormat
from guanxi.publishing import tags
from guanxi.publishing.models import Post, PostTag, Variant, VariantState
from tests.composer_support import (
    Team,
    make_team,
    test_connectors,  # noqa: F401 - a fixture
)
from tests.conftest import csrf_token, sign_in
from tests.test_publishing_api import bearer

pytestmark = pytest.mark.usefixtures("test_connectors")


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object, app: FastAPI) -> Team:
    """A workspace with a member per role and two accounts."""
    return make_team(db, make_user, make_workspace)


def test_tags_are_normalised_and_each_kept_once() -> None:
    """Full-width letters, a hashtag's #, extra spaces and capitals do not make new tags."""
    assert tags.parse_tags("＃新品, #节日#，  New   Launch 、new launch;；教程\n新品") == [
        "新品",
        "节日",
        "new launch",
        "教程",
    ]
    assert tags.parse_tags(" , ，") == []


def test_tags_past_the_limits_are_refused_with_the_limit() -> None:
    """Eleven tags, or one of 33 characters, are refused with a message that says the limit."""
    with pytest.raises(UserError) as many:
        tags.parse_tags(",".join(f"t{n}" for n in range(11)))
    assert many.value.params == {"limit": 10, "count": 11}
    with pytest.raises(UserError) as long:
        tags.parse_tags("x" * 33)
    assert long.value.params["limit"] == 32
    assert tags.parse_tags("x" * 32) == ["x" * 32]


def test_tags_are_set_in_the_composer_and_filter_the_posts_list(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given posts written with tags, Then the composer suggests the workspace's tags, the post
    page shows them, the list filters by one, and the master form changes them."""
    sign_in(client, team.editor.email)
    for title, typed in (("桃红上新", "新品, 节日"), ("品酒课", "教程")):
        response = client.post(
            "/w/acme/publish/new",
            data={
                "csrf_token": csrf_token(client),
                "title": title,
                "body": "普罗旺斯桃红",
                "channels": [str(team.micro.id)],
                "tags": typed,
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    composer = client.get("/w/acme/publish/new")
    assert '<option value="新品">' in composer.text
    listing = client.get("/w/acme/publish", params={"tag": "新品"})
    assert "桃红上新" in listing.text
    assert "品酒课" not in listing.text
    post = db.scalar(select(Post).where(Post.title == "桃红上新"))
    assert post is not None
    assert post.tags == ["新品", "节日"]
    response = client.post(
        f"/w/acme/posts/{post.id}",
        data={
            "csrf_token": csrf_token(client),
            "title": post.title,
            "body": post.body,
            "campaign": "",
            "tags": "节日, 品酒",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.expire_all()
    assert post.tags == ["品酒", "节日"]


def test_a_composer_with_too_many_tags_comes_back_explained(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given eleven tags typed, Then the composer answers 400 with the limit and the text
    typed, and no post is created."""
    sign_in(client, team.editor.email)
    response = client.post(
        "/w/acme/publish/new",
        data={
            "csrf_token": csrf_token(client),
            "title": "太多标签",
            "body": "正文",
            "channels": [str(team.micro.id)],
            "tags": ",".join(f"t{n}" for n in range(11)),
        },
    )
    assert response.status_code == 400
    assert "at most 10 tags" in response.text
    assert db.scalar(select(Post).where(Post.title == "太多标签")) is None


def test_the_api_creates_reads_changes_and_filters_by_tags(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given an editor's token, When a post is created with tags and its tags are changed,
    Then the API shows them normalised and filters by them; a tag too long is a 400."""
    headers = bearer(db, team, team.editor)
    base = "/api/v1/w/acme/publish/posts"
    payload = {"title": "API", "body": "正文", "channel_ids": [team.micro.id], "tags": ["#新品#"]}
    created = client.post(base, json=payload, headers=headers)
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["tags"] == ["新品"]
    assert post["variants"][0]["track_links"] is True
    changed = client.patch(f"{base}/{post['id']}", json={"tags": ["教程", "节日"]}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["教程", "节日"]
    assert [p["id"] for p in client.get(base, params={"tag": "教程"}, headers=headers).json()] == [
        post["id"]
    ]
    assert client.get(base, params={"tag": "新品"}, headers=headers).json() == []
    too_long = client.patch(f"{base}/{post['id']}", json={"tags": ["x" * 33]}, headers=headers)
    assert too_long.status_code == 400
    assert "32" in too_long.text


MARCH = date(2026, 3, 1)


def _published(db: Session, team: Team, number: int, likes: int, post_tags: list[str]) -> None:
    """A post guanxi published on the microblog, measured at 1,000 views and ``likes``."""
    post = Post(workspace_id=team.workspace.id, title=f"p{number}", body="正文")
    post.tag_rows = [PostTag(workspace_id=team.workspace.id, tag=tag) for tag in post_tags]
    variant = Variant(
        workspace_id=team.workspace.id,
        channel_id=team.micro.id,
        text="正文",
        state=VariantState.PUBLISHED,
        idempotency_key=f"k{number}",
        external_id=f"m{number}",
    )
    post.variants.append(variant)
    db.add(post)
    db.flush()
    at = datetime(2026, 3, 2, 4, tzinfo=UTC) + timedelta(days=number)
    db.add(
        MeasuredPost(
            workspace_id=team.workspace.id,
            channel_id=team.micro.id,
            external_id=f"m{number}",
            variant_id=variant.id,
            published_at=at,
            format=PostFormat.TEXT,
            found_by=FoundBy.PUBLISHED,
            text_excerpt="正文",
            views=1000,
            likes=likes,
            comments=0,
            last_observed_at=at + timedelta(days=1),
        )
    )
    db.flush()


def test_content_analysis_gives_the_engagement_rate_by_tag(db: Session, team: Team) -> None:
    """Given five posts tagged 新品 at 1% to 5% (two of them also 节日) and one untagged post,
    Then "by tag" gives 新品 a mean of 3% with the Student-t interval computed by hand
    (s = 1.58%, t(0.975, 4) = 2.776: 1.04% to 4.96%), 节日 its two posts with no interval
    (too few), and the untagged post its own group."""
    for number, likes in enumerate((10, 20, 30, 40, 50)):
        _published(db, team, number, likes, ["新品", "节日"] if number < 2 else ["新品"])
    _published(db, team, 9, 70, [])
    db.commit()
    found = analysis.content_analysis(
        db, workspace=team.workspace, start=MARCH, end=date(2026, 3, 31)
    )
    by_tag = {
        group.key: group for group in next(g for g in found.groupings if g.key == "tags").groups
    }
    assert list(by_tag) == ["新品", "节日", ""]
    new = by_tag["新品"]
    assert new.posts == 5
    assert new.engagement_rate.mean == pytest.approx(0.03)
    assert new.engagement_rate.low == pytest.approx(0.0103676, abs=1e-6)
    assert new.engagement_rate.high == pytest.approx(0.0496324, abs=1e-6)
    assert (by_tag["节日"].posts, by_tag["节日"].engagement_rate.low) == (2, None)
    assert by_tag[""].posts == 1
    assert by_tag[""].translatable
    assert not new.translatable


def test_analytics_posts_gives_each_posts_tags(db: Session, team: Team) -> None:
    """Given a measured post with tags and one published outside guanxi, Then the posts'
    figures (the API's and `guanxi analytics posts`' rows) carry the first one's tags and
    none for the other."""
    _published(db, team, 1, 20, ["新品", "节日"])
    db.add(
        MeasuredPost(
            workspace_id=team.workspace.id,
            channel_id=team.micro.id,
            external_id="outside",
            published_at=datetime(2026, 3, 20, 4, tzinfo=UTC),
            found_by=FoundBy.TIMELINE,
        )
    )
    db.commit()
    posts = post_figures(db, workspace=team.workspace, start=MARCH, end=date(2026, 3, 31))
    rows = [measure_cli._row(post, ZoneInfo("Asia/Shanghai")) for post in posts]
    assert [row["tags"] for row in rows] == [["新品", "节日"], []]
    assert "tags" in measure_cli.POST_COLUMNS


def test_the_demo_history_is_published_through_guanxi_with_tags(db: Session, team: Team) -> None:
    """Given illustrative measured posts, one within the demo's guanxi months and one before,
    When the demo publishes its history, Then the recent one has a published post with the
    tags its text calls for and the older one stays outside guanxi; doing it again adds
    nothing."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for external_id, days_ago in (("recent", 10), ("old", 150)):
        db.add(
            MeasuredPost(
                workspace_id=team.workspace.id,
                channel_id=team.micro.id,
                external_id=external_id,
                published_at=now - timedelta(days=days_ago),
                found_by=FoundBy.TIMELINE,
                text_excerpt="新年份到港，欢迎来门店品鉴。",
                illustrative=True,
            )
        )
    db.flush()
    assert post_tags.publish_history(db, workspace_id=team.workspace.id, now=now) == 1
    assert post_tags.publish_history(db, workspace_id=team.workspace.id, now=now) == 0
    [post] = db.scalars(select(Post).where(Post.workspace_id == team.workspace.id)).all()
    assert sorted(post.tags) == ["品酒", "新品", "门店"]
    assert [variant.state for variant in post.variants] == [VariantState.PUBLISHED]
    old = db.scalar(select(MeasuredPost).where(MeasuredPost.external_id == "old"))
    assert old is not None
    assert old.variant_id is None
