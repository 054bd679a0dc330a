"""The WeChat Official Account connector, against the sandbox: connecting, the rules of an
article, publishing as a job followed to its end, finding a post after a timeout, every
documented error code, and the access token shared single-flight by every worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.channels.service import DbTokenStore, channel_context, create_channel
from guanxi.connectors import wechat_oa
from guanxi.connectors.base import (
    ChannelContext,
    Connector,
    ConnectorConfig,
    CredentialsConnect,
    MediaFile,
    MediaKind,
    OutcomeUnknownError,
    PermanentError,
    PublishRequest,
    PublishState,
    QuotaExhaustedError,
    RateLimitedError,
    Severity,
    TokenError,
    TransientError,
    VariantDraft,
)
from guanxi.connectors.registry import build_connector
from guanxi.connectors.wechat_api import next_beijing_midnight
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.core.db import make_engine, make_session_factory, utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.sandbox.faults import FaultKind, FaultRule
from guanxi.sandbox.server import RunningSandbox
from guanxi.sandbox.wechat import (
    DEMO_WECHAT_APPID,
    DEMO_WECHAT_SECRET,
    DEMO_WECHAT_SERVER_TOKEN,
    WechatSandbox,
)
from tests import http_support as local
from tests import test_wechat_sandbox as sandbox_tests
from tests.conftest import UserFactory, WorkspaceFactory
from tests.http_support import HANG_UP_AFTER_S, local_client
from tests.test_wechat_sandbox import JPEG, PNG

# The sandbox fixtures, shared with the sandbox's own tests.
wechat = sandbox_tests.wechat
sandbox = sandbox_tests.sandbox

CREDENTIALS = {
    "app_id": DEMO_WECHAT_APPID,
    "app_secret": DEMO_WECHAT_SECRET,
    "server_token": DEMO_WECHAT_SERVER_TOKEN,
}
TOKEN_PATH = "/wechat/cgi-bin/stable_token"


def media(directory: Path, name: str, data: bytes, content_type: str = "image/jpeg") -> MediaFile:
    path = directory / name
    path.write_bytes(data)
    return MediaFile(
        path=path, kind=MediaKind.IMAGE, content_type=content_type, size=len(data), sha256="0" * 64
    )


def variant(directory: Path, **overrides: Any) -> VariantDraft:
    values: dict[str, Any] = {
        "title": "普罗旺斯桃红葡萄酒上市",
        "digest": "夏天的第一瓶桃红",
        "text": '<p>新酒到了。</p><p><img src="bottle.jpg" alt="酒瓶"></p>',
        "cover": media(directory, "cover.jpg", JPEG),
        "media": (
            media(directory, "bottle.jpg", JPEG),
            media(directory, "glass.png", PNG, "image/png"),
        ),
        "link": "https://provence-wine.example/rose",
    }
    values.update(overrides)
    return VariantDraft(**values)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with local_client() as client:
        yield client


@pytest.fixture
def connector(sandbox: RunningSandbox, http: httpx.Client) -> WechatOaConnector:
    return WechatOaConnector(ConnectorConfig(base_url=sandbox.api_base("/wechat"), http=http))


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox.from_settings(settings)


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


@pytest.fixture
def channel(db: Session, acme: Workspace, connector: WechatOaConnector, box: SecretBox) -> Channel:
    """The demo Official Account, connected the way the connect form does it."""
    identity = connector.verify_credentials(CREDENTIALS)
    channel = create_channel(
        db,
        workspace=acme,
        connector="wechat_oa",
        platform="wechat",
        external_id=identity.external_id,
        name=identity.name,
        credentials=identity.credentials,
        box=box,
        actor=None,
        token=identity.token,
    )
    db.commit()
    return channel


@pytest.fixture
def context(
    channel: Channel, session_factory: sessionmaker[Session], box: SecretBox
) -> ChannelContext:
    return channel_context(channel, sessions=session_factory, box=box, owner="worker-1")


def token_fetches(sandbox: RunningSandbox) -> int:
    return sum(1 for _method, path in sandbox.sandbox.state.requests if path == TOKEN_PATH)


def wait_published(connector: WechatOaConnector, context: ChannelContext, publish_id: str) -> Any:
    deadline = utcnow() + timedelta(seconds=5)
    while utcnow() < deadline:
        result = connector.publish_status(context, publish_id)
        if result.state is not PublishState.PROCESSING:
            return result
        time.sleep(0.05)  # as a client polls: the sandbox allows 120 calls a minute
    pytest.fail("the publish job never ended")


# --- the plugin and connecting --------------------------------------------------------------


def test_it_is_the_wechat_oa_entry_point(settings: Settings, http: httpx.Client) -> None:
    built = build_connector("wechat_oa", settings, http)

    assert isinstance(built, WechatOaConnector)
    assert isinstance(built, Connector)
    assert isinstance(built, CredentialsConnect)
    assert [f.name for f in built.credential_fields] == ["app_id", "app_secret", "server_token"]
    assert [f.secret for f in built.credential_fields] == [False, True, True]


def test_verify_credentials_fetches_a_token(connector: WechatOaConnector) -> None:
    identity = connector.verify_credentials(CREDENTIALS)

    assert identity.external_id == DEMO_WECHAT_APPID
    assert identity.credentials == CREDENTIALS
    assert identity.token is not None
    assert identity.token.expires_at is not None
    assert identity.token.expires_at > utcnow() + timedelta(hours=1)


@pytest.mark.parametrize(
    ("credentials", "error", "code"),
    [
        ({"app_id": DEMO_WECHAT_APPID, "app_secret": "wrong"}, TokenError, "40125"),
        ({"app_id": "wx0000000000000000", "app_secret": "x"}, TokenError, "40013"),
        ({"app_id": "not-an-appid", "app_secret": "x"}, PermanentError, "app_id"),
        ({"app_id": DEMO_WECHAT_APPID, "app_secret": " "}, PermanentError, "app_secret"),
    ],
)
def test_wrong_credentials_are_refused_with_what_to_do(
    connector: WechatOaConnector, credentials: dict[str, str], error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as caught:
        connector.verify_credentials(credentials)

    assert getattr(caught.value, "code", "") == code
    assert "Official Accounts Platform" in str(caught.value)


# --- the rules of an article ------------------------------------------------------------------


def test_a_good_article_breaks_no_rule(tmp_path: Path, connector: WechatOaConnector) -> None:
    assert connector.validate(variant(tmp_path)) == []


@pytest.mark.parametrize(
    ("overrides", "code", "severity"),
    [
        ({"title": ""}, "wechat.title_missing", Severity.ERROR),
        ({"title": "标" * 65}, "wechat.title_too_long", Severity.ERROR),
        ({"digest": "摘" * 121}, "wechat.digest_too_long", Severity.ERROR),
        ({"cover": None}, "wechat.cover_missing", Severity.ERROR),
        ({"text": "  "}, "wechat.body_missing", Severity.ERROR),
        ({"text": "<p>" + "字" * 20_001 + "</p>"}, "wechat.body_too_long", Severity.ERROR),
        ({"text": '<p onclick="steal()">x</p>'}, "wechat.body_sanitised", Severity.WARNING),
        (
            {"text": '<img src="https://cdn.example.com/a.jpg">'},
            "wechat.external_image",
            Severity.ERROR,
        ),
        ({"link": "javascript:alert(1)"}, "wechat.link_invalid", Severity.ERROR),
    ],
)
def test_each_rule(
    tmp_path: Path,
    connector: WechatOaConnector,
    overrides: dict[str, Any],
    code: str,
    severity: Severity,
) -> None:
    problems = connector.validate(variant(tmp_path, **overrides))

    assert [(p.code, p.severity) for p in problems] == [(code, severity)]


def test_exact_limits_are_allowed(tmp_path: Path, connector: WechatOaConnector) -> None:
    assert connector.validate(variant(tmp_path, title="标" * 64, digest="摘" * 120)) == []


def test_cover_and_body_images_must_be_formats_wechat_takes(
    tmp_path: Path, connector: WechatOaConnector
) -> None:
    webp = media(tmp_path, "a.webp", b"RIFF....WEBP", "image/webp")
    big = media(tmp_path, "big.png", PNG + b"0" * (1024 * 1024), "image/png")
    video = MediaFile(tmp_path / "clip.mp4", MediaKind.VIDEO, "video/mp4", 10, "0" * 64)

    problems = connector.validate(
        variant(tmp_path, text="<p>正文</p>", cover=webp, media=(big, video))
    )

    assert [(p.code, p.severity) for p in problems] == [
        ("wechat.cover_format", Severity.ERROR),
        ("wechat.body_image_format", Severity.ERROR),
        ("wechat.video_left_out", Severity.WARNING),
    ]


def test_an_image_already_on_wechat_is_fine(tmp_path: Path, connector: WechatOaConnector) -> None:
    text = '<p>x</p><img src="https://mmbiz.qpic.cn/mmbiz_jpg/abc/0">'

    assert connector.validate(variant(tmp_path, text=text)) == []


# --- publishing --------------------------------------------------------------------------------


def test_publish_is_a_job_followed_to_published(
    tmp_path: Path,
    connector: WechatOaConnector,
    context: ChannelContext,
    wechat: WechatSandbox,
    sandbox: RunningSandbox,
) -> None:
    """Given a hostile-looking article with two images from the media library,
    when it is published, then submit answers PROCESSING with the publish_id (errcode 0 is
    not "published"), the job then reads PUBLISHED with the article's URL, both images were
    uploaded and their sources rewritten, and the script never reached WeChat."""
    text = '<p>新酒到了<script>alert(1)</script></p><img src="bottle.jpg" onerror="x()">'

    result = connector.publish(
        context, PublishRequest("target-7-key", variant(tmp_path, text=text))
    )

    assert result.state is PublishState.PROCESSING
    assert result.external_id in wechat.jobs
    done = wait_published(connector, context, result.external_id)
    assert done.state is PublishState.PUBLISHED
    job = wechat.jobs[result.external_id]
    assert done.external_id == job.article_id
    assert done.url == job.urls[0]
    stored = job.articles[0]
    assert stored["title"] == "普罗旺斯桃红葡萄酒上市"
    assert stored["content_source_url"] == "https://provence-wine.example/rose"
    assert stored["dropped_images"] == 0
    assert stored["content"].count(sandbox.api_base("/wechat") + "/mmbiz/") == 2
    assert "script" not in stored["content"]
    assert "onerror" not in stored["content"]
    assert "<!--guanxi:target-7-key-->" in stored["content"]
    assert local.get(done.url).status_code == 200


@pytest.mark.parametrize(
    ("status", "detail"),
    [(2, "original-content"), (3, "could not publish"), (4, "review rejected")],
)
def test_a_failed_job_is_failed_with_the_reason(
    tmp_path: Path,
    connector: WechatOaConnector,
    context: ChannelContext,
    wechat: WechatSandbox,
    status: int,
    detail: str,
) -> None:
    wechat.accounts[DEMO_WECHAT_APPID].publish_outcome = status

    result = connector.publish(context, PublishRequest("k", variant(tmp_path)))
    ended = wait_published(connector, context, result.external_id)

    assert ended.state is PublishState.FAILED
    assert detail in ended.detail


def test_deleted_and_banned_after_success_are_failed(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, wechat: WechatSandbox
) -> None:
    first = connector.publish(context, PublishRequest("one", variant(tmp_path)))
    second = connector.publish(context, PublishRequest("two", variant(tmp_path)))
    published = wait_published(connector, context, first.external_id)
    wait_published(connector, context, second.external_id)

    connector.delete(context, published.external_id)  # by article_id
    wechat.end_after_success(second.external_id, 6)

    deleted = connector.publish_status(context, first.external_id)
    banned = connector.publish_status(context, second.external_id)
    assert (deleted.state, deleted.detail) == (
        PublishState.FAILED,
        "The article was published, then deleted.",
    )
    assert (banned.state, banned.detail) == (
        PublishState.FAILED,
        "The article was published, then banned by WeChat.",
    )


def test_a_timeout_after_submit_is_an_unknown_outcome_that_find_resolves(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, sandbox: RunningSandbox
) -> None:
    """The submit is accepted but its answer never arrives: the engine must not retry
    blindly. ``find`` then sees the article by its marker; another key finds nothing."""
    sandbox.sandbox.faults.add(
        FaultRule(
            kind=FaultKind.TIMEOUT_AFTER_ACCEPT,
            platform="wechat",
            path_contains="freepublish/submit",
            remaining=1,
            delay_s=HANG_UP_AFTER_S * 3,
        )
    )
    request = PublishRequest("lost-answer", variant(tmp_path))

    with (
        local_client(hang_up_on="freepublish/submit") as impatient,
        pytest.raises(OutcomeUnknownError),
    ):
        WechatOaConnector(
            ConnectorConfig(base_url=sandbox.api_base("/wechat"), http=impatient)
        ).publish(context, request)

    found = connector.find(context, request)
    assert found is not None
    assert found.state is PublishState.PUBLISHED
    assert found.url
    assert connector.find(context, PublishRequest("never-sent", variant(tmp_path))) is None


def test_find_never_resends_while_the_publish_job_may_still_run(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, wechat: WechatSandbox
) -> None:
    """Given a submit whose job is still running (WeChat lists finished articles only),
    When the engine reconciles, Then find says "ask again later" instead of "not sent",
    And once the job has finished it finds the published article: one article in all."""
    wechat.limits.publish_delay_s = 1.0
    request = PublishRequest("slow-job", variant(tmp_path))
    connector.publish(context, request)

    with pytest.raises(TransientError) as pending:
        connector.find(context, request)
    assert pending.value.code == "draft_pending"

    deadline = utcnow() + timedelta(seconds=5)
    found = None
    while found is None and utcnow() < deadline:
        try:
            found = connector.find(context, request)
        except TransientError:
            time.sleep(0.1)
    assert found is not None
    assert found.state is PublishState.PUBLISHED
    assert len(wechat.jobs) == 1


def test_find_submits_a_draft_that_was_never_published(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, wechat: WechatSandbox
) -> None:
    """Given a worker that added the draft and died before submitting it,
    When find runs after the settling time, Then it submits that very draft (no new one)."""
    request = PublishRequest("died-before-submit", variant(tmp_path))
    wechat.limits.publish_delay_s = 0.0
    real_call = connector._call

    def no_submit(channel: ChannelContext, path: str, **kwargs: Any) -> Any:
        if path.endswith("freepublish/submit"):
            raise OutcomeUnknownError("the worker died here")
        return real_call(channel, path, **kwargs)

    connector._call = no_submit  # type: ignore[method-assign]
    with pytest.raises(OutcomeUnknownError):
        connector.publish(context, request)
    connector._call = real_call  # type: ignore[method-assign]
    (media_id,) = wechat.drafts
    assert wechat.jobs == {}

    with pytest.raises(TransientError):
        connector.find(context, request)  # too recent to tell from a running job
    wechat.draft_times[media_id] -= wechat_oa.DRAFT_SETTLE_S + 1
    resumed = connector.find(context, request)

    assert resumed is not None
    assert resumed.state is PublishState.PROCESSING
    assert resumed.raw["draft_media_id"] == media_id
    assert [job.publish_id for job in wechat.jobs.values()] == [resumed.external_id]
    assert len(wechat.drafts) == 1
    assert connector.find(context, PublishRequest("never-sent", variant(tmp_path))) is None


def test_publish_refuses_an_article_that_breaks_a_rule(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, wechat: WechatSandbox
) -> None:
    with pytest.raises(PermanentError) as caught:
        connector.publish(context, PublishRequest("k", variant(tmp_path, cover=None)))

    assert "wechat.cover_missing" in str(caught.value)
    assert wechat.jobs == {}


# --- errors ----------------------------------------------------------------------------------


def test_system_busy_is_transient(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, sandbox: RunningSandbox
) -> None:
    sandbox.sandbox.faults.add(FaultRule(kind=FaultKind.SERVER_ERROR, platform="wechat"))

    with pytest.raises(TransientError) as caught:
        connector.publish(context, PublishRequest("k", variant(tmp_path)))

    assert caught.value.code == "-1"


def test_a_5xx_is_transient(context: ChannelContext) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        offline = WechatOaConnector(
            ConnectorConfig(base_url="https://api.weixin.qq.com", http=http)
        )
        with pytest.raises(TransientError):
            offline.publish_status(context, "2247483647")


@pytest.mark.parametrize("code", [40001, 40014, 42001])
def test_a_refused_token_is_refreshed_once_and_the_call_retried(
    tmp_path: Path,
    connector: WechatOaConnector,
    context: ChannelContext,
    sandbox: RunningSandbox,
    session_factory: sessionmaker[Session],
    box: SecretBox,
    code: int,
) -> None:
    """40001 (revoked, or not the latest), 40014 (invalid), 42001 (expired): one refresh
    through the shared store, one retry, and the post goes out."""
    state = sandbox.sandbox.state
    stored = context.tokens.current()
    assert stored is not None
    if code == 40001:
        state.revoke_tokens("wechat")
    elif code == 40014:
        with session_factory() as db:
            channel = db.get_one(Channel, context.channel_id)
            channel.access_token_encrypted = box.encrypt("garbage")
            db.commit()
    else:
        state.tokens[stored.access_token].expires_at = utcnow() - timedelta(seconds=1)
    before = token_fetches(sandbox)

    result = connector.publish(context, PublishRequest("k", variant(tmp_path)))

    assert result.state is PublishState.PROCESSING
    assert token_fetches(sandbox) == before + 1
    refreshed = context.tokens.current()
    assert refreshed is not None
    issued = state.token("wechat", refreshed.access_token)
    assert issued is not None
    assert issued.valid(utcnow())  # for 40014 it is the still-valid stable token again


def test_a_token_refused_again_after_the_refresh_is_a_token_error(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, sandbox: RunningSandbox
) -> None:
    sandbox.sandbox.faults.add(
        FaultRule(
            kind=FaultKind.REVOKE_TOKEN, platform="wechat", path_contains="material", remaining=2
        )
    )

    with pytest.raises(TokenError) as caught:
        connector.publish(context, PublishRequest("k", variant(tmp_path)))

    assert caught.value.code == "40001"
    assert "Reconnect" in str(caught.value)


def test_a_changed_app_secret_is_a_token_error(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, sandbox: RunningSandbox
) -> None:
    """Someone reset the AppSecret: the token refresh fails on the credentials (40125)."""
    state = sandbox.sandbox.state
    state.accounts[("wechat", DEMO_WECHAT_APPID)].secret = "reset-by-someone"
    state.revoke_tokens("wechat")

    with pytest.raises(TokenError) as caught:
        connector.publish(context, PublishRequest("k", variant(tmp_path)))

    assert caught.value.code == "40125"


def test_daily_quota_waits_until_midnight_in_beijing(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, wechat: WechatSandbox
) -> None:
    wechat.limits.daily_quota = 0

    with pytest.raises(QuotaExhaustedError) as caught:
        connector.publish(context, PublishRequest("k", variant(tmp_path)))

    assert caught.value.code == "45009"
    assert caught.value.resets_at == next_beijing_midnight()  # same minute in practice
    assert caught.value.resets_at.astimezone(UTC).hour == 16  # 00:00 UTC+8


def test_next_beijing_midnight() -> None:
    assert next_beijing_midnight(datetime(2026, 3, 1, 15, 59, tzinfo=UTC)) == datetime(
        2026, 3, 1, 16, 0, tzinfo=UTC
    )
    assert next_beijing_midnight(datetime(2026, 3, 1, 16, 0, tzinfo=UTC)) == datetime(
        2026, 3, 2, 16, 0, tzinfo=UTC
    )


def test_minute_limit_retries_after_a_minute(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, sandbox: RunningSandbox
) -> None:
    sandbox.sandbox.faults.add(FaultRule(kind=FaultKind.RATE_LIMIT, platform="wechat"))

    with pytest.raises(RateLimitedError) as caught:
        connector.publish(context, PublishRequest("k", variant(tmp_path)))

    assert (caught.value.code, caught.value.retry_after_s) == ("45011", 60.0)


def test_an_api_the_account_lacks_is_permanent_and_explained(
    tmp_path: Path, connector: WechatOaConnector, context: ChannelContext, wechat: WechatSandbox
) -> None:
    wechat.accounts[DEMO_WECHAT_APPID].denied_apis = {"freepublish_submit"}

    with pytest.raises(PermanentError) as caught:
        connector.publish(context, PublishRequest("k", variant(tmp_path)))

    assert caught.value.code == "48001"
    assert "WeChat verification" in str(caught.value)


# --- the token, shared single-flight -------------------------------------------------------


def test_concurrent_refreshes_fetch_one_token_shared_by_every_worker(
    connector: WechatOaConnector,
    channel: Channel,
    session_factory: sessionmaker[Session],
    box: SecretBox,
    sandbox: RunningSandbox,
    database_url: str,
) -> None:
    """Given the stored token revoked on WeChat's side,
    when eight workers (half through a second token store on its own engine, as a second
    process would have) call WeChat at once, all refused on the stale token,
    then exactly one new token is fetched and every worker ends up using it, valid."""
    other_engine = make_engine(database_url)
    other_process = make_session_factory(other_engine)
    sandbox.sandbox.state.revoke_tokens("wechat")
    before = token_fetches(sandbox)
    barrier = threading.Barrier(8)
    used: list[str] = []
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        sessions = session_factory if number % 2 else other_process
        store = DbTokenStore(sessions, channel.id, box, owner=f"worker-{number}")
        context = ChannelContext(channel.id, channel.external_id, CREDENTIALS, store)
        barrier.wait()
        try:
            connector.find(context, PublishRequest("nothing", VariantDraft(text="x")))
            token = store.current()
            used.append(token.access_token if token else "")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    other_engine.dispose()

    assert errors == []
    assert token_fetches(sandbox) == before + 1
    assert len(set(used)) == 1
    issued = sandbox.sandbox.state.token("wechat", used[0])
    assert issued is not None
    assert issued.valid(utcnow())
