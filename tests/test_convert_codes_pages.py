"""The WeChat codes page and API: make a code on the connected account (through the real
connector against the sandbox), see it listed, download its poster in three formats; limits
refused with what to do, in English and Chinese."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership
from guanxi.channels.models import Channel
from guanxi.channels.service import create_channel
from guanxi.core.security import SecretBox
from guanxi.core.settings import ENV_PREFIX, Settings
from guanxi.sandbox.server import RunningSandbox
from guanxi.sandbox.wechat import DEMO_WECHAT_APPID, DEMO_WECHAT_SECRET
from tests.conftest import csrf_token
from tests.test_convert_codes import sandbox, wechat

__all__ = ["sandbox", "wechat"]


@pytest.fixture
def account(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    settings: Settings,
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> Channel:
    """The demo Official Account connected to acme, its API the sandbox's."""
    monkeypatch.setenv(ENV_PREFIX + "WECHAT_API_BASE", sandbox.api_base("/wechat"))
    _client, membership = signed_in
    channel = create_channel(
        db,
        workspace=membership.workspace,
        connector="wechat_oa",
        platform="wechat",
        external_id=DEMO_WECHAT_APPID,
        name="普罗旺斯葡萄酒",
        credentials={"app_id": DEMO_WECHAT_APPID, "app_secret": DEMO_WECHAT_SECRET},
        box=SecretBox.from_settings(settings),
        actor=None,
    )
    db.commit()
    return channel


def test_a_code_is_made_listed_and_its_posters_downloaded(
    signed_in: tuple[TestClient, Membership], account: Channel
) -> None:
    """Given a connected account, when the owner makes a temporary QR code labelled for a
    tasting, then the page lists it with no scans yet, and its poster comes as PNG, SVG and
    PDF files named after the scene."""
    client, _membership = signed_in
    made = client.post(
        "/w/acme/codes",
        data={
            "kind": "qr_temporary",
            "channel_id": str(account.id),
            "label": "Shop window tasting",
            "days": "14",
            "csrf_token": csrf_token(client),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])

    assert page.status_code == 200
    assert "Code made." in page.text
    assert "Shop window tasting" in page.text
    code_id = made.headers["location"].rsplit("=", 1)[1]
    for kind, media, start in (
        ("png", "image/png", b"\x89PNG"),
        ("svg", "image/svg+xml", b"<svg"),
        ("pdf", "application/pdf", b"%PDF-"),
    ):
        poster = client.get(f"/w/acme/codes/{code_id}/poster.{kind}")
        assert poster.status_code == 200
        assert poster.headers["content-type"].startswith(media)
        assert poster.content.startswith(start)
        assert f".{kind}" in poster.headers["content-disposition"]
    assert client.get(f"/w/acme/codes/{code_id}/poster.gif").status_code == 404


def test_a_limit_broken_in_the_form_is_said_and_the_form_kept(
    signed_in: tuple[TestClient, Membership], account: Channel
) -> None:
    """31 days for a temporary QR code is refused with the allowed range; the label stays."""
    client, _membership = signed_in
    answer = client.post(
        "/w/acme/codes",
        data={
            "kind": "qr_temporary",
            "channel_id": str(account.id),
            "label": "kept label",
            "days": "31",
            "csrf_token": csrf_token(client),
        },
    )
    assert answer.status_code == 400
    assert "lives 1 to 30 days" in answer.text
    assert 'value="kept label"' in answer.text


def test_the_page_speaks_chinese(signed_in: tuple[TestClient, Membership]) -> None:
    """In Chinese the page is titled 微信码 and, with no account, says to connect one."""
    client, _membership = signed_in
    client.post("/language", data={"language": "zh_Hans", "csrf_token": csrf_token(client)})
    page = client.get("/w/acme/codes")
    assert "微信码" in page.text
    assert "连接一个微信公众号" in page.text


def test_the_api_makes_and_lists_codes(
    signed_in: tuple[TestClient, Membership], db: Session, account: Channel
) -> None:
    """POST makes a URL Link (201, its address and expiry), GET lists it with its counts;
    31 days is refused before WeChat is asked."""
    client, membership = signed_in
    _token, plain = accounts.create_api_token(db, membership=membership, name="script")
    db.commit()
    headers = {"authorization": f"Bearer {plain}"}

    made = client.post(
        "/api/v1/w/acme/codes",
        json={"kind": "url_link", "channel_id": account.id, "days": 7, "page": "pages/shop"},
        headers=headers,
    )
    listed = client.get("/api/v1/w/acme/codes", headers=headers)
    bad = client.post(
        "/api/v1/w/acme/codes",
        json={"kind": "url_link", "channel_id": account.id, "days": 31},
        headers=headers,
    )

    assert made.status_code == 201, made.text
    assert made.json()["url"].startswith("https://wxaurl.cn/")
    assert made.json()["expires_at"]
    assert [(row["kind"], row["scans"], row["orders"]) for row in listed.json()] == [
        ("url_link", 0, 0)
    ]
    assert bad.status_code in {400, 422}
