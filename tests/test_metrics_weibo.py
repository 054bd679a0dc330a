"""Weibo's figures through the real connector against the sandbox: post counts in batches of
100, reads at the biz level, follower trends as far back as Weibo keeps them, the account's
own timeline, and the errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ContentFormat,
    FetchedKind,
    RateLimitedError,
    Token,
    TokenError,
    TransientError,
)
from guanxi.connectors.metrics import Metric, MetricsUnavailableError, ReadsMetrics
from guanxi.connectors.weibo import WeiboConnector
from guanxi.connectors.weibo_metrics import MSG_TOO_OLD, status_format
from guanxi.core.settings import Settings
from guanxi.sandbox import metrics
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import SandboxPost, SandboxState
from guanxi.sandbox.weibo import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_SAFE_DOMAIN,
    DEMO_WEIBO_TOKEN,
    DEMO_WEIBO_UID,
    SECOND_WEIBO_UID,
    weibo_surface,
)
from guanxi.sandbox.weibo_metrics import add_history_posts
from tests import http_support as local
from tests.http_support import local_client
from tests.metrics_support import NOW, TODAY, YESTERDAY, MemoryTokens, calls, fault, pin_now


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    """A sandbox with the Weibo surface, its clock and the connector's at ``NOW``."""
    with run_in_thread(create_sandbox_app(platform_surfaces=[weibo_surface()])) as running:
        pin_now(running, monkeypatch)
        yield running


@pytest.fixture
def weibo(sandbox: RunningSandbox) -> Iterator[WeiboConnector]:
    """The connector, configured by base URL only."""
    settings = Settings(
        weibo_api_base=sandbox.api_base("/weibo"),
        weibo_app_key=DEMO_APP_KEY,
        weibo_app_secret=DEMO_APP_SECRET,
        weibo_safe_domain=DEMO_SAFE_DOMAIN,
    )
    with local_client() as http:
        yield WeiboConnector.from_settings(settings, http)


def state_of(sandbox: RunningSandbox) -> SandboxState:
    """The sandbox's memory."""
    return sandbox.sandbox.state


def demo_channel() -> ChannelContext:
    """The demo brand account (its app has the commercial data API)."""
    return ChannelContext(1, DEMO_WEIBO_UID, {}, MemoryTokens(Token(DEMO_WEIBO_TOKEN, None)))


def second_channel(sandbox: RunningSandbox) -> ChannelContext:
    """The second account, connected without the commercial data API."""
    issued = state_of(sandbox).issue_token(
        platform="weibo",
        account_id=SECOND_WEIBO_UID,
        client_id=DEMO_APP_KEY,
        lifetime=timedelta(days=7),
    )
    return ChannelContext(2, SECOND_WEIBO_UID, {}, MemoryTokens(Token(issued.token, None)))


def published(sandbox: RunningSandbox, hours_ago: float, uid: str = DEMO_WEIBO_UID) -> SandboxPost:
    """A post the account published ``hours_ago`` before now."""
    state = state_of(sandbox)
    created = NOW - timedelta(hours=hours_ago)
    return state.add_post(SandboxPost("weibo", uid, state.next_id(), "桃红上新", created))


def expected(sandbox: RunningSandbox, post: SandboxPost) -> dict[Metric, int]:
    """The figures the sandbox's model gives the post now."""
    figures = metrics.post_figures(state_of(sandbox), post)
    return {
        Metric.VIEWS: figures["views"],
        Metric.LIKES: figures["likes"],
        Metric.COMMENTS: figures["comments"],
        Metric.SHARES: figures["shares"],
    }


def test_weibo_declares_metrics(weibo: WeiboConnector) -> None:
    """The connector reads metrics, with Weibo's limits for the collector to plan with."""
    assert Capability.METRICS in weibo.capabilities
    assert isinstance(weibo, ReadsMetrics)
    limits = weibo.metrics_limits
    assert (limits.post_batch, limits.account_range_days, limits.account_history_days) == (
        100,
        30,
        90,
    )


# --- Posts ----------------------------------------------------------------------------------


def test_post_figures_are_what_weibo_reports(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """Given two posts and an id Weibo does not know, then both posts come back with reposts,
    comments, likes and reads, and the unknown id is left out rather than failing the batch."""
    older, fresh = published(sandbox, 30), published(sandbox, 2)
    found = weibo.post_metrics(demo_channel(), [older.post_id, fresh.post_id, "4999999999999999"])
    by_id = {figures.external_id: figures for figures in found}
    assert set(by_id) == {older.post_id, fresh.post_id}
    for post in (older, fresh):
        assert by_id[post.post_id].values == expected(sandbox, post)
        assert by_id[post.post_id].as_of is None
    assert by_id[older.post_id].values[Metric.VIEWS] > 0


def test_figures_grow_with_the_sandboxs_clock(
    weibo: WeiboConnector, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post an hour old gains views as the sandbox's clock moves on, and never loses any."""
    post = published(sandbox, 1)
    [first] = weibo.post_metrics(demo_channel(), [post.post_id])
    pin_now(sandbox, monkeypatch, NOW + timedelta(hours=5))
    [later] = weibo.post_metrics(demo_channel(), [post.post_id])
    assert later.values[Metric.VIEWS] > first.values[Metric.VIEWS]
    assert all(later.values[metric] >= value for metric, value in first.values.items())


def test_a_deleted_post_is_left_out(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """Weibo no longer counts a deleted post: it is missing from the answer, not zero."""
    post = published(sandbox, 5)
    post.deleted = True
    assert weibo.post_metrics(demo_channel(), [post.post_id]) == []


def test_reads_need_the_biz_level(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """Without the commercial data API, reads are not reported; the counts still are."""
    post = published(sandbox, 10, uid=SECOND_WEIBO_UID)
    [found] = weibo.post_metrics(second_channel(sandbox), [post.post_id])
    assert Metric.VIEWS not in found.values
    assert found.values == {k: v for k, v in expected(sandbox, post).items() if k != Metric.VIEWS}


def test_ids_go_in_batches_of_100(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """150 ids make two calls of statuses/count, as Weibo takes at most 100 ids a call."""
    post = published(sandbox, 3)
    ids = [post.post_id] + [str(4_900_000_000_000_000 + n) for n in range(149)]
    found = weibo.post_metrics(demo_channel(), ids)
    assert [figures.external_id for figures in found] == [post.post_id]
    assert calls(sandbox, "/2/statuses/count.json") == 2
    assert calls(sandbox, "count_sp/biz") == 2


def test_the_sandbox_refuses_more_than_100_ids(sandbox: RunningSandbox) -> None:
    """Called directly with 101 ids, statuses/count answers Weibo's parameter error."""
    ids = ",".join(str(4_900_000_000_000_000 + n) for n in range(101))
    answer = local.get(
        sandbox.api_base("/weibo") + "/2/statuses/count.json",
        params={"access_token": DEMO_WEIBO_TOKEN, "ids": ids},
    )
    assert answer.status_code == 400
    assert answer.json()["error_code"] == 10017


# --- The account ----------------------------------------------------------------------------


def test_a_month_of_account_figures(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """Thirty days up to today: complete days from the biz trend (one call), today's
    followers from users/show."""
    published(sandbox, 50)
    days = weibo.account_metrics(demo_channel(), start=TODAY - timedelta(days=29), end=TODAY)
    assert [day.day for day in days] == [TODAY - timedelta(days=n) for n in range(29, -1, -1)]
    state = state_of(sandbox)
    for day in days[:-1]:
        sandbox_day = metrics.account_day(state, "weibo", DEMO_WEIBO_UID, day.day)
        assert sandbox_day is not None
        assert day.values == {
            Metric.FOLLOWERS: sandbox_day.followers,
            Metric.NEW_FOLLOWERS: sandbox_day.new_followers,
            Metric.LOST_FOLLOWERS: sandbox_day.lost_followers,
            Metric.VIEWS: sandbox_day.figures["views"],
            Metric.SHARES: sandbox_day.figures["shares"],
            Metric.COMMENTS: sandbox_day.figures["comments"],
            Metric.LIKES: sandbox_day.figures["likes"],
        }
    assert days[-1].values == {
        Metric.FOLLOWERS: metrics.followers_now(state, "weibo", DEMO_WEIBO_UID)
    }
    assert calls(sandbox, "behavior_trend/biz") == 1
    assert calls(sandbox, "trend_count") == 0


def test_the_biz_trend_reaches_90_days_back(weibo: WeiboConnector, sandbox: RunningSandbox) -> None:
    """Days older than 90 are left out when the range reaches into the last 90, and a range
    older than that says why nothing can be read."""
    days = weibo.account_metrics(
        demo_channel(), start=TODAY - timedelta(days=120), end=TODAY - timedelta(days=80)
    )
    assert days[0].day == TODAY - timedelta(days=90)
    assert days[-1].day == TODAY - timedelta(days=80)
    with pytest.raises(MetricsUnavailableError) as raised:
        weibo.account_metrics(
            demo_channel(), start=TODAY - timedelta(days=200), end=TODAY - timedelta(days=91)
        )
    assert raised.value.params == {"days": 90, "oldest": (TODAY - timedelta(days=90)).isoformat()}


def test_without_the_biz_level_the_follower_trend_covers_30_days(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """The second account's app lacks the biz level: followers come from trend_count, the last
    30 days only; older days raise MetricsUnavailableError with a message that says so."""
    channel = second_channel(sandbox)
    days = weibo.account_metrics(channel, start=TODAY - timedelta(days=30), end=YESTERDAY)
    assert len(days) == 30
    sandbox_day = metrics.follower_day(state_of(sandbox), "weibo", SECOND_WEIBO_UID, YESTERDAY)
    assert sandbox_day is not None
    assert days[-1].values == {
        Metric.FOLLOWERS: sandbox_day.followers,
        Metric.NEW_FOLLOWERS: sandbox_day.new,
        Metric.LOST_FOLLOWERS: sandbox_day.lost,
    }
    with pytest.raises(MetricsUnavailableError) as raised:
        weibo.account_metrics(
            channel, start=TODAY - timedelta(days=60), end=TODAY - timedelta(days=31)
        )
    assert raised.value.message == MSG_TOO_OLD
    assert raised.value.params["days"] == 30


def test_the_sandbox_refuses_ranges_weibo_refuses(sandbox: RunningSandbox) -> None:
    """Directly: a trend reaching past 30 days, or including today, is a parameter error
    (10017); the biz trend without the biz level is a permission error (10014)."""
    base = sandbox.api_base("/weibo")
    second = second_channel(sandbox).tokens.current()
    assert second is not None
    for start, end in ((TODAY - timedelta(days=31), YESTERDAY), (YESTERDAY, TODAY)):
        answer = local.get(
            base + "/2/friendships/followers/trend_count.json",
            params={
                "access_token": DEMO_WEIBO_TOKEN,
                "start_date": str(start),
                "end_date": str(end),
            },
        )
        assert (answer.status_code, answer.json()["error_code"]) == (400, 10017)
    day = str(YESTERDAY)
    answer = local.get(
        base + "/2/users/behavior_trend/biz.json",
        params={"access_token": second.access_token, "start_date": day, "end_date": day},
    )
    assert (answer.status_code, answer.json()["error_code"]) == (403, 10014)


# --- The account's posts and errors ---------------------------------------------------------


def test_posts_published_outside_guanxi_are_found(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """The account's timeline gives every post, oldest first; the cursor then gives only
    what is new."""
    state = state_of(sandbox)
    added = add_history_posts(state, DEMO_WEIBO_UID, days=30, per_week=4)
    page = weibo.account_posts(demo_channel())
    assert len(page.items) == added > 10
    assert {item.kind for item in page.items} == {FetchedKind.POST}
    assert [item.created_at for item in page.items] == sorted(
        item.created_at for item in page.items
    )
    fresh = published(sandbox, 0.5)
    newer = weibo.account_posts(demo_channel(), since=page.cursor)
    assert [item.external_id for item in newer.items] == [fresh.post_id]


def test_errors_are_the_connectors_usual_ones(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """A rate limit, Weibo being busy and a revoked token map as they do for publishing."""
    post = published(sandbox, 4)
    fault(sandbox, "weibo", kind="rate_limit", path_contains="statuses/count", remaining=1)
    with pytest.raises(RateLimitedError) as limited:
        weibo.post_metrics(demo_channel(), [post.post_id])
    assert 0 < limited.value.retry_after_s <= 3600
    fault(sandbox, "weibo", kind="server_error", path_contains="behavior_trend", remaining=1)
    with pytest.raises(TransientError):
        weibo.account_metrics(demo_channel(), start=YESTERDAY, end=YESTERDAY)
    state_of(sandbox).revoke_tokens("weibo", DEMO_WEIBO_UID)
    with pytest.raises(TokenError):
        weibo.post_metrics(demo_channel(), [post.post_id])


def test_each_post_of_the_timeline_says_its_format(
    weibo: WeiboConnector, sandbox: RunningSandbox
) -> None:
    """Text, pictures, a video card and a headline article, as the statuses show them."""
    add_history_posts(state_of(sandbox), DEMO_WEIBO_UID, days=30, per_week=4)
    page = weibo.account_posts(demo_channel())
    formats = {item.format for item in page.items}
    assert formats == {
        ContentFormat.TEXT,
        ContentFormat.IMAGE,
        ContentFormat.VIDEO,
        ContentFormat.ARTICLE,
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"page_info": {"object_type": "live"}, "pic_ids": ["a"]}, ContentFormat.LIVE),
        ({"page_info": {"type": "video"}}, ContentFormat.VIDEO),
        ({"page_info": {"object_type": "webpage"}, "pic_urls": [{"x": 1}]}, ContentFormat.IMAGE),
        ({"page_info": "odd", "text": "hello"}, ContentFormat.TEXT),
    ],
)
def test_a_status_format_is_read_from_its_card_then_its_pictures(
    status: dict[str, object], expected: ContentFormat
) -> None:
    assert status_format(status) == expected
