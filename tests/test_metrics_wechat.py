"""WeChat's data cube through the real connector against the sandbox: ranges cut to each
endpoint's span (never a 61501), the end date yesterday at the latest, follower sources under
stable names, articles' figures by msgid, the account's articles, and the errors."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    ConnectorConfig,
    ContentFormat,
    FetchedKind,
    RateLimitedError,
    TokenError,
)
from guanxi.connectors.metrics import Metric, MetricsUnavailableError, ReadsMetrics
from guanxi.connectors.metrics_days import beijing_today, day_end, day_start
from guanxi.connectors.wechat_metrics import (
    FOLLOWER_SOURCES,
    HISTORY_START,
    MSG_DATA_API,
    READ_SOURCES,
)
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.sandbox import metrics
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.ratelimit import RateLimiter
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.state import SandboxState
from guanxi.sandbox.wechat import (
    DEMO_WECHAT_APPID,
    DEMO_WECHAT_SECRET,
    PublishJob,
    WechatLimits,
    WechatSandbox,
    surface_of,
)
from guanxi.sandbox.wechat_metrics import add_history_articles
from tests import http_support as local
from tests.http_support import local_client
from tests.metrics_support import NOW, TODAY, YESTERDAY, MemoryTokens, calls, fault, pin_now


@pytest.fixture
def wechat() -> WechatSandbox:
    """The sandbox's WeChat, kept to steer it."""
    return WechatSandbox()


@pytest.fixture
def sandbox(wechat: WechatSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    """A sandbox with the WeChat surface, its clock and the connector's at ``NOW``."""
    with run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running:
        pin_now(running, monkeypatch)
        yield running


@pytest.fixture
def connector(sandbox: RunningSandbox) -> Iterator[WechatOaConnector]:
    """The connector, configured by base URL only."""
    with local_client() as http:
        yield WechatOaConnector(ConnectorConfig(base_url=sandbox.api_base("/wechat"), http=http))


def channel(secret: str = DEMO_WECHAT_SECRET) -> ChannelContext:
    """The demo Official Account; the connector fetches its token."""
    credentials = {"app_id": DEMO_WECHAT_APPID, "app_secret": secret}
    return ChannelContext(1, DEMO_WECHAT_APPID, credentials, MemoryTokens(None))


def state_of(sandbox: RunningSandbox) -> SandboxState:
    """The sandbox's memory."""
    return sandbox.sandbox.state


def history(sandbox: RunningSandbox, wechat: WechatSandbox, days: int = 45) -> list[PublishJob]:
    """Articles the account published before guanxi knew it, oldest first."""
    add_history_articles(
        state_of(sandbox), wechat, DEMO_WECHAT_APPID, sandbox.base_url, days=days, per_week=4
    )
    jobs = [job for job in wechat.jobs.values() if job.post is not None]
    return sorted(jobs, key=lambda job: job.post.created_at if job.post else NOW)


def cube(sandbox: RunningSandbox, api: str, begin: str, end: str) -> dict[str, object]:
    """A data cube call made directly, as a client of WeChat would."""
    base = sandbox.api_base("/wechat")
    token = local.post(
        base + "/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": DEMO_WECHAT_APPID,
            "secret": DEMO_WECHAT_SECRET,
        },
    ).json()["access_token"]
    answer = local.post(
        base + f"/datacube/{api}",
        params={"access_token": token},
        json={"begin_date": begin, "end_date": end},
    )
    body: dict[str, object] = answer.json()
    return body


def test_wechat_declares_metrics(connector: WechatOaConnector) -> None:
    """The connector reads metrics: a week a call, from the data cube's start, up to yesterday."""
    assert Capability.METRICS in connector.capabilities
    assert isinstance(connector, ReadsMetrics)
    limits = connector.metrics_limits
    assert limits.account_range_days == 7
    assert limits.account_history_start == HISTORY_START == date(2014, 12, 1)
    assert limits.account_delay_days == 1


def test_a_30_day_range_is_cut_to_each_endpoints_span(
    connector: WechatOaConnector, sandbox: RunningSandbox
) -> None:
    """Given 30 days, when the account's figures are read, then getusersummary is called
    ceil(30/7) times and getuserread (3 days a call) ceil(30/3) times, never asking WeChat
    for more than it allows; every day comes back with the sandbox's figures."""
    start = YESTERDAY - timedelta(days=29)
    days = connector.account_metrics(channel(), start=start, end=YESTERDAY)
    assert [day.day for day in days] == [start + timedelta(days=n) for n in range(30)]
    assert calls(sandbox, "getusersummary") == math.ceil(30 / 7) == 5
    assert calls(sandbox, "getusercumulate") == 5
    assert calls(sandbox, "getuserread") == math.ceil(30 / 3) == 10
    assert calls(sandbox, "getbizsummary") == 5
    for day in days:
        figures = metrics.account_day(state_of(sandbox), "wechat", DEMO_WECHAT_APPID, day.day)
        assert figures is not None
        assert day.values == {
            Metric.FOLLOWERS: figures.followers,
            Metric.NEW_FOLLOWERS: figures.new_followers,
            Metric.LOST_FOLLOWERS: figures.lost_followers,
            Metric.VIEWS: figures.figures["views"],
            Metric.SHARES: figures.figures["shares"],
            Metric.SAVES: figures.figures["saves"],
            Metric.LIKES: figures.figures["likes"],
            Metric.WOWS: figures.figures["wows"],
            Metric.COMMENTS: figures.figures["comments"],
        }


def test_sources_have_stable_names_and_add_up(connector: WechatOaConnector) -> None:
    """user_source codes become names that do not change; each breakdown adds up to its
    figure."""
    days = connector.account_metrics(channel(), start=YESTERDAY - timedelta(days=6), end=YESTERDAY)
    for day in days:
        followers = day.breakdowns["follower_source"]
        assert set(followers) <= set(FOLLOWER_SOURCES.values())
        assert "search" in followers
        assert sum(followers.values()) == day.values[Metric.NEW_FOLLOWERS]
        views = day.breakdowns["view_source"]
        assert set(views) == set(READ_SOURCES.values())
        assert sum(views.values()) == day.values[Metric.VIEWS]


def test_the_end_date_is_yesterday_at_the_latest(
    connector: WechatOaConnector, sandbox: RunningSandbox
) -> None:
    """A range reaching today or later stops at yesterday; a range of today alone asks
    WeChat nothing."""
    days = connector.account_metrics(
        channel(), start=TODAY - timedelta(days=2), end=TODAY + timedelta(days=3)
    )
    assert [day.day for day in days] == [TODAY - timedelta(days=2), YESTERDAY]
    before = calls(sandbox, "/datacube/")
    assert connector.account_metrics(channel(), start=TODAY, end=TODAY) == []
    assert calls(sandbox, "/datacube/") == before


def test_the_sandbox_answers_wechats_range_errors(sandbox: RunningSandbox) -> None:
    """Called directly: eight days of getusersummary, four of getuserread or an end date of
    today are a "date range error" (61501); a badly written date a "date format error"."""
    week_ago, yesterday = str(YESTERDAY - timedelta(days=6)), str(YESTERDAY)
    assert cube(sandbox, "getusersummary", week_ago, yesterday).get("list")
    too_long = str(YESTERDAY - timedelta(days=7))
    assert cube(sandbox, "getusersummary", too_long, yesterday)["errcode"] == 61501
    assert (
        cube(sandbox, "getuserread", str(YESTERDAY - timedelta(days=3)), yesterday)["errcode"]
        == 61501
    )
    assert cube(sandbox, "getusercumulate", yesterday, str(TODAY))["errcode"] == 61501
    assert cube(sandbox, "getusercumulate", "2026/11/01", yesterday)["errcode"] == 61500


def test_days_before_the_account_existed_are_missing(
    connector: WechatOaConnector, sandbox: RunningSandbox
) -> None:
    """A backfill to the data cube's start finds days only from the account's first day."""
    first_day = next(
        day
        for day in (HISTORY_START + timedelta(days=n) for n in range(5000))
        if metrics.follower_day(state_of(sandbox), "wechat", DEMO_WECHAT_APPID, day)
    )
    days = connector.account_metrics(
        channel(), start=first_day - timedelta(days=10), end=first_day + timedelta(days=3)
    )
    assert days[0].day == first_day
    assert len(days) == 4


def test_article_figures_by_msgid(
    connector: WechatOaConnector, sandbox: RunningSandbox, wechat: WechatSandbox
) -> None:
    """Articles are measured by article_id: their figures as of the end of yesterday (or of
    their 30th day); an unknown id, or an article published today, is left out."""
    jobs = history(sandbox, wechat)
    state = state_of(sandbox)
    ids = [job.article_id for job in jobs]
    found = {f.external_id: f for f in connector.post_metrics(channel(), [*ids, "missing"])}
    assert set(found) == set(ids)
    for job in jobs:
        assert job.post is not None
        published = beijing_today(job.post.created_at)
        last = min(published + timedelta(days=29), YESTERDAY)
        figures = metrics.post_figures(state, job.post, day_start(last + timedelta(days=1)))
        result = found[job.article_id]
        assert result.as_of == day_end(last)
        assert result.values[Metric.VIEWS] == figures["views"]
        assert result.values[Metric.LIKES] == figures["likes"]
        assert result.values[Metric.WOWS] == figures["wows"]
        assert result.values[Metric.COMMENTS] == figures["comments"]
        assert result.values[Metric.SAVES] == figures["saves"]
    weeks = {beijing_today(job.post.created_at).isocalendar()[:2] for job in jobs if job.post}
    assert calls(sandbox, "getarticletotaldetail") <= len(weeks) + 1


def test_an_article_published_today_has_no_figures_yet(
    connector: WechatOaConnector, sandbox: RunningSandbox, wechat: WechatSandbox
) -> None:
    """WeChat reports complete days: this morning's article is left out until tomorrow."""
    jobs = history(sandbox, wechat, days=10)
    newest = jobs[-1]
    assert newest.post is not None
    newest.post.created_at = NOW - timedelta(hours=2)
    assert [f.external_id for f in connector.post_metrics(channel(), [newest.article_id])] == []


def test_the_accounts_articles_wherever_they_were_published(
    connector: WechatOaConnector, sandbox: RunningSandbox, wechat: WechatSandbox
) -> None:
    """Every published article, oldest first; the cursor then gives only newer ones."""
    jobs = history(sandbox, wechat, days=20)
    page = connector.account_posts(channel())
    assert [item.external_id for item in page.items] == [job.article_id for job in jobs]
    assert {item.kind for item in page.items} == {FetchedKind.POST}
    assert all(item.url for item in page.items)
    assert {item.format for item in page.items} == {ContentFormat.ARTICLE}
    assert connector.account_posts(channel(), since=page.cursor).items == ()


def test_an_account_without_the_data_api(
    connector: WechatOaConnector, sandbox: RunningSandbox
) -> None:
    """WeChat answers 48001 to an unverified account: the connector says why, for good."""
    answer = local.put(
        sandbox.api_base("/wechat") + f"/_sandbox/accounts/{DEMO_WECHAT_APPID}/settings",
        json={"denied_apis": ["getusersummary"]},
    )
    assert answer.status_code == 200
    with pytest.raises(MetricsUnavailableError) as raised:
        connector.account_metrics(channel(), start=YESTERDAY, end=YESTERDAY)
    assert raised.value.message == MSG_DATA_API


def test_rate_limits_and_refused_credentials(
    connector: WechatOaConnector, sandbox: RunningSandbox
) -> None:
    """45011 asks to slow down for a minute; a wrong AppSecret needs the account reconnected."""
    fault(sandbox, "wechat", kind="rate_limit", path_contains="getusercumulate", remaining=1)
    with pytest.raises(RateLimitedError) as limited:
        connector.account_metrics(channel(), start=YESTERDAY, end=YESTERDAY)
    assert limited.value.retry_after_s == 60
    with pytest.raises(TokenError):
        connector.account_metrics(channel(secret="0" * 32), start=YESTERDAY, end=YESTERDAY)


def test_the_sandboxs_minute_quota_counts_data_cube_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each data cube endpoint has its per-minute quota: 30 days take five calls of
    getusersummary, within a quota of five, but ten of getuserread: the sixth is answered
    45011, and the connector asks to wait a minute."""
    wechat = WechatSandbox(limits=WechatLimits(minute_quota=5))
    with (
        run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running,
        local_client() as http,
    ):
        pin_now(running, monkeypatch)
        running.sandbox.limiter = RateLimiter(clock=lambda: 0.0)  # one window throughout
        connector = WechatOaConnector(ConnectorConfig(running.api_base("/wechat"), http))
        with pytest.raises(RateLimitedError):
            connector.account_metrics(
                channel(), start=YESTERDAY - timedelta(days=29), end=YESTERDAY
            )
        assert calls(running, "getusersummary") == 5  # ceil(30/7) fit in the quota
