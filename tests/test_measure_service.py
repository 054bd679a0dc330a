"""What the analytics pages will show: an account's daily series, the posts of a period with
their latest figures, a period's totals against the one before, what was collected, and a
workspace's custom metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.core.errors import ConflictError, NotFoundError, UserError
from guanxi.measure import custom_metrics, listing, service, status
from guanxi.measure.definitions import EngagementRate, RateBasis
from guanxi.measure.formulas import FormulaError
from guanxi.measure.models import (
    AccountDay,
    CustomMetricCreate,
    FiguresKind,
    FoundBy,
    MeasuredPost,
    MetricDisplay,
    MissingFigures,
    PostFormat,
    PostSnapshot,
)
from tests.conftest import UserFactory, WorkspaceFactory

MARCH = date(2026, 3, 1)


@pytest.fixture
def owner(make_user: UserFactory) -> User:
    return make_user("owner@brand.example")


@pytest.fixture
def workspace(make_workspace: WorkspaceFactory, owner: User) -> Workspace:
    return make_workspace("brand", owner=owner)


def add_channel(db: Session, workspace: Workspace, name: str, platform: str = "weibo") -> Channel:
    channel = Channel(
        workspace_id=workspace.id,
        connector=platform,
        platform=platform,
        external_id=name,
        name=name,
    )
    db.add(channel)
    db.flush()
    return channel


def add_days(db: Session, channel: Channel, first: date, figures: list[dict[Metric, int]]) -> None:
    for offset, values in enumerate(figures):
        db.add(
            AccountDay(
                channel_id=channel.id,
                day=first + timedelta(days=offset),
                **{m.value: v for m, v in values.items()},
            )
        )
    db.flush()


def add_post(
    db: Session,
    channel: Channel,
    external_id: str,
    published_at: datetime,
    *snapshots: dict[Metric, int],
    fmt: PostFormat | None = PostFormat.IMAGE,
) -> MeasuredPost:
    post = MeasuredPost(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        external_id=external_id,
        published_at=published_at,
        format=fmt,
        found_by=FoundBy.PUBLISHED,
        text_excerpt=f"post {external_id}",
    )
    db.add(post)
    db.flush()
    for hours, values in enumerate(snapshots, start=1):
        observed = published_at + timedelta(hours=hours)
        columns = {m.value: values.get(m) for m in Metric}
        db.add(PostSnapshot(post_id=post.id, observed_at=observed, **columns))
        # The post carries its latest snapshot's figures, as the collector keeps them.
        post.last_observed_at = observed
        for name, value in columns.items():
            setattr(post, name, value)
    db.flush()
    return post


# --- Daily series ------------------------------------------------------------------------


def test_a_daily_series_has_every_day_and_the_derived_figures(
    db: Session, workspace: Workspace
) -> None:
    """Given three days collected and one missing, the series has the four days; the net
    growth comes from the flows, or from the totals where the platform gives only those."""
    channel = add_channel(db, workspace, "Brand Weibo")
    add_days(
        db,
        channel,
        MARCH,
        [
            {Metric.FOLLOWERS: 1000},
            {
                Metric.FOLLOWERS: 1012,
                Metric.NEW_FOLLOWERS: 15,
                Metric.LOST_FOLLOWERS: 3,
                Metric.VIEWS: 400,
                Metric.LIKES: 30,
                Metric.COMMENTS: 10,
            },
            {Metric.FOLLOWERS: 1020},
        ],
    )
    db.commit()

    second, fifth = MARCH + timedelta(days=1), MARCH + timedelta(days=4)
    series = service.daily_series(
        db, workspace=workspace, channel_id=channel.id, start=second, end=fifth
    )

    assert [d.collected for d in series] == [True, True, False, False]
    assert [d.net_follower_growth for d in series] == [12, 8, None, None]
    assert series[0].engagements == 40
    assert series[0].engagement_rate == EngagementRate(0.1, RateBasis.VIEWS)


def test_another_workspaces_account_is_not_found(
    db: Session, workspace: Workspace, make_workspace: WorkspaceFactory, owner: User
) -> None:
    other = add_channel(db, make_workspace("rival", owner=owner), "Rival Weibo")
    db.commit()
    with pytest.raises(NotFoundError):
        service.daily_series(db, workspace=workspace, channel_id=other.id, start=MARCH, end=MARCH)


def test_a_series_too_long_is_refused(db: Session, workspace: Workspace) -> None:
    channel = add_channel(db, workspace, "Brand Weibo")
    db.commit()
    with pytest.raises(UserError, match="at most"):
        service.daily_series(
            db,
            workspace=workspace,
            channel_id=channel.id,
            start=date(2020, 1, 1),
            end=date(2026, 1, 1),
        )


# --- Posts -------------------------------------------------------------------------------


def test_posts_of_a_period_come_with_their_latest_figures(
    db: Session, workspace: Workspace, make_workspace: WorkspaceFactory, owner: User
) -> None:
    """Given posts on both sides of the period's edges in the workspace's zone (Shanghai),
    a post with three snapshots and one never snapshotted, and a post of another workspace,
    then the period lists its own posts with the latest figures."""
    weibo = add_channel(db, workspace, "Brand Weibo")
    # 2026-03-01 00:30 in Shanghai is 2026-02-28 16:30 UTC: inside March.
    add_post(
        db,
        weibo,
        "early",
        datetime(2026, 2, 28, 16, 30, tzinfo=UTC),
        {Metric.VIEWS: 10},
        {Metric.VIEWS: 100, Metric.LIKES: 4},
        {Metric.VIEWS: 200, Metric.LIKES: 8, Metric.SHARES: 2},
    )
    add_post(db, weibo, "before", datetime(2026, 2, 28, 15, 30, tzinfo=UTC), {Metric.VIEWS: 5})
    add_post(db, weibo, "fresh", datetime(2026, 3, 2, 8, tzinfo=UTC))
    add_post(db, weibo, "after", datetime(2026, 3, 2, 16, 0, tzinfo=UTC), {Metric.VIEWS: 5})
    rival = add_channel(db, make_workspace("rival", owner=owner), "Rival Weibo")
    add_post(db, rival, "theirs", datetime(2026, 3, 1, 8, tzinfo=UTC), {Metric.VIEWS: 5})
    db.commit()

    posts = listing.post_figures(db, workspace=workspace, start=MARCH, end=date(2026, 3, 2))

    assert [p.external_id for p in posts] == ["early", "fresh"]
    early = posts[0]
    assert (early.views, early.engagements) == (200, 10)
    assert early.engagement_rate == pytest.approx(0.05)
    assert early.engagement_rate_basis == "views"
    assert (early.platform, early.account, early.format) == ("weibo", "Brand Weibo", "image")
    assert posts[1].views is None
    assert posts[1].observed_at is None


def test_without_views_a_posts_rate_is_per_follower_of_that_day(
    db: Session, workspace: Workspace
) -> None:
    channel = add_channel(db, workspace, "Brand Weibo")
    add_days(db, channel, MARCH, [{Metric.FOLLOWERS: 1000}, {}, {Metric.FOLLOWERS: 4000}])
    add_post(
        db,
        channel,
        "p",
        datetime(2026, 3, 2, 4, tzinfo=UTC),
        {Metric.LIKES: 15, Metric.COMMENTS: 5},
    )
    db.commit()

    [post] = listing.post_figures(db, workspace=workspace, start=MARCH, end=date(2026, 3, 3))

    assert post.engagement_rate == pytest.approx(20 / 1000)  # the day before's count
    assert post.engagement_rate_basis == "followers"


def test_a_period_that_ends_before_it_begins_says_so(db: Session, workspace: Workspace) -> None:
    with pytest.raises(UserError, match="swap the two dates"):
        listing.post_figures(db, workspace=workspace, start=MARCH, end=date(2026, 2, 1))


# --- Period totals -----------------------------------------------------------------------


def test_period_totals_per_account_and_overall(db: Session, workspace: Workspace) -> None:
    """Given a Weibo account with views and a WeChat account, the totals add posts, views
    and engagements, followers at the end and the net growth of the period."""
    weibo = add_channel(db, workspace, "Brand Weibo")
    wechat = add_channel(db, workspace, "Brand WeChat", platform="wechat")
    add_days(
        db,
        weibo,
        MARCH - timedelta(days=1),
        [
            {Metric.FOLLOWERS: 990},
            {Metric.FOLLOWERS: 1000},
            {Metric.FOLLOWERS: 1010},
            {Metric.FOLLOWERS: 1030},
        ],
    )
    add_days(
        db,
        wechat,
        MARCH,
        [
            {Metric.FOLLOWERS: 500, Metric.NEW_FOLLOWERS: 6, Metric.LOST_FOLLOWERS: 1},
            {Metric.FOLLOWERS: 505, Metric.NEW_FOLLOWERS: 7, Metric.LOST_FOLLOWERS: 2},
        ],
    )
    day = datetime(2026, 3, 1, 4, tzinfo=UTC)
    add_post(db, weibo, "w1", day, {Metric.VIEWS: 1000, Metric.LIKES: 40, Metric.COMMENTS: 10})
    add_post(db, weibo, "w2", day, {Metric.VIEWS: 1000, Metric.LIKES: 30})
    add_post(db, wechat, "a1", day, {Metric.VIEWS: 2000, Metric.WOWS: 20, Metric.LIKES: 20})
    add_post(db, wechat, "a2", day)
    db.commit()

    totals = service.period_totals(db, workspace=workspace, start=MARCH, end=date(2026, 3, 3))

    w, c = totals.channels[weibo.id], totals.channels[wechat.id]
    assert (w.posts, w.views, w.engagements, w.followers, w.net_follower_growth) == (
        2,
        2000,
        80,
        1030,
        40,
    )
    assert w.engagement_rate == EngagementRate(0.04, RateBasis.VIEWS)
    assert (c.posts, c.views, c.engagements, c.followers, c.net_follower_growth) == (
        2,
        2000,
        40,
        505,
        10,
    )
    overall = totals.overall
    assert (overall.posts, overall.views, overall.engagements, overall.followers) == (
        4,
        4000,
        120,
        1535,
    )
    assert overall.net_follower_growth == 50
    assert overall.engagement_rate == EngagementRate(0.03, RateBasis.VIEWS)


def test_totals_without_views_are_per_follower(db: Session, workspace: Workspace) -> None:
    channel = add_channel(db, workspace, "Brand Weibo")
    add_days(db, channel, MARCH, [{Metric.FOLLOWERS: 2000}])
    day = datetime(2026, 3, 1, 4, tzinfo=UTC)
    add_post(db, channel, "a", day, {Metric.LIKES: 30})
    add_post(db, channel, "b", day, {Metric.LIKES: 10})
    db.commit()

    totals = service.period_totals(db, workspace=workspace, start=MARCH, end=MARCH)

    assert totals.overall.engagement_rate == EngagementRate(40 / (2 * 2000), RateBasis.FOLLOWERS)


def test_the_previous_period_and_the_change() -> None:
    assert service.previous_period(MARCH, date(2026, 3, 7)) == (
        date(2026, 2, 22),
        date(2026, 2, 28),
    )
    assert service.change(110, 100) == pytest.approx(0.1)
    assert service.change(90, -100) == pytest.approx(1.9)
    assert service.change(5, 0) is None
    assert service.change(None, 3) is None


# --- Collection status -------------------------------------------------------------------


def test_the_collection_status_shows_what_is_held_and_what_is_missing(
    db: Session, workspace: Workspace
) -> None:
    channel = add_channel(db, workspace, "Brand Douyin", platform="douyin")
    add_days(db, channel, MARCH, [{Metric.VIEWS: 1}, {Metric.VIEWS: 2}])
    add_post(db, channel, "v", datetime(2026, 3, 1, 4, tzinfo=UTC))
    db.add(
        MissingFigures(
            channel_id=channel.id,
            kind=FiguresKind.ACCOUNT,
            first_day=date(2026, 2, 1),
            last_day=date(2026, 2, 28),
            reason="Fan data needs more than 100 fans.",
        )
    )
    db.commit()

    [found] = status.collection_status(db, workspace=workspace)

    assert (found.posts, found.first_day, found.last_day) == (1, MARCH, date(2026, 3, 2))
    assert [m.reason for m in found.missing] == ["Fan data needs more than 100 fans."]
    assert found.state is None  # never collected yet


# --- Custom metrics ----------------------------------------------------------------------


def test_a_custom_metric_is_defined_and_computed(
    db: Session, workspace: Workspace, owner: User
) -> None:
    metric = custom_metrics.create_custom_metric(
        db,
        workspace=workspace,
        actor=owner,
        data=CustomMetricCreate(
            name="Share rate", formula="shares / views", display=MetricDisplay.PERCENT
        ),
    )
    db.commit()

    assert custom_metrics.custom_value(metric, {Metric.VIEWS: 400, Metric.SHARES: 10}) == 0.025
    assert custom_metrics.custom_value(metric, {Metric.VIEWS: 0, Metric.SHARES: 10}) is None
    assert custom_metrics.custom_value(metric, {Metric.VIEWS: 400}) is None
    assert [m.name for m in custom_metrics.list_custom_metrics(db, workspace=workspace)] == [
        "Share rate"
    ]


def test_a_bad_formula_is_refused_with_where_and_what_to_fix(
    db: Session, workspace: Workspace, owner: User
) -> None:
    with pytest.raises(FormulaError) as raised:
        custom_metrics.create_custom_metric(
            db,
            workspace=workspace,
            actor=owner,
            data=CustomMetricCreate(name="Open rate", formula="reads / followers"),
        )
    assert raised.value.column == 1
    assert raised.value.status_code == 400


def test_a_metric_name_is_used_once_per_workspace(
    db: Session, workspace: Workspace, owner: User, make_workspace: WorkspaceFactory
) -> None:
    data = CustomMetricCreate(name="Share rate", formula="shares / views")
    custom_metrics.create_custom_metric(db, workspace=workspace, actor=owner, data=data)
    db.commit()
    with pytest.raises(ConflictError, match="exists already"):
        custom_metrics.create_custom_metric(db, workspace=workspace, actor=owner, data=data)
    other = make_workspace("rival", owner=owner)
    custom_metrics.create_custom_metric(db, workspace=other, actor=owner, data=data)


def test_another_workspaces_metric_cannot_be_deleted(
    db: Session, workspace: Workspace, owner: User, make_workspace: WorkspaceFactory
) -> None:
    other = make_workspace("rival", owner=owner)
    theirs = custom_metrics.create_custom_metric(
        db,
        workspace=other,
        actor=owner,
        data=CustomMetricCreate(name="Share rate", formula="shares / views"),
    )
    db.commit()
    with pytest.raises(NotFoundError):
        custom_metrics.delete_custom_metric(
            db, workspace=workspace, metric_id=theirs.id, actor=owner
        )
    custom_metrics.delete_custom_metric(db, workspace=other, metric_id=theirs.id, actor=owner)
    db.commit()
    assert custom_metrics.list_custom_metrics(db, workspace=other) == []
