"""WeChat's message push into the inbox: signatures, replays, hostile XML, message kinds,
and the sandbox audience's messages arriving at a running guanxi."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.wechat_push import wechat_signature
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.sandbox.audience import engagement_of
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.wechat import DEMO_WECHAT_APPID, DEMO_WECHAT_SERVER_TOKEN
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.inbox_ingest_support import connect_demo, make_stack
from tests.test_i18n import choose_language

TOKEN = DEMO_WECHAT_SERVER_TOKEN


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


@pytest.fixture
def channel(db: Session, acme: Workspace, settings: Settings) -> Channel:
    """The demo Official Account with its server token."""
    return connect_demo(db, workspace=acme, box=SecretBox.from_settings(settings), name="wechat_oa")


def signed(token: str = TOKEN, *, age_s: int = 0, nonce: str = "") -> dict[str, str]:
    timestamp, nonce = str(int(time.time()) - age_s), nonce or secrets.token_hex(5)
    return {
        "signature": wechat_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "oFan1",
    }


def text_message(content: str, msg_id: str = "24602888111", sender: str = "oFan1") -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_5e1d7c3a9b20]]></ToUserName>"
        f"<FromUserName><![CDATA[{sender}]]></FromUserName><CreateTime>{int(time.time())}"
        f"</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]>"
        f"</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def items(db: Session) -> list[InboxItem]:
    db.expire_all()
    return list(db.scalars(select(InboxItem).order_by(InboxItem.id)))


def test_a_signed_text_message_becomes_one_inbox_item(
    client: TestClient, db: Session, channel: Channel
) -> None:
    url = f"/hooks/wechat/{channel.id}"
    answer = client.post(url, params=signed(), content=text_message("你们的桃红还有货吗？"))
    assert (answer.status_code, answer.text) == (200, "success")
    # WeChat retries a message it got no answer for: new nonce, same MsgId.
    again = client.post(url, params=signed(), content=text_message("你们的桃红还有货吗？"))
    assert again.status_code == 200

    stored = items(db)
    assert len(stored) == 1
    item = stored[0]
    assert (item.kind, item.external_id, item.text) == (
        ItemKind.MESSAGE,
        "24602888111",
        "你们的桃红还有货吗？",
    )
    assert (item.author_external_id, item.channel_id, item.platform) == (
        "oFan1",
        channel.id,
        "wechat",
    )


def test_a_replayed_request_is_refused(client: TestClient, db: Session, channel: Channel) -> None:
    url, params = f"/hooks/wechat/{channel.id}", signed(nonce="n0nce-once")
    assert client.post(url, params=params, content=text_message("一", "1")).status_code == 200
    replayed = client.post(url, params=params, content=text_message("二", "2"))
    assert replayed.status_code == 403
    assert [i.text for i in items(db)] == ["一"]


@pytest.mark.parametrize(
    "make_params",
    [
        lambda: signed("forged-token"),
        lambda: signed(age_s=400),
        lambda: signed(age_s=-400),
        lambda: {**signed(), "signature": "0" * 40},
        dict,
    ],
    ids=["bad signature", "old", "future", "zeros", "unsigned"],
)
def test_a_message_not_signed_now_is_refused_and_not_stored(
    client: TestClient, db: Session, channel: Channel, make_params: object
) -> None:
    params = make_params()  # type: ignore[operator]
    answer = client.post(f"/hooks/wechat/{channel.id}", params=params, content=text_message("x"))
    assert answer.status_code == 403
    assert items(db) == []


def test_the_setup_check_echoes_echostr(client: TestClient, channel: Channel) -> None:
    answer = client.get(f"/hooks/wechat/{channel.id}", params={**signed(), "echostr": "e42"})
    assert (answer.status_code, answer.text) == (200, "e42")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><FromUserName>oFan1</FromUserName><MsgType>text</MsgType><Content>&lol3;</Content>
<MsgId>9</MsgId></xml>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><FromUserName>oFan1</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content>
<MsgId>10</MsgId></xml>"""
DTD_ONLY = """<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd">
<xml><FromUserName>oFan1</FromUserName><MsgType>text</MsgType><Content>x</Content></xml>"""


@pytest.mark.parametrize(
    "body",
    [BOMB, XXE, DTD_ONLY, "<xml><Content>unclosed", "not xml at all", ""],
    ids=["billion laughs", "external entity", "external dtd", "unclosed", "text", "empty"],
)
def test_hostile_or_malformed_xml_is_answered_400_logged_and_not_stored(
    client: TestClient,
    db: Session,
    channel: Channel,
    body: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="guanxi.channels.webhooks"):
        answer = client.post(f"/hooks/wechat/{channel.id}", params=signed(), content=body)
    assert answer.status_code == 400
    assert "root:" not in answer.text
    assert items(db) == []
    assert any("refused" in record.getMessage() for record in caplog.records)


def test_images_and_events_are_messages_system_events_are_not(
    client: TestClient, db: Session, channel: Channel
) -> None:
    url, now = f"/hooks/wechat/{channel.id}", int(time.time())
    image = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>oFan2</FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType>image</MsgType>"
        "<PicUrl>https://mmbiz.qpic.cn/x.jpg</PicUrl><MediaId>m1</MediaId><MsgId>77</MsgId></xml>"
    )
    subscribe = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>oFan3</FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )
    template = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>oFan3</FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType>event</MsgType>"
        "<Event>TEMPLATESENDJOBFINISH</Event><Status>success</Status></xml>"
    )
    unsubscribe = subscribe.replace("<Event>subscribe</Event>", "<Event>unsubscribe</Event>")
    for body in (image, subscribe, subscribe, template, unsubscribe):
        assert client.post(url, params=signed(), content=body).text == "success"

    stored = items(db)
    assert [(i.author_external_id, i.text) for i in stored] == [
        ("oFan2", "[image] https://mmbiz.qpic.cn/x.jpg"),
        ("oFan3", "[subscribe]"),
    ]
    assert stored[1].external_id == f"oFan3:{now}:subscribe"
    assert {i.kind for i in stored} == {ItemKind.MESSAGE}


@pytest.fixture
def guanxi(app: FastAPI) -> Iterator[RunningSandbox]:
    """guanxi listening on localhost, so the sandbox can push to it."""
    with run_in_thread(app) as running:
        yield running


def test_the_audience_messages_are_pushed_into_the_inbox(
    db: Session, channel: Channel, guanxi: RunningSandbox
) -> None:
    stack = make_stack()
    hook = f"{guanxi.base_url}/hooks/wechat/{channel.id}"
    configured = stack.http.put(
        f"/wechat/_sandbox/accounts/{DEMO_WECHAT_APPID}/server", json={"url": hook, "token": TOKEN}
    )
    assert configured.status_code == 200, configured.text
    stack.publish_article("新品", "新品上市")
    stack.tick()
    stack.tick()

    sent = [m for m in engagement_of(stack.sandbox.state).messages if not m.outgoing]
    assert sent
    stored = items(db)
    assert [(i.external_id, i.text, i.author_external_id) for i in stored] == [
        (m.msg_id, m.text, m.fan.fan_id) for m in sent
    ]
    assert db.scalar(select(func.count(InboxItem.id))) == len(sent)


def test_the_thread_of_a_pushed_message_shows_the_window_wechat_sets(
    client: TestClient, db: Session, channel: Channel
) -> None:
    """Given a message pushed a moment ago, when the owner opens its thread, then the reply
    form says WeChat's window is open with its five answers left (in both languages)."""
    client.post(f"/hooks/wechat/{channel.id}", params=signed(), content=text_message("在吗？"))
    (item,) = items(db)
    sign_in(client, "owner@acme.example")

    page = client.get(f"/w/acme/inbox/items/{item.id}")

    assert "WeChat window open: 5 messages left." in page.text
    choose_language(client, "zh_Hans")
    assert "还可发送 5 条消息" in client.get(f"/w/acme/inbox/items/{item.id}").text
