"""Douyin's data through the real connector against the sandbox: videos' totals for videos
under 30 days old, the account's daily figures over Douyin's 7/15/30-day windows, the
100-fan threshold, the account's videos, and the errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ConnectorConfig,
    ContentFormat,
    FetchedKind,
    RateLimitedError,
    Token,
    TokenError,
)
from guanxi.connectors.douyin import SCOPES, DouyinConnector
from guanxi.connectors.douyin_metrics import MSG_FEW_FANS, MSG_TOO_OLD, date_type_for
from guanxi.connectors.metrics import Metric, MetricsUnavailableError, ReadsMetrics
from guanxi.connectors.metrics_days import day_start
from guanxi.sandbox import metrics
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.douyin import (
    DEMO_DOUYIN_CLIENT_KEY,
    DEMO_DOUYIN_OPEN_ID,
    DEMO_DOUYIN_TOKEN,
    DouyinSandboxConfig,
    douyin_surface,
)
from guanxi.sandbox.douyin_metrics import FANS_TOO_FEW, ITEM_TOO_OLD, add_history_videos
from guanxi.sandbox.ratelimit import RateLimiter
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import SandboxPost, SandboxState
from tests import http_support as local
from tests.http_support import local_client
from tests.metrics_support import NOW, TODAY, YESTERDAY, MemoryTokens, calls, fault, pin_now


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    """A sandbox with the Douyin surface, its clock and the connector's at ``NOW``."""
    with run_in_thread(create_sandbox_app(platform_surfaces=[douyin_surface()])) as running:
        pin_now(running, monkeypatch)
        yield running


@pytest.fixture
def douyin(sandbox: RunningSandbox) -> Iterator[DouyinConnector]:
    """The connector, configured by base URL only."""
    with local_client() as http:
        config = ConnectorConfig(sandbox.api_base("/douyin"), http, app_id=DEMO_DOUYIN_CLIENT_KEY)
        yield DouyinConnector(config)


def channel(token: str = DEMO_DOUYIN_TOKEN) -> ChannelContext:
    """The demo brand account with its long-lived sandbox token (no refresh token)."""
    live = Token(token, expires_at=NOW + timedelta(days=3650))
    return ChannelContext(1, DEMO_DOUYIN_OPEN_ID, {}, MemoryTokens(live))


def state_of(sandbox: RunningSandbox) -> SandboxState:
    """The sandbox's memory."""
    return sandbox.sandbox.state


def video(sandbox: RunningSandbox, days_ago: float) -> SandboxPost:
    """A public video the account published ``days_ago`` before now."""
    state = state_of(sandbox)
    created = NOW - timedelta(days=days_ago)
    post = SandboxPost(
        "douyin", DEMO_DOUYIN_OPEN_ID, f"@{state.next_id()}", "开瓶 #小技巧 ", created
    )
    return state.add_post(post)


def test_douyin_declares_metrics(douyin: DouyinConnector) -> None:
    """The connector reads metrics within Douyin's 30 days, and asks for the data scopes."""
    assert Capability.METRICS in douyin.capabilities
    assert isinstance(douyin, ReadsMetrics)
    limits = douyin.metrics_limits
    assert limits.post_max_age_days == limits.account_history_days == 30
    assert limits.account_delay_days == 1
    assert "data.external.item" in SCOPES
    assert "data.external.user" in SCOPES


def test_a_videos_totals_as_of_yesterday(douyin: DouyinConnector, sandbox: RunningSandbox) -> None:
    """A video's plays, likes, comments and shares at the end of yesterday; an unknown id is
    left out."""
    post = video(sandbox, 5)
    found = douyin.post_metrics(channel(), [post.post_id, "@404"])
    assert [f.external_id for f in found] == [post.post_id]
    as_of = day_start(TODAY)
    figures = metrics.post_figures(state_of(sandbox), post, as_of)
    assert found[0].as_of == as_of
    assert found[0].values == {
        Metric.VIEWS: figures["views"],
        Metric.LIKES: figures["likes"],
        Metric.COMMENTS: figures["comments"],
        Metric.SHARES: figures["shares"],
    }
    assert found[0].values[Metric.VIEWS] > found[0].values[Metric.LIKES] > 0


def test_videos_older_than_30_days_have_no_figures(
    douyin: DouyinConnector, sandbox: RunningSandbox
) -> None:
    """Douyin gives data for videos created in the last 30 days: an older one is left out."""
    young, old = video(sandbox, 29), video(sandbox, 31)
    found = douyin.post_metrics(channel(), [young.post_id, old.post_id])
    assert [f.external_id for f in found] == [young.post_id]
    answer = local.get(
        sandbox.api_base("/douyin") + "/data/external/item/base/",
        params={"open_id": DEMO_DOUYIN_OPEN_ID, "item_id": old.post_id},
        headers={"access-token": DEMO_DOUYIN_TOKEN},
    )
    assert answer.json()["data"]["error_code"] == ITEM_TOO_OLD


def test_the_window_that_covers_the_range() -> None:
    """7, 15 or 30 days: the smallest that covers the days asked for."""
    assert [date_type_for(days) for days in (1, 7, 8, 15, 16, 30, 45)] == [7, 7, 15, 15, 30, 30, 30]


def test_the_accounts_days(douyin: DouyinConnector, sandbox: RunningSandbox) -> None:
    """Each day up to yesterday: followers, new followers, plays, likes, comments, shares,
    in one call per endpoint."""
    video(sandbox, 3)
    days = douyin.account_metrics(channel(), start=TODAY - timedelta(days=10), end=TODAY)
    assert [d.day for d in days] == [TODAY - timedelta(days=n) for n in range(10, 0, -1)]
    assert calls(sandbox, "/data/external/user/") == 5
    for day in days:
        figures = metrics.account_day(state_of(sandbox), "douyin", DEMO_DOUYIN_OPEN_ID, day.day)
        assert figures is not None
        assert day.values == {
            Metric.FOLLOWERS: figures.followers,
            Metric.NEW_FOLLOWERS: figures.new_followers,
            Metric.VIEWS: figures.figures["views"],
            Metric.LIKES: figures.figures["likes"],
            Metric.COMMENTS: figures.figures["comments"],
            Metric.SHARES: figures.figures["shares"],
        }


def test_the_account_history_is_30_days(douyin: DouyinConnector) -> None:
    """Days older than 30 are left out; a range wholly older says why nothing can be read."""
    days = douyin.account_metrics(channel(), start=TODAY - timedelta(days=45), end=YESTERDAY)
    assert days[0].day == TODAY - timedelta(days=30)
    assert len(days) == 30
    with pytest.raises(MetricsUnavailableError) as raised:
        douyin.account_metrics(
            channel(), start=TODAY - timedelta(days=60), end=TODAY - timedelta(days=31)
        )
    assert raised.value.message == MSG_TOO_OLD


def test_an_account_with_100_fans_or_fewer(
    douyin: DouyinConnector, sandbox: RunningSandbox
) -> None:
    """Douyin keeps account data for accounts over 100 fans: below, the connector says so
    (a translatable message for the collection page) instead of failing."""
    metrics.tune(
        state_of(sandbox),
        "douyin",
        DEMO_DOUYIN_OPEN_ID,
        initial_followers=100,
        daily_new_followers=0,
    )
    with pytest.raises(MetricsUnavailableError) as raised:
        douyin.account_metrics(channel(), start=YESTERDAY, end=YESTERDAY)
    assert raised.value.message == MSG_FEW_FANS
    assert raised.value.code == str(FANS_TOO_FEW)
    # Its videos are still measured.
    post = video(sandbox, 2)
    assert [f.external_id for f in douyin.post_metrics(channel(), [post.post_id])] == [post.post_id]


def test_the_sandbox_refuses_other_windows(sandbox: RunningSandbox) -> None:
    """Directly: a date_type other than 7, 15 or 30 is a parameter error."""
    answer = local.get(
        sandbox.api_base("/douyin") + "/data/external/user/fans/",
        params={"open_id": DEMO_DOUYIN_OPEN_ID, "date_type": 10},
        headers={"access-token": DEMO_DOUYIN_TOKEN},
    )
    assert answer.json()["data"]["error_code"] == 2100005
    answer = local.get(
        sandbox.api_base("/douyin") + "/data/external/user/fans/",
        params={"open_id": DEMO_DOUYIN_OPEN_ID, "date_type": 15},
        headers={"access-token": DEMO_DOUYIN_TOKEN},
    )
    assert len(answer.json()["data"]["result_list"]) == 15


def test_the_accounts_videos_wherever_they_were_published(
    douyin: DouyinConnector, sandbox: RunningSandbox
) -> None:
    """Every public video, oldest first, with its live counts; then only newer ones."""
    added = add_history_videos(state_of(sandbox), DEMO_DOUYIN_OPEN_ID, days=60, per_week=4)
    page = douyin.account_posts(channel())
    assert len(page.items) == added > 20
    assert {item.kind for item in page.items} == {FetchedKind.POST}
    assert [i.created_at for i in page.items] == sorted(i.created_at for i in page.items)
    assert page.items[0].metrics["plays"] > 0
    fresh = video(sandbox, 0.1)
    newer = douyin.account_posts(channel(), since=page.cursor)
    assert [item.external_id for item in newer.items] == [fresh.post_id]


def test_errors_are_the_connectors_usual_ones(
    douyin: DouyinConnector, sandbox: RunningSandbox
) -> None:
    """A rate limit waits; a revoked authorization without a refresh token needs reconnecting."""
    post = video(sandbox, 1)
    fault(sandbox, "douyin", kind="rate_limit", path_contains="/data/external/", remaining=1)
    with pytest.raises(RateLimitedError):
        douyin.post_metrics(channel(), [post.post_id])
    state_of(sandbox).revoke_tokens("douyin", DEMO_DOUYIN_OPEN_ID)
    with pytest.raises(TokenError):
        douyin.account_metrics(channel(), start=YESTERDAY, end=YESTERDAY)


def test_the_sandboxs_own_limit_counts_data_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Data calls count against the per-minute limit per account like any other call: past
    it, Douyin's 429 asks to wait, and the connector says how long."""
    config = DouyinSandboxConfig(account_limit_per_minute=3)
    with (
        run_in_thread(create_sandbox_app(platform_surfaces=[douyin_surface(config)])) as running,
        local_client() as http,
    ):
        pin_now(running, monkeypatch)
        running.sandbox.limiter = RateLimiter(clock=lambda: 0.0)  # one window throughout
        posts = [video(running, days) for days in (1, 2, 3, 4)]
        connector = DouyinConnector(
            ConnectorConfig(running.api_base("/douyin"), http, app_id=DEMO_DOUYIN_CLIENT_KEY)
        )
        with pytest.raises(RateLimitedError) as limited:
            connector.post_metrics(channel(), [post.post_id for post in posts])
    assert 0 < limited.value.retry_after_s <= 61


def test_a_video_is_a_video_and_an_image_album_is_images(
    douyin: DouyinConnector, sandbox: RunningSandbox
) -> None:
    """The video list's ``media_type`` says which posts are image albums (图集)."""
    add_history_videos(state_of(sandbox), DEMO_DOUYIN_OPEN_ID, days=30, per_week=4)
    album = state_of(sandbox).posts_of("douyin", DEMO_DOUYIN_OPEN_ID)[0]
    album.extra["album"] = True
    page = douyin.account_posts(channel())
    formats = {item.external_id: item.format for item in page.items}
    assert formats.pop(album.post_id) == ContentFormat.IMAGE
    assert set(formats.values()) == {ContentFormat.VIDEO}
