"""The analytics collector, against a connector with planted figures and planted errors:
the decaying snapshot schedule, idempotence, resumption of a killed backfill, pauses on
rate limits, and figures the platform cannot give recorded with their reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.connectors.base import (
    ContentFormat,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
    TransientError,
)
from guanxi.connectors.metrics import Metric, MetricsLimits, MetricsUnavailableError
from guanxi.measure.collect import collect_channel_id, measured_channel_ids
from guanxi.measure.models import (
    AccountDay,
    AccountDayBreakdown,
    CollectionState,
    FiguresKind,
    FoundBy,
    MeasuredPost,
    MissingFigures,
    PostSnapshot,
    SnapshotPlan,
)
from guanxi.measure.posts import MAX_SNAPSHOT_CALLS, next_snapshot_at
from guanxi.publishing.models import MediaAsset, Post, Variant, VariantState
from tests.conftest import UserFactory, WorkspaceFactory
from tests.measure_support import (
    BOX,
    NOW,
    TODAY,
    Collector,
    FakeMetrics,
    PlantedPost,
    daily_figures,
    make_channel,
)

H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("brand", owner=make_user("owner@brand.example"))


def collector(db: Session, workspace: Workspace, connector: FakeMetrics) -> Collector:
    return Collector(db, make_channel(db, workspace), connector)


def count(db: Session, table: type) -> int:
    return db.scalar(select(func.count()).select_from(table)) or 0


def table_rows(db: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every analytics row, without the bookkeeping times, in key order."""
    db.expire_all()
    return {
        "posts": db.execute(
            select(
                MeasuredPost.channel_id,
                MeasuredPost.external_id,
                MeasuredPost.snapshot_count,
                MeasuredPost.next_snapshot_at,
            ).order_by(MeasuredPost.external_id)
        ).all(),
        "snapshots": db.execute(
            select(
                PostSnapshot.post_id,
                PostSnapshot.observed_at,
                PostSnapshot.views,
                PostSnapshot.likes,
            ).order_by(PostSnapshot.post_id, PostSnapshot.observed_at)
        ).all(),
        "days": db.execute(
            select(AccountDay.day, AccountDay.followers, AccountDay.views).order_by(AccountDay.day)
        ).all(),
        "breakdowns": db.execute(
            select(
                AccountDayBreakdown.day, AccountDayBreakdown.key, AccountDayBreakdown.value
            ).order_by(AccountDayBreakdown.day, AccountDayBreakdown.key)
        ).all(),
    }


def forget_state(db: Session, run: Collector) -> None:
    """As if the channel had never been collected (its rows stay)."""
    db.delete(db.get_one(CollectionState, run.channel.id))
    db.commit()


# --- The decaying schedule ---------------------------------------------------------------

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "due"),
    [
        (None, T0 + H),
        (T0 + H, T0 + 6 * H),
        (T0 + 2 * H, T0 + 6 * H),
        (T0 + 6 * H, T0 + 24 * H),
        (T0 + 30 * H, T0 + 3 * D),
        (T0 + 3 * D, T0 + 7 * D),
        (T0 + 8 * D, T0 + 30 * D),
        (T0 + 30 * D, T0 + 60 * D),
        (T0 + 400 * D, T0 + 420 * D),
    ],
)
def test_a_post_is_due_on_a_decaying_schedule(after: datetime | None, due: datetime) -> None:
    """1 h, 6 h, 24 h, 3 d, 7 d, 30 d after publishing, then every 30 days; a snapshot taken
    late makes the next one the next step of the schedule, not a catch-up."""
    assert next_snapshot_at(T0, after=after) == due


def test_a_post_the_api_forgets_gets_a_last_snapshot_before_it_is_too_old() -> None:
    """Given Douyin's 30 days of video data, the 30-day snapshot comes 6 hours early, and
    then none."""
    month = timedelta(days=30)
    assert next_snapshot_at(T0, after=T0 + 8 * D, max_age=month) == T0 + month - 6 * H
    assert next_snapshot_at(T0, after=T0 + month - 6 * H, max_age=month) is None


def test_which_posts_are_due_when(db: Session, workspace: Workspace) -> None:
    """Given a post published at T0 and found in the account's posts, when the collector
    runs every few hours, then it snapshots the post 1 h, 6 h and 24 h after publishing,
    once each, and not in between."""
    fake = FakeMetrics(posts=[PlantedPost("p1", T0)])
    run = collector(db, workspace, fake)

    taken = {}
    for at in (
        T0 + H / 2,
        T0 + H + 5 * 60 * timedelta(seconds=1),
        T0 + 2 * H,
        T0 + 5 * H,
        T0 + 6 * H,
        T0 + 7 * H,
        T0 + 23 * H,
        T0 + 25 * H,
        T0 + 26 * H,
    ):
        taken[at - T0] = run.run(at).snapshots

    assert [age for age, n in taken.items() if n] == [
        H + timedelta(minutes=5),
        6 * H,
        25 * H,
    ]
    views = db.scalars(select(PostSnapshot.views).order_by(PostSnapshot.observed_at)).all()
    assert views == [100, 600, 2500]
    post = db.scalars(select(MeasuredPost)).one()
    assert post.found_by == FoundBy.TIMELINE
    assert post.snapshot_count == 3
    assert post.next_snapshot_at == T0 + 3 * D
    assert (post.views, post.likes, post.last_observed_at) == (2500, 125, T0 + 25 * H)


def test_snapshots_are_taken_in_batches_of_the_platforms_size(
    db: Session, workspace: Workspace
) -> None:
    posts = [PlantedPost(f"p{i}", T0 - i * H) for i in range(5)]
    fake = FakeMetrics(posts=posts)
    report = collector(db, workspace, fake).run(T0 + 2 * D)

    assert report.snapshots == 5
    assert [len(call.args[0]) for call in fake.calls_of("post_metrics")] == [2, 2, 1]


def test_a_backlog_of_posts_is_spread_over_runs(db: Session, workspace: Workspace) -> None:
    """Given 25 posts due and batches of 2, a run makes at most MAX_SNAPSHOT_CALLS calls;
    the next run takes the rest."""
    fake = FakeMetrics(posts=[PlantedPost(f"p{i:02}", T0 - i * H) for i in range(25)], page_size=25)
    run = collector(db, workspace, fake)

    assert run.run(T0 + 2 * D).snapshots == 2 * MAX_SNAPSHOT_CALLS
    assert run.run(T0 + 2 * D + timedelta(minutes=15)).snapshots == 25 - 2 * MAX_SNAPSHOT_CALLS


def test_posts_older_than_the_api_reports_on_are_not_asked_for(
    db: Session, workspace: Workspace
) -> None:
    limits = MetricsLimits(post_batch=10, account_range_days=7, post_max_age_days=30)
    fake = FakeMetrics(
        limits=limits, posts=[PlantedPost("old", T0 - 40 * D), PlantedPost("new", T0 - 2 * H)]
    )
    collector(db, workspace, fake).run(T0)

    assert [call.args[0] for call in fake.calls_of("post_metrics")] == [("new",)]
    plans = dict(db.execute(select(MeasuredPost.external_id, MeasuredPost.plan)).all())
    assert plans == {"old": SnapshotPlan.FINISHED, "new": SnapshotPlan.ACTIVE}


def test_a_post_the_platform_stops_answering_for_is_given_up(
    db: Session, workspace: Workspace
) -> None:
    post = PlantedPost("deleted", T0)
    fake = FakeMetrics(posts=[post])
    run = collector(db, workspace, fake)
    run.run(T0 + 2 * H)
    post.reported = False
    for at in (T0 + 7 * H, T0 + 25 * H, T0 + 4 * D):
        run.run(at)

    gone = db.scalars(select(MeasuredPost)).one()
    assert gone.plan == SnapshotPlan.GONE
    assert gone.next_snapshot_at is None
    calls = len(fake.calls_of("post_metrics"))
    run.run(T0 + 10 * D)
    assert len(fake.calls_of("post_metrics")) == calls


# --- Idempotence -------------------------------------------------------------------------


def test_running_twice_changes_nothing(db: Session, workspace: Workspace) -> None:
    """Given an account with a month of history and two posts, when the collector runs and
    runs again at once, then the second run asks the platform nothing and the rows are the
    same."""
    fake = FakeMetrics(
        posts=[PlantedPost("p1", NOW - 3 * H), PlantedPost("p2", NOW - 2 * D)],
        days=daily_figures(TODAY - 60 * D, TODAY - D),
    )
    fake.breakdowns[TODAY - D] = {"follower_source": {"search": 4, "article": 8}}
    run = collector(db, workspace, fake)
    first = run.run(NOW)
    before = table_rows(db)

    second = run.run(NOW + timedelta(minutes=15))

    assert first.backfill_done
    assert second.calls == 0
    assert table_rows(db) == before
    assert len(before["days"]) == 30  # from 30 days ago, the oldest kept, to yesterday
    assert before["breakdowns"] == [(TODAY - D, "article", 8), (TODAY - D, "search", 4)]


def test_collecting_the_same_days_again_changes_nothing(db: Session, workspace: Workspace) -> None:
    """Given the days collected once, when the state is forgotten and every day is collected
    again, then each day is still one row with the same figures."""
    fake = FakeMetrics(days=daily_figures(TODAY - 60 * D, TODAY - D))
    run = collector(db, workspace, fake)
    run.run(NOW)
    before = table_rows(db)

    forget_state(db, run)
    run.run(NOW + H)

    assert table_rows(db) == before
    assert len(fake.calls_of("account_metrics")) == 2 * 5


def test_a_figure_no_longer_reported_keeps_its_value(db: Session, workspace: Workspace) -> None:
    yesterday = TODAY - D
    fake = FakeMetrics(days={yesterday: {Metric.FOLLOWERS: 100, Metric.VIEWS: 40}})
    run = collector(db, workspace, fake)
    run.run(NOW)
    fake.days[yesterday] = {Metric.FOLLOWERS: 101}
    run.run(NOW + D)

    day = db.get_one(AccountDay, (run.channel.id, yesterday), populate_existing=True)
    assert (day.followers, day.views) == (101, 40)


# --- The backfill ------------------------------------------------------------------------


def test_a_killed_backfill_resumes_where_it_stopped(db: Session, workspace: Workspace) -> None:
    """Given WeChat's history from 2014 and an account with 200 days of figures, when the
    worker dies during the fourth range and the collector runs again until it is done, then
    every day is stored once and no range was asked twice but the one that was cut."""
    limits = MetricsLimits(
        post_batch=20,
        account_range_days=7,
        account_delay_days=1,
        account_history_start=date(2014, 12, 1),
    )
    days = daily_figures(TODAY - 200 * D, TODAY - D)
    fake = FakeMetrics(limits=limits, days=days)
    fake.errors["account_metrics"] = [None, None, None, RuntimeError("worker killed")]
    run = collector(db, workspace, fake)

    with pytest.raises(RuntimeError, match="worker killed"):
        run.run(NOW)
    db.rollback()
    stored = count(db, AccountDay)
    assert stored == 3 * 7
    runs = 0
    while not run.run(NOW + runs * H).backfill_done:
        runs += 1
        assert runs < 10

    assert count(db, AccountDay) == len(days)
    asked = [call.args for call in fake.calls_of("account_metrics")]
    assert len(asked) == len(set(asked)) + 1  # the range cut by the kill, asked again
    state = db.get_one(CollectionState, run.channel.id, populate_existing=True)
    # Stopped 90 days before the oldest figures, far from 2014: nothing is there.
    assert state.history_from is not None
    assert TODAY - 200 * D - state.history_from <= timedelta(days=97)


def test_the_backfill_stops_at_the_oldest_day_the_platform_gives(
    db: Session, workspace: Workspace
) -> None:
    fake = FakeMetrics(days=daily_figures(TODAY - 400 * D, TODAY - D))
    run = collector(db, workspace, fake)
    report = run.run(NOW)

    assert report.backfill_done
    oldest = db.scalar(select(func.min(AccountDay.day)))
    assert oldest == TODAY - 30 * D  # LIMITS: 30 days of history
    assert min(call.args[0] for call in fake.calls_of("account_metrics")) == TODAY - 30 * D


def test_days_not_collected_for_a_while_are_caught_up_then_collected_once_a_day(
    db: Session, workspace: Workspace
) -> None:
    fake = FakeMetrics(days=daily_figures(TODAY - 60 * D, TODAY + 20 * D))
    run = collector(db, workspace, fake)
    run.run(NOW)
    report = run.run(NOW + 10 * D)
    assert report.days == 11  # yesterday again, and the ten days since
    asked = len(fake.calls_of("account_metrics"))
    run.run(NOW + 10 * D + 3 * H)
    assert len(fake.calls_of("account_metrics")) == asked
    state = db.get_one(CollectionState, run.channel.id, populate_existing=True)
    assert state.days_through == TODAY + 9 * D


# --- Errors ------------------------------------------------------------------------------


def test_a_rate_limit_pauses_the_channel_as_publishing_does(
    db: Session, workspace: Workspace
) -> None:
    fake = FakeMetrics(
        posts=[PlantedPost("p1", NOW - 2 * H)], days=daily_figures(TODAY - 5 * D, TODAY)
    )
    fake.errors["post_metrics"] = [RateLimitedError("Too many requests", retry_after_s=600)]
    run = collector(db, workspace, fake)
    report = run.run(NOW)

    channel = db.get_one(Channel, run.channel.id, populate_existing=True)
    assert channel.paused_until == NOW + timedelta(seconds=600)
    assert report.error == "Too many requests"
    assert not fake.calls_of("account_metrics")  # the run stopped there
    state = db.get_one(CollectionState, run.channel.id)
    assert (state.last_error, state.last_error_at) == ("Too many requests", NOW)

    later = run.run(NOW + timedelta(minutes=5))
    assert later.skipped == "paused"
    assert later.calls == 0

    resumed = run.run(NOW + timedelta(minutes=11))
    assert resumed.snapshots == 1
    assert db.get_one(CollectionState, run.channel.id, populate_existing=True).last_error == ""


def test_an_app_wide_quota_pauses_every_channel_of_the_connector(
    db: Session, workspace: Workspace
) -> None:
    resets = NOW + timedelta(hours=14)
    fake = FakeMetrics(days=daily_figures(TODAY - 5 * D, TODAY))
    fake.errors["account_metrics"] = [
        QuotaExhaustedError("Daily quota used", resets_at=resets, app_wide=True)
    ]
    run = collector(db, workspace, fake)
    other = make_channel(db, workspace, external_id="other", name="Other Weibo")
    run.run(NOW)

    paused = db.scalars(
        select(Channel.paused_until).order_by(Channel.id).execution_options(populate_existing=True)
    ).all()
    assert paused == [resets, resets]
    db.refresh(other)  # as the worker reads it, in a session of its own
    assert Collector(db, other, fake).run(NOW + H).skipped == "paused"


def test_a_refused_token_parks_the_channel_until_reconnected(
    db: Session, workspace: Workspace
) -> None:
    fake = FakeMetrics(days=daily_figures(TODAY - 5 * D, TODAY))
    fake.errors["account_metrics"] = [TokenError("The token expired")]
    run = collector(db, workspace, fake)
    run.run(NOW)

    channel = db.get_one(Channel, run.channel.id, populate_existing=True)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert run.run(NOW + H).skipped == ChannelStatus.NEEDS_RECONNECT


def test_a_passing_error_is_recorded_and_the_next_run_tries_again(
    db: Session, workspace: Workspace
) -> None:
    fake = FakeMetrics(days=daily_figures(TODAY - 5 * D, TODAY))
    fake.errors["account_metrics"] = [TransientError("System busy", code="-1")]
    run = collector(db, workspace, fake)
    report = run.run(NOW)
    assert (report.error, report.error_code) == ("System busy", "-1")
    assert db.get_one(Channel, run.channel.id).paused_until is None

    assert run.run(NOW + timedelta(minutes=15)).days > 0


def test_figures_the_platform_cannot_give_are_recorded_with_why(
    db: Session, workspace: Workspace
) -> None:
    """Given a Douyin account under 100 fans, when the collector runs on three days, then
    the days are one missing range with the platform's reason, and the rest is collected."""
    reason = "Douyin gives fan data only for accounts with more than 100 fans."
    fake = FakeMetrics(posts=[PlantedPost("v1", NOW - 2 * H)])
    fake.errors["account_metrics"] = [MetricsUnavailableError(reason, code="fans")] * 20
    run = collector(db, workspace, fake)
    first = run.run(NOW)
    for day in (1, 2):
        run.run(NOW + day * D)

    assert first.snapshots == 1
    missing = db.scalars(select(MissingFigures)).all()
    assert [(m.kind, m.reason, m.code) for m in missing] == [(FiguresKind.ACCOUNT, reason, "fans")]
    assert missing[0].first_day == TODAY - 30 * D
    assert missing[0].last_day == TODAY + D
    assert db.get_one(CollectionState, run.channel.id).last_error == ""


def test_days_answered_later_are_no_longer_missing(db: Session, workspace: Workspace) -> None:
    fake = FakeMetrics(days=daily_figures(TODAY - 60 * D, TODAY + 5 * D))
    fake.errors["account_metrics"] = [MetricsUnavailableError("Not yet", code="x")]
    run = collector(db, workspace, fake)
    run.run(NOW)
    missing = db.scalars(select(MissingFigures)).one()
    assert (missing.first_day, missing.last_day) == (TODAY - 7 * D, TODAY - D)

    forget_state(db, run)
    run.run(NOW + H)

    assert db.scalars(select(MissingFigures)).all() == []


# --- Channels and published posts --------------------------------------------------------


def test_only_channels_whose_connector_reads_metrics_are_collected(
    db: Session, workspace: Workspace, session_factory: object
) -> None:
    measured = make_channel(db, workspace)
    manual = Channel(
        workspace_id=workspace.id,
        connector="manual",
        platform="xiaohongshu",
        external_id="xhs",
        name="Xiaohongshu",
    )
    db.add(manual)
    db.commit()
    fake = FakeMetrics()
    without = FakeMetrics()
    without.capabilities = frozenset()

    def connector_for(channel: Channel) -> FakeMetrics:
        return fake if channel.id == measured.id else without

    assert measured_channel_ids(session_factory, connector_for=connector_for) == [measured.id]  # type: ignore[arg-type]


def test_collect_channel_id_runs_in_its_own_session(
    db: Session, workspace: Workspace, session_factory: object
) -> None:
    channel = make_channel(db, workspace)
    fake = FakeMetrics(days=daily_figures(TODAY - 10 * D, TODAY))
    report = collect_channel_id(
        session_factory,
        channel.id,
        connector_for=lambda _c: fake,  # type: ignore[arg-type]
        box=BOX,
        owner="test",
        now=NOW,
    )
    assert report is not None
    assert report.days == 10
    assert (
        collect_channel_id(
            session_factory,
            999_999,
            connector_for=lambda _c: fake,  # type: ignore[arg-type]
            box=BOX,
            owner="test",
            now=NOW,
        )
        is None
    )


def test_posts_published_with_guanxi_are_measured_with_their_format(
    db: Session, workspace: Workspace
) -> None:
    channel = make_channel(db, workspace)
    post = Post(workspace_id=workspace.id, title="Launch", body="")
    db.add(post)
    db.flush()
    video = MediaAsset(
        workspace_id=workspace.id,
        kind="video",
        filename="a.mp4",
        size=1,
        content_type="video/mp4",
        sha256="0" * 64,
        storage_path="a.mp4",
    )
    db.add(video)
    db.flush()

    def variant(key: str, state: VariantState, external_id: str, **extra: object) -> Variant:
        row = Variant(
            workspace_id=workspace.id,
            post_id=post.id,
            channel_id=channel.id,
            idempotency_key=key,
            state=state,
            external_id=external_id,
            published_at=T0,
            text=f"text {key}",
            **extra,
        )
        db.add(row)
        return row

    variant("a", VariantState.PUBLISHED, "p-video", media_ids=[video.id])
    variant("b", VariantState.PUBLISHED, "p-text")
    variant("c", VariantState.SCHEDULED, "")
    variant("d", VariantState.PUBLISHED, "p-timeline")
    db.commit()
    elsewhere = PlantedPost("p-elsewhere", T0, format=ContentFormat.LIVE)
    fake = FakeMetrics(posts=[PlantedPost("p-timeline", T0), elsewhere])
    run = Collector(db, channel, fake)
    run.run(T0 + 2 * H)
    run.run(T0 + 4 * H)

    rows = db.execute(
        select(
            MeasuredPost.external_id,
            MeasuredPost.found_by,
            MeasuredPost.format,
            MeasuredPost.variant_id.is_not(None),
        ).order_by(MeasuredPost.external_id)
    ).all()
    assert rows == [
        ("p-elsewhere", FoundBy.TIMELINE, "live", False),  # the format the timeline says
        ("p-text", FoundBy.PUBLISHED, "text", True),
        ("p-timeline", FoundBy.PUBLISHED, "text", True),
        ("p-video", FoundBy.PUBLISHED, "video", True),
    ]
