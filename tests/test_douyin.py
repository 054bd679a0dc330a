"""The Douyin connector against the sandbox's Douyin open platform: connecting an account,
publishing a video through review, token refresh, every error the platform answers, and
the faults the sandbox injects."""

from __future__ import annotations

import hashlib
import math
import random
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.channels.service import channel_context, create_channel
from guanxi.connectors.base import (
    ChannelContext,
    ConnectorConfig,
    MediaFile,
    MediaKind,
    OutcomeUnknownError,
    PermanentError,
    PublishRequest,
    PublishState,
    RateLimitedError,
    Token,
    TokenError,
    TransientError,
    VariantDraft,
)
from guanxi.connectors.douyin import DouyinConnector
from guanxi.connectors.douyin_rules import MAX_VIDEO_BYTES, idempotency_marker, visible_text
from guanxi.connectors.registry import build_connector
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.douyin import (
    DEMO_DOUYIN_CLIENT_KEY,
    DEMO_DOUYIN_CLIENT_SECRET,
    DEMO_DOUYIN_NAME,
    DEMO_DOUYIN_OPEN_ID,
    DEMO_DOUYIN_REFRESH_TOKEN,
    DEMO_DOUYIN_TOKEN,
    DouyinSandboxConfig,
    douyin_surface,
)
from guanxi.sandbox.douyin_parts import BoxWalk
from guanxi.sandbox.faults import FaultKind, FaultRule
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from tests import http_support as local
from tests.conftest import UserFactory, WorkspaceFactory
from tests.http_support import HANG_UP_AFTER_S, local_client

REVIEW_DELAY_S = 600.0  # the review ends when a test moves the sandbox's clock past it
BOX = SecretBox("douyin-test-secret-key-0123456789-abcdefgh")
REDIRECT_URI = "http://127.0.0.1:8000/w/acme/channels/oauth/douyin"
# Douyin's part upload in miniature: files of a few KB, split into parts of 2 KB.
PART_SIZE = 2048
SINGLE_UPLOAD_LIMIT = 4096
MIN_PART = 1024


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox serving only Douyin, whose reviews take a fraction of a second."""
    config = DouyinSandboxConfig(review_delay_s=REVIEW_DELAY_S, min_part_bytes=MIN_PART)
    app = create_sandbox_app(platform_surfaces=[douyin_surface(config)])
    with run_in_thread(app) as running:
        yield running


def end_reviews(running: RunningSandbox) -> None:
    """Move the sandbox's clock past every review under way."""
    running.sandbox.state.clock.set(offset=timedelta(seconds=REVIEW_DELAY_S + 1))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The HTTP client the connector uses; the tests of a timeout make their own."""
    with local_client() as client:
        yield client


@pytest.fixture
def connector(sandbox: RunningSandbox, http: httpx.Client) -> DouyinConnector:
    """The real connector, configured with the sandbox's base URL and the demo app."""
    return demo_connector(sandbox, http)


def demo_connector(sandbox: RunningSandbox, http: httpx.Client) -> DouyinConnector:
    """The connector of the demo app on ``sandbox``, through ``http``."""
    return DouyinConnector(
        ConnectorConfig(
            base_url=sandbox.api_base("/douyin"),
            http=http,
            app_id=DEMO_DOUYIN_CLIENT_KEY,
            app_secret=DEMO_DOUYIN_CLIENT_SECRET,
        )
    )


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    """The brand's workspace."""
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def connect_demo(db: Session, workspace: Workspace, token: Token) -> Channel:
    """The demo Douyin account connected with ``token`` and the demo refresh token."""
    channel = create_channel(
        db,
        workspace=workspace,
        connector="douyin",
        platform="douyin",
        external_id=DEMO_DOUYIN_OPEN_ID,
        name=DEMO_DOUYIN_NAME,
        credentials={"refresh_token": DEMO_DOUYIN_REFRESH_TOKEN},
        box=BOX,
        actor=None,
        token=token,
    )
    db.commit()
    return channel


def context_of(channel: Channel, sessions: sessionmaker[Session]) -> ChannelContext:
    """What a worker hands the connector for this channel."""
    return channel_context(channel, sessions=sessions, box=BOX, owner="test-worker")


@pytest.fixture
def demo_channel(
    db: Session, workspace: Workspace, session_factory: sessionmaker[Session]
) -> ChannelContext:
    """The demo account, connected with its long-lived sandbox token."""
    token = Token(DEMO_DOUYIN_TOKEN, utcnow() + timedelta(days=10))
    return context_of(connect_demo(db, workspace, token), session_factory)


@pytest.fixture
def video(tmp_path: Path) -> MediaFile:
    """A small MP4 file from the media library."""
    path = tmp_path / "launch.mp4"
    content = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2048
    path.write_bytes(content)
    return MediaFile(
        path=path,
        kind=MediaKind.VIDEO,
        content_type="video/mp4",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        width=1080,
        height=1920,
        duration_s=12.0,
    )


def request_for(
    video: MediaFile, text: str = "新品上市 #关系咖啡 欢迎来尝", key: str = "t-1"
) -> PublishRequest:
    """A publish request for one target."""
    return PublishRequest(idempotency_key=key, variant=VariantDraft(text=text, media=(video,)))


def sandbox_posts(sandbox: RunningSandbox) -> list[dict[str, object]]:
    """What the sandbox's Douyin holds, as its admin endpoint lists it."""
    response = local.get(f"{sandbox.base_url}/_sandbox/posts", params={"platform": "douyin"})
    posts: list[dict[str, object]] = response.json()
    return posts


def add_fault(sandbox: RunningSandbox, **rule: object) -> None:
    """Activate a fault on the sandbox's Douyin."""
    response = local.post(
        f"{sandbox.base_url}/_sandbox/faults", json={"platform": "douyin", **rule}
    )
    assert response.status_code == 201, response.text


def wait_for(condition: object, timeout: float = 30.0) -> None:
    """Poll until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# Connecting an account.


def test_an_account_connects_through_the_consent_page(
    connector: DouyinConnector, http: httpx.Client
) -> None:
    """Given the consent URL, when the user approves as the demo account, then guanxi gets
    the account's open_id, nickname, a 15-day token and the refresh token to keep."""
    url = connector.authorization_url(state="xyz", redirect_uri=REDIRECT_URI)
    page = http.get(url)
    assert page.status_code == 200
    assert DEMO_DOUYIN_NAME in page.text
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    answer = http.post(url, data={**fields, "open_id": DEMO_DOUYIN_OPEN_ID, "password": "sandbox"})
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert str(location).startswith(REDIRECT_URI)
    assert location.params["state"] == "xyz"

    identity = connector.complete_authorization(
        code=location.params["code"], redirect_uri=REDIRECT_URI
    )

    assert identity.external_id == DEMO_DOUYIN_OPEN_ID
    assert identity.name == DEMO_DOUYIN_NAME
    assert identity.credentials["refresh_token"].startswith("douyin.refresh.")
    assert identity.token is not None
    assert identity.token.expires_at is not None
    assert identity.token.expires_at - utcnow() > timedelta(days=14)

    with pytest.raises(TokenError):  # a code works once
        connector.complete_authorization(code=location.params["code"], redirect_uri=REDIRECT_URI)


def test_the_consent_page_refuses_a_wrong_password(
    connector: DouyinConnector, http: httpx.Client
) -> None:
    url = connector.authorization_url(state="s", redirect_uri=REDIRECT_URI)
    answer = http.post(url, data={"open_id": DEMO_DOUYIN_OPEN_ID, "password": "wrong"})
    assert answer.status_code == 401
    assert "密码错误" in answer.text


def test_a_wrong_client_secret_is_refused(sandbox: RunningSandbox, http: httpx.Client) -> None:
    connector = DouyinConnector(
        ConnectorConfig(
            base_url=sandbox.api_base("/douyin"),
            http=http,
            app_id=DEMO_DOUYIN_CLIENT_KEY,
            app_secret="wrong",
        )
    )
    with pytest.raises(PermanentError) as error:
        connector.complete_authorization(code="anything", redirect_uri=REDIRECT_URI)
    assert error.value.code == "10013"


def test_the_registry_builds_it_from_the_settings(
    settings: Settings, http: httpx.Client, sandbox: RunningSandbox
) -> None:
    configured = settings.model_copy(
        update={
            "douyin_api_base": sandbox.api_base("/douyin"),
            "douyin_client_key": DEMO_DOUYIN_CLIENT_KEY,
        }
    )
    connector = build_connector("douyin", configured, http)
    assert isinstance(connector, DouyinConnector)
    assert connector.authorization_url(state="s", redirect_uri="x").startswith(
        sandbox.api_base("/douyin")
        + "/platform/oauth/connect/?client_key="
        + DEMO_DOUYIN_CLIENT_KEY
    )


# Publishing.


def test_a_video_is_published_pending_review_then_public(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    """When a video is published, the result is "published, pending review", not
    "published"; once Douyin's review passes, its status is published with a share URL."""
    result = connector.publish(demo_channel, request_for(video))

    assert result.state is PublishState.PENDING_REVIEW
    assert result.external_id
    [post] = sandbox_posts(sandbox)
    assert post["status"] == "reviewing"
    assert visible_text(str(post["text"])) == "新品上市 #关系咖啡 欢迎来尝"
    assert str(post["text"]).endswith(idempotency_marker("t-1"))

    assert connector.publish_status(demo_channel, result.external_id).state is (
        PublishState.PENDING_REVIEW
    )
    end_reviews(sandbox)
    status = connector.publish_status(demo_channel, result.external_id)
    assert status.state is PublishState.PUBLISHED
    assert result.external_id in status.url
    # The account page shows it public.
    page = local.get(f"{sandbox.base_url}/accounts/douyin/{DEMO_DOUYIN_OPEN_ID}")
    assert "published" in page.text
    assert "新品上市" in page.text


def test_a_video_refused_by_review_ends_failed(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    result = connector.publish(demo_channel, request_for(video, text="这条审核不通过 #测试"))
    end_reviews(sandbox)
    status = connector.publish_status(demo_channel, result.external_id)
    assert status.state is PublishState.FAILED
    assert "not suitable" in status.detail


def test_a_deleted_video_is_gone(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    request = request_for(video)
    result = connector.publish(demo_channel, request)
    connector.delete(demo_channel, result.external_id)
    assert sandbox_posts(sandbox)[0]["deleted"] is True
    assert connector.find(demo_channel, request) is None
    assert connector.publish_status(demo_channel, result.external_id).state is PublishState.FAILED


def test_find_tells_a_published_request_from_one_never_sent(
    connector: DouyinConnector, demo_channel: ChannelContext, video: MediaFile
) -> None:
    sent = request_for(video, key="sent")
    result = connector.publish(demo_channel, sent)
    connector.publish(demo_channel, request_for(video, text="另一条视频", key="other"))

    found = connector.find(demo_channel, sent)
    assert found is not None
    assert found.external_id == result.external_id
    assert connector.find(demo_channel, request_for(video, text="从未发出", key="never")) is None


# Tokens.


def test_an_expired_stored_token_is_refreshed_before_the_call(
    db: Session,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    connector: DouyinConnector,
    video: MediaFile,
) -> None:
    channel = connect_demo(db, workspace, Token("act.stale", utcnow() - timedelta(minutes=1)))
    result = connector.publish(context_of(channel, session_factory), request_for(video))
    assert result.state is PublishState.PENDING_REVIEW
    db.refresh(channel)
    assert channel.token_version == 2
    assert channel.token_expires_at is not None
    assert channel.token_expires_at > utcnow() + timedelta(days=14)


def test_a_token_douyin_says_expired_is_refreshed_and_the_call_repeated(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    """Given a token guanxi thinks valid but Douyin has expired (2190008), the connector
    refreshes it once and the publish goes through."""
    state = sandbox.sandbox.state
    state.tokens[DEMO_DOUYIN_TOKEN].expires_at = utcnow() - timedelta(seconds=1)
    result = connector.publish(demo_channel, request_for(video))
    assert result.state is PublishState.PENDING_REVIEW
    assert len(sandbox_posts(sandbox)) == 1
    current = demo_channel.tokens.current()
    assert current is not None
    assert current.access_token != DEMO_DOUYIN_TOKEN


def test_workers_refresh_a_token_once_between_them(
    db: Session,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    connector: DouyinConnector,
    sandbox: RunningSandbox,
) -> None:
    """Given four workers finding the same expired token, exactly one refresh request
    reaches Douyin and every worker uses the token it fetched."""
    channel = connect_demo(db, workspace, Token("act.stale", utcnow() - timedelta(minutes=1)))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            connector.publish_status(context_of(channel, session_factory), "@nothing")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    refreshes = [
        p for _m, p in sandbox.sandbox.state.requests if p.endswith("/oauth/refresh_token/")
    ]
    assert len(refreshes) == 1


def test_a_revoked_authorization_is_a_token_error(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    """When the user cancels the authorization, the refresh fails too: the channel must be
    reconnected (TokenError) and nothing is published."""
    add_fault(sandbox, kind="revoke_token", path_contains="/video/upload/", remaining=1)
    with pytest.raises(TokenError) as error:
        connector.publish(demo_channel, request_for(video))
    assert error.value.code == "10010"
    assert sandbox_posts(sandbox) == []


def test_a_token_of_another_account_is_a_token_error(
    db: Session,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    connector: DouyinConnector,
    sandbox: RunningSandbox,
) -> None:
    other = sandbox.sandbox.state.issue_token(
        platform="douyin",
        account_id="_000someone-else",
        client_id=DEMO_DOUYIN_CLIENT_KEY,
        lifetime=timedelta(days=1),
    )
    channel = connect_demo(db, workspace, Token(other.token, utcnow() + timedelta(days=1)))
    with pytest.raises(TokenError) as error:
        connector.publish_status(context_of(channel, session_factory), "@1")
    assert error.value.code == "2190015"


def test_an_unknown_token_is_replaced_by_a_refresh(
    db: Session,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    connector: DouyinConnector,
    video: MediaFile,
) -> None:
    """Douyin answers 2190002 for a token it does not know; the refresh token still works."""
    channel = connect_demo(db, workspace, Token("act.unknown", utcnow() + timedelta(days=1)))
    result = connector.publish(context_of(channel, session_factory), request_for(video))
    assert result.state is PublishState.PENDING_REVIEW


def test_without_a_refresh_token_an_expired_token_needs_a_reconnect(
    db: Session,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    connector: DouyinConnector,
    video: MediaFile,
) -> None:
    channel = create_channel(
        db,
        workspace=workspace,
        connector="douyin",
        platform="douyin",
        external_id=DEMO_DOUYIN_OPEN_ID,
        name="x",
        credentials={},
        box=BOX,
        actor=None,
        token=Token("act.stale", utcnow() - timedelta(days=1)),
    )
    db.commit()
    with pytest.raises(TokenError):
        connector.publish(context_of(channel, session_factory), request_for(video))


# Errors and faults.


def test_a_rate_limit_says_when_to_retry(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    add_fault(sandbox, kind="rate_limit", path_contains="/video/create/", remaining=1)
    with pytest.raises(RateLimitedError) as error:
        connector.publish(demo_channel, request_for(video))
    assert error.value.code == "2100006"
    assert error.value.retry_after_s > 0
    assert sandbox_posts(sandbox) == []


def test_the_account_rate_limit_of_the_sandbox_applies(
    http: httpx.Client,
    demo_channel: ChannelContext,
) -> None:
    config = DouyinSandboxConfig(account_limit_per_minute=2)
    with run_in_thread(create_sandbox_app(platform_surfaces=[douyin_surface(config)])) as running:
        connector = DouyinConnector(
            ConnectorConfig(
                base_url=running.api_base("/douyin"), http=http, app_id=DEMO_DOUYIN_CLIENT_KEY
            )
        )
        connector.publish_status(demo_channel, "@1")
        connector.publish_status(demo_channel, "@1")
        with pytest.raises(RateLimitedError) as error:
            connector.publish_status(demo_channel, "@1")
    assert 0 < error.value.retry_after_s <= 61


def test_a_server_error_on_create_is_transient_and_publishes_nothing(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    """Douyin's 500 with "system busy" (2100004) means nothing was created: retry later."""
    add_fault(sandbox, kind="server_error", path_contains="/video/create/", remaining=1)
    with pytest.raises(TransientError) as error:
        connector.publish(demo_channel, request_for(video))
    assert error.value.code == "2100004"
    assert sandbox_posts(sandbox) == []
    assert connector.publish(demo_channel, request_for(video)).state is PublishState.PENDING_REVIEW


def test_a_gateway_error_without_an_answer_on_create_is_an_unknown_outcome(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bare 502 page on create may hide a created post: the engine must reconcile first."""
    [surface] = sandbox.sandbox.surfaces
    monkeypatch.setattr(
        surface, "server_error", lambda: HTMLResponse("<h1>502 Bad Gateway</h1>", status_code=502)
    )
    add_fault(sandbox, kind="server_error", path_contains="/video/create/", remaining=1)
    with pytest.raises(OutcomeUnknownError):
        connector.publish(demo_channel, request_for(video))


def test_a_timeout_after_the_video_was_accepted_is_reconciled_by_find(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    """Given Douyin creates the video but the answer never arrives in time, publish raises
    an unknown outcome, and find then finds the very post: no blind retry, no duplicate."""
    add_fault(
        sandbox,
        kind="timeout_after_accept",
        path_contains="/video/create/",
        remaining=1,
        delay_s=HANG_UP_AFTER_S * 3,
    )
    request = request_for(video, key="target-42")
    with (
        local_client(hang_up_on="/video/create/") as impatient,
        pytest.raises(OutcomeUnknownError),
    ):
        demo_connector(sandbox, impatient).publish(demo_channel, request)
    wait_for(lambda: len(sandbox_posts(sandbox)) == 1)

    found = connector.find(demo_channel, request)

    assert found is not None
    # Reviewed by now or not, it is the one post, and it is live for the author.
    assert found.state in {PublishState.PENDING_REVIEW, PublishState.PUBLISHED}
    [post] = sandbox_posts(sandbox)
    assert found.external_id == post["post_id"]


def test_a_timeout_on_upload_is_transient(
    demo_channel: ChannelContext, video: MediaFile, sandbox: RunningSandbox
) -> None:
    """An upload publishes nothing, so a timeout there is simply retried."""
    add_fault(
        sandbox,
        kind="timeout_after_accept",
        path_contains="/video/upload/",
        remaining=1,
        delay_s=HANG_UP_AFTER_S * 3,
    )
    with (
        local_client(hang_up_on="/video/upload/") as impatient,
        pytest.raises(TransientError),
    ):
        demo_connector(sandbox, impatient).publish(demo_channel, request_for(video))
    assert sandbox_posts(sandbox) == []


def test_latency_within_the_timeout_is_only_slower(
    connector: DouyinConnector,
    demo_channel: ChannelContext,
    video: MediaFile,
    sandbox: RunningSandbox,
) -> None:
    add_fault(sandbox, kind="latency", path_contains="/video/", delay_s=0.3)
    assert connector.publish(demo_channel, request_for(video)).state is PublishState.PENDING_REVIEW


def test_an_unreachable_platform_is_transient(
    http: httpx.Client, demo_channel: ChannelContext, video: MediaFile
) -> None:
    connector = DouyinConnector(ConnectorConfig(base_url="http://127.0.0.1:9", http=http))
    with pytest.raises(TransientError):
        connector.publish(demo_channel, request_for(video))


def test_a_file_that_is_not_a_video_is_refused_for_good(
    connector: DouyinConnector, demo_channel: ChannelContext, tmp_path: Path
) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"GIF89a not a video")
    fake = MediaFile(path=path, kind=MediaKind.VIDEO, content_type="video/mp4", size=18, sha256="0")
    with pytest.raises(PermanentError) as error:
        connector.publish(demo_channel, request_for(fake))
    assert error.value.code == "2100005"
    assert "mp4" in str(error.value)


# Large videos: the part upload.


@pytest.fixture
def big_video(tmp_path: Path) -> MediaFile:
    """An MP4 (an ftyp box, then an mdat box) of about 9 KB: five parts of 2 KB or less."""
    payload = random.Random(7).randbytes(9000)
    content = (
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        + (8 + len(payload)).to_bytes(4, "big")
        + b"mdat"
        + payload
    )
    path = tmp_path / "launch-film.mp4"
    path.write_bytes(content)
    return MediaFile(
        path=path,
        kind=MediaKind.VIDEO,
        content_type="video/mp4",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        width=1080,
        height=1920,
        duration_s=300.0,
    )


def parts_connector(
    base_url: str, http: httpx.Client, part_size: int = PART_SIZE
) -> DouyinConnector:
    """The connector with the single-upload limit and the part size of the miniature."""
    config = ConnectorConfig(
        base_url=base_url,
        http=http,
        app_id=DEMO_DOUYIN_CLIENT_KEY,
        app_secret=DEMO_DOUYIN_CLIENT_SECRET,
    )
    return DouyinConnector(config, part_size=part_size, single_upload_limit=SINGLE_UPLOAD_LIMIT)


def part_count(video: MediaFile) -> int:
    """How many parts the miniature splits ``video`` into."""
    return math.ceil(video.size / PART_SIZE)


def requested(sandbox: RunningSandbox, path: str) -> int:
    """How many requests reached this Douyin path."""
    return sum(1 for _m, p in sandbox.sandbox.state.requests if p.endswith(path))


class LosingTransport(httpx.BaseTransport):
    """Answers one part's upload itself, like a broken proxy: that part never reaches Douyin."""

    def __init__(self, lost_part: int) -> None:
        self._inner = httpx.HTTPTransport()
        self._lost_part = str(lost_part)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Pass every request on, except the lost part's."""
        if (
            request.url.path.endswith("/video/part/upload/")
            and request.url.params.get("part_number") == self._lost_part
        ):
            request.read()
            body = {"data": {"error_code": 0, "description": ""}, "message": "success"}
            return httpx.Response(200, json=body, request=request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the real transport."""
        self._inner.close()


def test_a_large_video_is_published_through_parts_and_arrives_whole(
    sandbox: RunningSandbox,
    http: httpx.Client,
    demo_channel: ChannelContext,
    big_video: MediaFile,
) -> None:
    """Given a video above the single-upload limit, when it is published, then it goes up in
    parts (init, each part in order, complete) and Douyin holds exactly the file: same size,
    same SHA-256; the post is pending review like any other."""
    connector = parts_connector(sandbox.api_base("/douyin"), http)

    result = connector.publish(demo_channel, request_for(big_video))

    assert result.state is PublishState.PENDING_REVIEW
    assert requested(sandbox, "/video/upload/") == 0
    assert requested(sandbox, "/video/part/init/") == 1
    assert requested(sandbox, "/video/part/upload/") == part_count(big_video) == 5
    assert requested(sandbox, "/video/part/complete/") == 1
    [post] = sandbox_posts(sandbox)
    assert post["post_id"] == result.external_id
    assert post["extra"] == {
        "video_id": post["media"][0],  # type: ignore[index]
        "size": big_video.size,
        "sha256": big_video.sha256,
    }


def test_a_video_within_the_single_upload_limit_goes_up_in_one_request(
    sandbox: RunningSandbox, http: httpx.Client, demo_channel: ChannelContext, video: MediaFile
) -> None:
    connector = parts_connector(sandbox.api_base("/douyin"), http)
    connector.publish(demo_channel, request_for(video))
    assert requested(sandbox, "/video/upload/") == 1
    assert requested(sandbox, "/video/part/init/") == 0
    [post] = sandbox_posts(sandbox)
    assert post["extra"]["sha256"] == video.sha256  # type: ignore[index]


def test_a_part_sent_again_after_a_token_refresh_is_sent_whole(
    sandbox: RunningSandbox, demo_channel: ChannelContext, big_video: MediaFile
) -> None:
    """Given Douyin expires the token just as part 3 goes out, the connector refreshes it and
    sends part 3 again from its first byte: the video still arrives whole."""
    state = sandbox.sandbox.state

    def expire_on_part_3(request: httpx.Request) -> None:
        if request.url.params.get("part_number") == "3" and DEMO_DOUYIN_TOKEN in state.tokens:
            state.tokens[DEMO_DOUYIN_TOKEN].expires_at = utcnow() - timedelta(seconds=1)

    with local_client(event_hooks={"request": [expire_on_part_3]}) as http:
        connector = parts_connector(sandbox.api_base("/douyin"), http)
        result = connector.publish(demo_channel, request_for(big_video))

    assert result.state is PublishState.PENDING_REVIEW
    assert requested(sandbox, "/oauth/refresh_token/") == 1
    assert requested(sandbox, "/video/part/upload/") == part_count(big_video) + 1
    [post] = sandbox_posts(sandbox)
    assert post["extra"]["sha256"] == big_video.sha256  # type: ignore[index]


def test_a_server_error_on_one_part_is_transient_and_the_retry_starts_over(
    sandbox: RunningSandbox,
    http: httpx.Client,
    demo_channel: ChannelContext,
    big_video: MediaFile,
) -> None:
    """Douyin's 500 on part 3 fails the upload (nothing is created); the engine's retry
    starts a new upload and the whole video arrives."""

    def fail_part_3(request: httpx.Request) -> None:
        if request.url.params.get("part_number") == "3":
            sandbox.sandbox.faults.add(
                FaultRule(FaultKind.SERVER_ERROR, "douyin", "/video/part/upload/", remaining=1)
            )

    with local_client(event_hooks={"request": [fail_part_3]}) as failing:
        connector = parts_connector(sandbox.api_base("/douyin"), failing)
        with pytest.raises(TransientError) as error:
            connector.publish(demo_channel, request_for(big_video))
    assert error.value.code == "2100004"
    assert requested(sandbox, "/video/part/upload/") == 3
    assert requested(sandbox, "/video/part/complete/") == 0
    assert sandbox_posts(sandbox) == []

    parts_connector(sandbox.api_base("/douyin"), http).publish(demo_channel, request_for(big_video))
    assert requested(sandbox, "/video/part/init/") == 2
    [post] = sandbox_posts(sandbox)
    assert post["extra"]["sha256"] == big_video.sha256  # type: ignore[index]


def test_an_upload_id_past_its_lifetime_is_transient(
    http: httpx.Client, demo_channel: ChannelContext, big_video: MediaFile
) -> None:
    """Douyin forgets an upload id after 2 hours (here at once): the upload must start over,
    so the error is transient, and nothing is published."""
    config = DouyinSandboxConfig(min_part_bytes=MIN_PART, part_upload_lifetime_s=0)
    with run_in_thread(create_sandbox_app(platform_surfaces=[douyin_surface(config)])) as running:
        connector = parts_connector(running.api_base("/douyin"), http)
        with pytest.raises(TransientError) as error:
            connector.publish(demo_channel, request_for(big_video))
        assert sandbox_posts(running) == []
    assert error.value.code == "2100011"
    assert "start over" in str(error.value)


@pytest.mark.parametrize(
    ("lost_part", "code"),
    [(2, "2100012"), (5, "2100013")],
    ids=["a middle part: the next one is out of order", "the last part: missing at complete"],
)
def test_a_part_lost_on_the_way_is_transient(
    sandbox: RunningSandbox,
    demo_channel: ChannelContext,
    big_video: MediaFile,
    lost_part: int,
    code: str,
) -> None:
    """Given a part that never reaches Douyin, Douyin refuses the next part (out of order) or
    the completion (a part is missing): the upload starts over later, nothing is published."""
    assert lost_part <= part_count(big_video)
    with local_client(transport=LosingTransport(lost_part)) as losing:
        connector = parts_connector(sandbox.api_base("/douyin"), losing)
        with pytest.raises(TransientError) as error:
            connector.publish(demo_channel, request_for(big_video))
    assert error.value.code == code
    assert sandbox_posts(sandbox) == []


def test_parts_below_douyins_minimum_are_refused_for_good(
    sandbox: RunningSandbox,
    http: httpx.Client,
    demo_channel: ChannelContext,
    big_video: MediaFile,
) -> None:
    """Parts smaller than Douyin's minimum (except the last) cannot succeed on a retry."""
    connector = parts_connector(sandbox.api_base("/douyin"), http, part_size=MIN_PART // 2)
    with pytest.raises(PermanentError) as error:
        connector.publish(demo_channel, request_for(big_video))
    assert error.value.code == "2100014"
    assert (
        requested(sandbox, "/video/part/upload/") == 2
    )  # refused when part 2 shows 1 was not last
    assert sandbox_posts(sandbox) == []


def test_the_sandbox_refuses_an_unknown_upload_id_and_parts_out_of_order(
    sandbox: RunningSandbox, http: httpx.Client
) -> None:
    """Douyin's answers to a client that gets the part upload wrong."""
    base = sandbox.api_base("/douyin")
    video = {"video": ("a.mp4", b"\x00\x00\x00\x08ftyp" + b"\x00" * 2000, "video/mp4")}

    def answer(path: str, **params: str | int) -> dict[str, object]:
        response = http.post(
            f"{base}{path}",
            params={"open_id": DEMO_DOUYIN_OPEN_ID, **params},
            headers={"access-token": DEMO_DOUYIN_TOKEN},
            files=video if path == "/video/part/upload/" else None,
        )
        data: dict[str, object] = response.json()["data"]
        return data

    assert answer("/video/part/upload/", upload_id="nope", part_number=1)["error_code"] == 2100011
    upload_id = str(answer("/video/part/init/")["upload_id"])
    assert answer("/video/part/complete/", upload_id=upload_id)["error_code"] == 2100013
    assert (
        answer("/video/part/upload/", upload_id=upload_id, part_number=2)["error_code"] == 2100012
    )
    assert answer("/video/part/upload/", upload_id=upload_id, part_number=1)["error_code"] == 0
    assert (
        answer("/video/part/upload/", upload_id=upload_id, part_number=1)["error_code"] == 2100012
    )
    # The first box claims 8 bytes; the 2000 zero bytes after it are a box of size 0 (to the end).
    assert answer("/video/part/complete/", upload_id=upload_id)["error_code"] == 0
    assert answer("/video/part/complete/", upload_id=upload_id)["error_code"] == 2100011


def test_the_sandbox_follows_mp4_boxes_across_any_split() -> None:
    """A box header cut between two parts (or two reads) is still followed to its end."""
    content = b"\x00\x00\x00\x10ftypmp42mp42" + b"\x00\x00\x00\x01mdat" + (40).to_bytes(8, "big")
    content += b"x" * 24
    for split in range(1, len(content)):
        walk = BoxWalk()
        walk.feed(content[:split])
        walk.feed(content[split:])
        assert walk.whole(), split
    cut = BoxWalk()
    cut.feed(content[:-1])
    assert not cut.whole()


# Validation.


def variant(*media: MediaFile, text: str = "新品 #咖啡 来尝") -> VariantDraft:
    """A Douyin variant."""
    return VariantDraft(text=text, media=media)


def codes(connector: DouyinConnector, draft: VariantDraft) -> list[str]:
    """The rule codes a variant breaks."""
    return [problem.code for problem in connector.validate(draft)]


def test_a_good_variant_breaks_no_rule(connector: DouyinConnector, video: MediaFile) -> None:
    assert connector.validate(variant(video)) == []


def test_douyin_needs_exactly_one_video(connector: DouyinConnector, video: MediaFile) -> None:
    image = MediaFile(
        path=Path("a.jpg"), kind=MediaKind.IMAGE, content_type="image/jpeg", size=10, sha256="0"
    )
    assert codes(connector, variant()) == ["douyin.video_required"]
    assert codes(connector, variant(image)) == ["douyin.video_required", "douyin.no_images"]
    assert codes(connector, variant(video, video)) == ["douyin.one_video"]


def test_video_format_size_and_duration_are_checked(connector: DouyinConnector) -> None:
    big_gif = MediaFile(
        path=Path("a.avi"),
        kind=MediaKind.VIDEO,
        content_type="video/x-msvideo",
        size=5 * 1024**3,
        sha256="0",
        duration_s=16 * 60,
    )
    assert codes(connector, variant(big_gif)) == [
        "douyin.video_format",
        "douyin.video_too_large",
        "douyin.video_duration",
    ]


def test_a_video_above_128_mb_passes_and_one_above_4_gb_says_what_to_do(
    connector: DouyinConnector,
) -> None:
    """Above 128 MB the part upload takes over; above Douyin's 4 GB the user must shrink it."""

    def mp4(size: int) -> MediaFile:
        return MediaFile(
            path=Path("film.mp4"),
            kind=MediaKind.VIDEO,
            content_type="video/mp4",
            size=size,
            sha256="0",
            duration_s=600.0,
        )

    assert connector.validate(variant(mp4(200 * 1024 * 1024))) == []
    assert connector.validate(variant(mp4(MAX_VIDEO_BYTES))) == []
    [problem] = connector.validate(variant(mp4(MAX_VIDEO_BYTES + 1)))
    assert problem.code == "douyin.video_too_large"
    assert problem.params == {"size": 4096, "limit": 4096}
    assert "Compress it or cut it shorter" in problem.message.format(**problem.params)


def test_text_length_and_hashtag_style_are_checked(
    connector: DouyinConnector, video: MediaFile
) -> None:
    problems = connector.validate(variant(video, text="#新品# 上市 # " + "好" * 1000))
    assert [(p.code, p.severity.value) for p in problems] == [
        ("douyin.text_too_long", "error"),
        ("douyin.hashtag_style", "warning"),
        ("douyin.empty_hashtag", "warning"),
    ]
    assert problems[0].params == {"length": 1010, "limit": 1000}
