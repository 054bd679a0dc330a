"""The analysis pages' figures on a small database: posts grouped by format, length,
hashtags, hour and weekday with their intervals; an account's best times and the
composer's suggestions; the top and bottom posts; and nothing of another workspace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.channels.best_times import suggested_times
from guanxi.channels.models import Channel
from guanxi.core.errors import NotFoundError
from guanxi.listening.mentions.models import (
    Author,
    Mention,
    MentionKind,
    OfficialRelation,
    TrackedAccount,
)
from guanxi.measure.analysis import flows, service
from guanxi.measure.analysis.stats import MIN_MODEL_POSTS
from guanxi.measure.models import AccountDay, FoundBy, MeasuredPost, PostFiguresRead, PostFormat
from guanxi.publishing.models import Campaign, Post, Variant
from tests.conftest import UserFactory, WorkspaceFactory

MARCH = date(2026, 3, 1)
FIRST = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai


@pytest.fixture
def owner(make_user: UserFactory) -> User:
    return make_user("owner@brand.example")


@pytest.fixture
def workspace(make_workspace: WorkspaceFactory, owner: User) -> Workspace:
    found = make_workspace("brand", owner=owner)
    found.timezone = "Asia/Shanghai"
    return found


def add_channel(db: Session, workspace: Workspace, name: str) -> Channel:
    channel = Channel(
        workspace_id=workspace.id, connector="weibo", platform="weibo", external_id=name, name=name
    )
    db.add(channel)
    db.flush()
    return channel


def add_post(
    db: Session,
    channel: Channel,
    number: int,
    published_at: datetime,
    *,
    views: int,
    likes: int,
    fmt: PostFormat | None = PostFormat.IMAGE,
    text: str = "新品上市",
) -> MeasuredPost:
    post = MeasuredPost(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        external_id=f"{channel.name}-{number}",
        published_at=published_at,
        format=fmt,
        found_by=FoundBy.PUBLISHED,
        text_excerpt=text,
        views=views,
        likes=likes,
        comments=0,
        last_observed_at=published_at + timedelta(days=1),
    )
    db.add(post)
    db.flush()
    return post


def add_month(db: Session, channel: Channel, *, video_boost: bool = False) -> None:
    """Two posts a day in March: 08:00 images at 2% and 20:00 videos at 2% (4% with
    ``video_boost``), some of them with a hashtag."""
    for day in range(28):
        morning = FIRST + timedelta(days=day)
        add_post(
            db,
            channel,
            2 * day,
            morning,
            views=1000,
            likes=20 + day % 3,
            text="#新品# 上市" if day % 2 else "早安",
        )
        likes = (40 if video_boost else 20) + day % 3
        add_post(
            db,
            channel,
            2 * day + 1,
            morning + timedelta(hours=12),
            views=1000,
            likes=likes,
            fmt=PostFormat.VIDEO,
        )


def test_posts_are_grouped_with_counts_and_intervals(db: Session, workspace: Workspace) -> None:
    """Given videos at twice the images' rate, Then the format groups say so with their
    intervals, and the groups of hours, weekdays and hashtags have their counts."""
    add_month(db, add_channel(db, workspace, "brand"), video_boost=True)
    found = service.content_analysis(db, workspace=workspace, start=MARCH, end=date(2026, 3, 31))
    assert found.posts == 56
    groupings = {g.key: {group.key: group for group in g.groups} for g in found.groupings}
    video, image = groupings["format"]["video"], groupings["format"]["image"]
    assert video.posts == 28
    assert image.posts == 28
    assert video.engagement_rate.low is not None
    assert video.engagement_rate.low > 0.035
    assert video.differs
    assert image.differs
    assert set(groupings["hour"]) == {"08", "20"}
    assert groupings["weekday"]["0"].posts == 8  # four Mondays, two posts each
    assert groupings["hashtags"]["#新品#"].posts == 14
    assert groupings["hashtag_use"]["with"].posts == 14
    assert groupings["length"]["short"].posts == 56
    assert not found.mixed_bases


def test_a_difference_that_is_noise_reads_as_noise(db: Session, workspace: Workspace) -> None:
    """Given images and videos at the same rate, Then neither differs from the average."""
    add_month(db, add_channel(db, workspace, "brand"))
    found = service.content_analysis(db, workspace=workspace, start=MARCH, end=date(2026, 3, 31))
    formats = next(g for g in found.groupings if g.key == "format")
    assert [g.differs for g in formats.groups] == [False, False]


def test_hashtags_are_read_as_each_platform_writes_them() -> None:
    assert service.hashtags("#新品上市# 快来看 #lipstick and #口红") == {
        "#新品上市#",
        "#lipstick",
        "#口红",
    }
    assert service.hashtags("no tags, just a # sign") == set()


def test_best_time_needs_history_and_says_how_much(db: Session, workspace: Workspace) -> None:
    channel = add_channel(db, workspace, "brand")
    add_post(db, channel, 1, FIRST, views=1000, likes=20)
    found = service.best_time(
        db, workspace=workspace, channel_id=channel.id, start=MARCH, end=date(2026, 3, 31)
    )
    assert not found.enough
    assert found.posts == 1
    assert found.needed == MIN_MODEL_POSTS
    assert found.slots == []
    assert suggested_times(db, channel, now=FIRST) == []


def test_a_better_hour_is_found_and_offered_to_the_composer(
    db: Session, workspace: Workspace
) -> None:
    """Given 20:00 posts at twice the 08:00 posts' rate (same format), Then 20:00 slots
    are better, and the composer is offered the next of them."""
    channel = add_channel(db, workspace, "brand")
    for day in range(84):
        morning = FIRST + timedelta(days=day)
        add_post(db, channel, 2 * day, morning, views=1000, likes=18 + day % 5)
        add_post(
            db, channel, 2 * day + 1, morning + timedelta(hours=12), views=1000, likes=36 + day % 7
        )
    for day in range(84):
        db.add(
            AccountDay(
                channel_id=channel.id, day=MARCH + timedelta(days=day), followers=10_000 + 10 * day
            )
        )
    db.flush()
    found = service.best_time(
        db, workspace=workspace, channel_id=channel.id, start=MARCH, end=date(2026, 5, 31)
    )
    assert found.enough
    assert found.suggestions
    assert {s.hour for s in found.suggestions} == {20}
    assert "followers" in found.adjusted_for
    monday_8 = found.slots[8]
    assert monday_8.posts == 12
    assert monday_8.better is False
    # What analytics answers the composer (registered through channels.best_times).
    now = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # Monday noon in Shanghai
    offered = service.suggested_times(db, channel, now)
    assert offered
    assert all(t.at > now for t in offered)
    assert all(t.at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 20 for t in offered)
    assert offered[0].lift > 0.25  # twice the morning is about +41% on the average hour


def test_top_and_bottom_posts(db: Session, workspace: Workspace) -> None:
    channel = add_channel(db, workspace, "brand")
    for number in range(25):
        add_post(
            db,
            channel,
            number,
            FIRST + timedelta(hours=number),
            views=100 + number * 10,
            likes=number,
        )
    add_post(db, channel, 99, FIRST, views=10, likes=9)  # a high rate on too few views
    found = service.top_posts(db, workspace=workspace, start=MARCH, end=date(2026, 3, 31))
    assert found.highest_rate[0].external_id == "brand-24"
    assert "brand-99" not in [p.external_id for p in found.highest_rate + found.lowest_rate]
    assert found.lowest_rate[0].external_id == "brand-0"
    assert len(found.lowest_rate) == 10
    assert found.most_views[0].external_id == "brand-24"
    assert found.fewest_views[0].external_id == "brand-99"
    ids = {p.external_id for p in found.highest_rate} & {p.external_id for p in found.lowest_rate}
    assert not ids


def test_the_ranking_agrees_with_every_posts_own_figures(db: Session, workspace: Workspace) -> None:
    """The top posts are ranked on the figures alone, then built: the same lists as ranking
    every post's own figures, with rates per view, per follower where a platform reports no
    views, and none where the views are zero."""
    channel = add_channel(db, workspace, "brand")
    for offset in range(31):
        db.add(
            AccountDay(channel_id=channel.id, day=MARCH + timedelta(days=offset), followers=4000)
        )
    for number in range(40):
        views = None if number % 4 == 0 else 0 if number % 9 == 0 else 40 + (number * 37) % 400
        add_post(
            db,
            channel,
            number,
            FIRST + timedelta(hours=number * 7),
            views=views,  # type: ignore[arg-type]
            likes=(number * 13) % 17,
        )
    found = service.top_posts(db, workspace=workspace, start=MARCH, end=date(2026, 3, 31))

    posts = service.post_figures(db, workspace=workspace, start=MARCH, end=date(2026, 3, 31))
    rated = sorted(
        (
            p
            for p in posts
            if p.engagement_rate is not None and (p.views is None or p.views >= found.min_views)
        ),
        key=lambda p: (-(p.engagement_rate or 0.0), p.post_id),
    )
    viewed = sorted(
        (p for p in posts if p.views is not None), key=lambda p: (-(p.views or 0), p.post_id)
    )

    def ids(chosen: list[PostFiguresRead]) -> list[int]:
        return [p.post_id for p in chosen]

    shown = found.highest_rate + found.lowest_rate
    assert any(p.engagement_rate_basis == "followers" for p in shown)
    assert ids(found.highest_rate) == ids(rated[:10])
    assert ids(found.lowest_rate) == ids(rated[10:][::-1][:10])
    assert ids(found.most_views) == ids(viewed[:10])
    assert ids(found.fewest_views) == ids(viewed[10:][::-1][:10])


def test_another_workspaces_posts_and_accounts_are_not_read(
    db: Session, workspace: Workspace, make_workspace: WorkspaceFactory, owner: User
) -> None:
    other = make_workspace("other", owner=owner)
    theirs = add_channel(db, other, "theirs")
    add_month(db, theirs)
    found = service.content_analysis(db, workspace=workspace, start=MARCH, end=date(2026, 3, 31))
    assert found.posts == 0
    with pytest.raises(NotFoundError):
        service.best_time(
            db, workspace=workspace, channel_id=theirs.id, start=MARCH, end=date(2026, 3, 31)
        )


# --- Campaign roll-up --------------------------------------------------------------------


def add_campaign(
    db: Session, workspace: Workspace, channel: Channel, name: str, posts: list[MeasuredPost]
) -> Campaign:
    """A campaign whose one composed post went out as ``posts`` (one variant each)."""
    campaign = Campaign(workspace_id=workspace.id, name=name)
    db.add(campaign)
    db.flush()
    composed = Post(workspace_id=workspace.id, campaign_id=campaign.id, title=name)
    db.add(composed)
    db.flush()
    for post in posts:
        variant = Variant(
            workspace_id=workspace.id,
            post_id=composed.id,
            channel_id=channel.id,
            idempotency_key=f"{name}-{post.id}",
        )
        db.add(variant)
        db.flush()
        post.variant_id = variant.id
    db.flush()
    return campaign


def test_a_campaign_is_rolled_up_against_the_same_days_baseline(
    db: Session, workspace: Workspace
) -> None:
    """Given a campaign of 6 posts with twice the engagements of the account's 30 others
    over its days, Then its lift of engagements is clear and near +100%, and a
    campaign without measured posts says so."""
    channel = add_channel(db, workspace, "brand")
    ours = []
    for number in range(36):
        at = FIRST + timedelta(hours=7 * number)
        campaign_post = number % 6 == 0
        likes = (40 if campaign_post else 20) + number % 4
        post = add_post(db, channel, number, at, views=1000 + 10 * (number % 5), likes=likes)
        if campaign_post:
            ours.append(post)
    add_post(db, channel, 99, FIRST + timedelta(days=60), views=1000, likes=500)  # other days
    add_campaign(db, workspace, channel, "Spring launch", ours)
    add_campaign(db, workspace, channel, "Not yet out", [])
    rollups = {r.name: r for r in flows.campaign_rollups(db, workspace=workspace)}
    spring = rollups["Spring launch"]
    assert spring.posts == 6
    assert spring.baseline_posts == 28  # the others from its first post's day to its last's
    assert spring.engagements == sum(40 + n % 4 for n in range(0, 36, 6))
    assert spring.engagements_lift.clear
    assert spring.engagements_lift.lift is not None
    assert 0.8 < spring.engagements_lift.lift < 1.2
    assert not spring.views_lift.clear
    empty = rollups["Not yet out"]
    assert empty.posts == 0
    assert empty.engagements_lift.lift is None


def test_another_workspaces_campaigns_are_not_rolled_up(
    db: Session, workspace: Workspace, make_workspace: WorkspaceFactory, owner: User
) -> None:
    other = make_workspace("other", owner=owner)
    theirs = add_channel(db, other, "theirs")
    post = add_post(db, theirs, 1, FIRST, views=100, likes=1)
    add_campaign(db, other, theirs, "Their launch", [post])
    assert flows.campaign_rollups(db, workspace=workspace) == []


# --- Competitor benchmark ----------------------------------------------------------------


def test_the_brand_is_benchmarked_against_the_tracked_competitors(
    db: Session, workspace: Workspace, make_workspace: WorkspaceFactory, owner: User
) -> None:
    """Given the brand's 4 posts (30 public engagements each) and a tracked competitor's
    2 posts (a comment and another workspace's posts not counted), Then each has its posts,
    engagements per post and share; an untracked author is left out."""
    channel = add_channel(db, workspace, "brand")
    for number in range(4):
        add_post(db, channel, number, FIRST + timedelta(days=number), views=1000, likes=30)
    db.add(
        TrackedAccount(
            workspace_id=workspace.id,
            platform="weibo",
            external_id="rival",
            name="Rival",
            relation=OfficialRelation.COMPETITOR,
        )
    )
    db.add(
        TrackedAccount(
            workspace_id=workspace.id,
            platform="weibo",
            external_id="quiet",
            name="Quiet rival",
            relation=OfficialRelation.COMPETITOR,
        )
    )
    other = make_workspace("other", owner=owner)
    for ws, posts in ((workspace, 2), (other, 5)):
        rival = Author(workspace_id=ws.id, platform="weibo", external_id="rival", name="Rival")
        stranger = Author(workspace_id=ws.id, platform="weibo", external_id="x", name="X")
        db.add_all([rival, stranger])
        db.flush()
        for number in range(posts):
            db.add(
                Mention(
                    workspace_id=ws.id,
                    platform="weibo",
                    external_id=f"r{ws.id}-{number}",
                    author_id=rival.id,
                    posted_at=FIRST + timedelta(days=number),
                    likes=50,
                    comments=10,
                    reposts=0,
                )
            )
        db.add(
            Mention(
                workspace_id=ws.id,
                platform="weibo",
                external_id=f"c{ws.id}",
                author_id=rival.id,
                kind=MentionKind.COMMENT,
                posted_at=FIRST,
                likes=999,
            )
        )
        db.add(
            Mention(
                workspace_id=ws.id,
                platform="weibo",
                external_id=f"x{ws.id}",
                author_id=stranger.id,
                posted_at=FIRST,
                likes=999,
            )
        )
    db.flush()
    found = flows.benchmark(db, workspace=workspace, start=MARCH, end=date(2026, 3, 14))
    rows = {row.name: row for row in found.rows}
    assert set(rows) == {"brand", "Rival", "Quiet rival"}
    assert found.competitors == 2
    assert rows["brand"].own
    assert rows["brand"].posts == 4
    assert rows["brand"].engagements_per_post == 30
    assert rows["brand"].posts_per_week == 2
    assert rows["Rival"].posts == 2
    assert rows["Rival"].engagements == 120
    assert rows["Rival"].share_of_engagement == 0.5
    assert rows["Quiet rival"].posts == 0
    assert rows["Quiet rival"].engagements_per_post is None
