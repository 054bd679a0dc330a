"""WeChat's pushes to guanxi: the server URL check, signed PUBLISHJOBFINISH events moving a
target along, and every forged, replayed, oversized or hostile request refused."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.channels.service import channel_context, create_channel
from guanxi.connectors.base import ConnectorConfig, PublishRequest
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.connectors.wechat_push import wechat_signature
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.publishing.models import Post, Variant, VariantState
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.wechat import (
    DEMO_WECHAT_APPID,
    DEMO_WECHAT_SECRET,
    DEMO_WECHAT_SERVER_TOKEN,
    WechatSandbox,
)
from tests import http_support as local
from tests import test_wechat_sandbox as sandbox_tests
from tests.conftest import UserFactory, WorkspaceFactory
from tests.http_support import local_client
from tests.test_wechat_connector import variant

wechat = sandbox_tests.wechat
sandbox = sandbox_tests.sandbox

TOKEN = DEMO_WECHAT_SERVER_TOKEN


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


@pytest.fixture
def channel(db: Session, acme: Workspace, settings: Settings) -> Channel:
    """The demo Official Account with its server token, as connecting stores it."""
    channel = create_channel(
        db,
        workspace=acme,
        connector="wechat_oa",
        platform="wechat",
        external_id=DEMO_WECHAT_APPID,
        name="普罗旺斯葡萄酒",
        credentials={
            "app_id": DEMO_WECHAT_APPID,
            "app_secret": DEMO_WECHAT_SECRET,
            "server_token": TOKEN,
        },
        box=SecretBox.from_settings(settings),
        actor=None,
    )
    db.commit()
    return channel


def processing_target(db: Session, channel: Channel, publish_id: str) -> Variant:
    """A target whose publish job ``publish_id`` WeChat is running."""
    post = Post(workspace_id=channel.workspace_id, title="桃红上市")
    db.add(post)
    db.flush()
    target = Variant(
        workspace_id=channel.workspace_id,
        post_id=post.id,
        channel_id=channel.id,
        title="桃红上市",
        idempotency_key=f"key-{publish_id}",
        state=VariantState.PROCESSING,
        external_id=publish_id,
    )
    db.add(target)
    db.commit()
    return target


def signed(token: str = TOKEN, *, age_s: int = 0, **extra: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time()) - age_s), "n0nce42"
    return {
        "signature": wechat_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        **extra,
    }


def event(publish_id: str, status: int, article_id: str = "", url: str = "") -> str:
    detail = (
        f"<article_detail><count>1</count><item><idx>1</idx>"
        f"<article_url><![CDATA[{url}]]></article_url></item></article_detail>"
        if url
        else ""
    )
    fail = "<fail_idx>1</fail_idx>" if status in {2, 3, 4} else ""
    return (
        "<xml><ToUserName><![CDATA[gh_5e1d7c3a9b20]]></ToUserName>"
        f"<FromUserName><![CDATA[{DEMO_WECHAT_APPID}]]></FromUserName>"
        "<CreateTime>1760000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo>"
        f"<publish_id>{publish_id}</publish_id><publish_status>{status}</publish_status>"
        f"<article_id><![CDATA[{article_id}]]></article_id>{detail}{fail}"
        "</PublishEventInfo></xml>"
    )


def reload(db: Session, target: Variant) -> Variant:
    db.expire_all()
    fresh = db.get(Variant, target.id)
    assert fresh is not None
    return fresh


# --- the server URL check --------------------------------------------------------------------


def test_the_server_check_echoes_echostr_when_signed(client: TestClient, channel: Channel) -> None:
    answer = client.get(f"/hooks/wechat/{channel.id}", params=signed(echostr="8d1f20"))

    assert answer.status_code == 200
    assert answer.text == "8d1f20"


# Built when the test runs, not at collection: on a slow run, a timestamp made at collection
# time could drift into (or out of) the five-minute window before the test uses it.
@pytest.mark.parametrize(
    "make_params",
    [
        lambda: signed("another-token", echostr="x"),
        lambda: signed(age_s=600, echostr="x"),  # replayed: older than five minutes
        lambda: signed(age_s=-600, echostr="x"),
        lambda: {"echostr": "x"},
        lambda: {**signed(), "signature": "0" * 40},
        lambda: {**signed(), "timestamp": "yesterday"},
    ],
    ids=["wrong token", "old", "future", "unsigned", "bad signature", "bad timestamp"],
)
def test_the_server_check_refuses_what_is_not_signed_now(
    client: TestClient, channel: Channel, make_params: Callable[[], dict[str, str]]
) -> None:
    answer = client.get(f"/hooks/wechat/{channel.id}", params=make_params())

    assert answer.status_code == 403
    assert "x" not in answer.text.replace("forbidden", "")


def test_a_channel_without_server_token_or_not_wechat_is_refused(
    client: TestClient, db: Session, acme: Workspace, settings: Settings
) -> None:
    box = SecretBox.from_settings(settings)
    no_token = create_channel(
        db,
        workspace=acme,
        connector="wechat_oa",
        platform="wechat",
        external_id="wx1111111111111111",
        name="x",
        credentials={"app_id": "wx1111111111111111", "app_secret": "s"},
        box=box,
        actor=None,
    )
    weibo = create_channel(
        db,
        workspace=acme,
        connector="weibo",
        platform="weibo",
        external_id="5821937460",
        name="y",
        credentials={"server_token": TOKEN},
        box=box,
        actor=None,
    )
    db.commit()

    for channel_id in (no_token.id, weibo.id, 999_999):
        answer = client.get(f"/hooks/wechat/{channel_id}", params=signed(echostr="x"))
        assert answer.status_code == 403


# --- events ----------------------------------------------------------------------------------


def test_a_signed_publishjobfinish_publishes_the_target(
    client: TestClient, db: Session, channel: Channel
) -> None:
    target = processing_target(db, channel, "2247483999")
    url = "https://mp.weixin.qq.com/s/abc"

    answer = client.post(
        f"/hooks/wechat/{channel.id}",
        params=signed(),
        content=event("2247483999", 0, "ARTICLE_abc", url),
    )

    assert (answer.status_code, answer.text) == (200, "success")
    fresh = reload(db, target)
    assert fresh.state == VariantState.PUBLISHED
    assert (fresh.external_id, fresh.external_url) == ("ARTICLE_abc", url)


def test_a_failed_job_fails_the_target_with_the_reason(
    client: TestClient, db: Session, channel: Channel
) -> None:
    target = processing_target(db, channel, "2247484000")

    answer = client.post(
        f"/hooks/wechat/{channel.id}", params=signed(), content=event("2247484000", 4)
    )

    assert answer.text == "success"
    fresh = reload(db, target)
    assert fresh.state == VariantState.FAILED
    assert "review rejected" in fresh.state_reason + fresh.platform_detail


def test_other_events_and_unknown_jobs_are_acknowledged_and_change_nothing(
    client: TestClient, db: Session, channel: Channel
) -> None:
    target = processing_target(db, channel, "2247484001")
    subscribe = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName>"
        "<CreateTime>1760000000</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )

    for body in (subscribe, event("99999", 0, "A", "https://mp.weixin.qq.com/s/x")):
        answer = client.post(f"/hooks/wechat/{channel.id}", params=signed(), content=body)
        assert answer.text == "success"

    assert reload(db, target).state == VariantState.PROCESSING


@pytest.mark.parametrize(
    "params",
    [signed("another-token"), signed(age_s=301), {}],
    ids=["forged", "replayed", "unsigned"],
)
def test_an_event_not_signed_now_is_refused_and_changes_nothing(
    client: TestClient, db: Session, channel: Channel, params: dict[str, str]
) -> None:
    target = processing_target(db, channel, "2247484002")

    answer = client.post(
        f"/hooks/wechat/{channel.id}",
        params=params,
        content=event("2247484002", 0, "A", "https://mp.weixin.qq.com/s/x"),
    )

    assert answer.status_code == 403
    assert reload(db, target).state == VariantState.PROCESSING


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><MsgType>event</MsgType><Event>PUBLISHJOBFINISH</Event><x>&lol3;</x></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><MsgType>event</MsgType><Event>PUBLISHJOBFINISH</Event><PublishEventInfo>
<publish_id>2247484003</publish_id><publish_status>3</publish_status>
<article_id>&xxe;</article_id></PublishEventInfo></xml>"""


@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL_ENTITY, "<xml><unclosed>"], ids=["bomb", "xxe", "broken"]
)
def test_hostile_xml_is_refused_even_when_signed(
    client: TestClient, db: Session, channel: Channel, body: str
) -> None:
    target = processing_target(db, channel, "2247484003")

    answer = client.post(f"/hooks/wechat/{channel.id}", params=signed(), content=body)

    assert answer.status_code == 400
    assert "root:" not in answer.text
    assert reload(db, target).state == VariantState.PROCESSING


def test_an_oversized_body_is_refused(client: TestClient, channel: Channel) -> None:
    body = "<xml>" + "x" * 70_000 + "</xml>"

    answer = client.post(f"/hooks/wechat/{channel.id}", params=signed(), content=body)

    assert answer.status_code == 413


def test_the_hooks_are_not_behind_the_session_csrf_check(
    client: TestClient, channel: Channel
) -> None:
    """Server-to-server: no session, no CSRF token, only WeChat's signature."""
    answer = client.post(
        f"/hooks/wechat/{channel.id}", params=signed(), content=event("1", 0, "A", "https://x")
    )

    assert answer.status_code == 200


# --- end to end: the sandbox pushes to a running guanxi ---------------------------------------


@pytest.fixture
def guanxi(app: FastAPI) -> Iterator[RunningSandbox]:
    """guanxi itself listening on localhost, so the sandbox can push to it."""
    with run_in_thread(app) as running:
        yield running


def test_the_sandbox_push_arrives_signed_and_publishes_the_target(
    tmp_path: Path,
    db: Session,
    channel: Channel,
    settings: Settings,
    guanxi: RunningSandbox,
    sandbox: RunningSandbox,
    wechat: WechatSandbox,
) -> None:
    """Given the demo account's server URL set to guanxi (WeChat first checks it echoes),
    when an article is published and nobody polls, then WeChat's PUBLISHJOBFINISH push,
    signed with the server token, moves the target to PUBLISHED with the article's URL."""
    # The job is held until the target is recorded: a push for a target not yet recorded
    # changes nothing, and on a loaded machine no fixed delay is sure to be long enough.
    wechat.limits.publish_delay_s = 3600.0
    hook = f"{guanxi.base_url}/hooks/wechat/{channel.id}"
    configured = local.put(
        sandbox.api_base("/wechat") + f"/_sandbox/accounts/{DEMO_WECHAT_APPID}/server",
        json={"url": hook, "token": TOKEN},
        timeout=10,
    )
    assert configured.status_code == 200, configured.text
    box = SecretBox.from_settings(settings)
    with local_client() as http:
        connector = WechatOaConnector(ConnectorConfig(sandbox.api_base("/wechat"), http))
        context = channel_context(
            channel, sessions=guanxi.app.state.session_factory, box=box, owner="worker-1"
        )
        submitted = connector.publish(context, PublishRequest("push-1", variant(tmp_path)))
    target = processing_target(db, channel, submitted.external_id)
    with wechat.lock:
        wechat.jobs[submitted.external_id].finish_at = time.monotonic()

    def answered() -> bool:  # guanxi commits before it answers: wait for both
        pushed = [push.status_code for push in wechat.pushes]
        return reload(db, target).state != VariantState.PROCESSING and pushed == [200]

    deadline = time.monotonic() + 15
    while not answered() and time.monotonic() < deadline:
        time.sleep(0.05)

    fresh = reload(db, target)
    assert fresh.state == VariantState.PUBLISHED
    assert fresh.external_url == wechat.jobs[submitted.external_id].urls[0]
    assert [(p.status_code, p.answer) for p in wechat.pushes] == [(200, "success")]
    assert "<Event><![CDATA[PUBLISHJOBFINISH]]></Event>" in wechat.pushes[0].body
