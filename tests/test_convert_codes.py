"""Scene codes in convert, through the real WeChat connector against the sandbox: making
each kind with its limits enforced first, the permanent pool, scans and follows pushed by
the sandbox and stored once, a follow by QR then a WeChat Pay order credited to the code's
post, followers' scenes from user/info, URL Links renewed, and posters that are valid files.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from defusedxml.ElementTree import fromstring
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.channels.service import create_channel
from guanxi.connectors.base import ChannelContext, ConnectorConfig
from guanxi.connectors.push import CodeScanned
from guanxi.connectors.scene_codes import MakesSceneCodes
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.convert import codes
from guanxi.convert.attribution.engine import attribute
from guanxi.convert.code_events import fill_origins, record_event
from guanxi.convert.models import Order, OrderStatus
from guanxi.convert.posters import PosterFormat, PosterText, poster
from guanxi.convert.scene_models import CodeEvent, CodeEventKind, CodeKind, SceneCode
from guanxi.core.db import utcnow
from guanxi.core.errors import UserError
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.publishing.models import Campaign, Post
from guanxi.sandbox.app import create_sandbox_app
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.wechat import (
    DEMO_WECHAT_APPID,
    DEMO_WECHAT_SECRET,
    DEMO_WECHAT_SERVER_TOKEN,
    WechatSandbox,
    surface_of,
)
from tests import http_support as local
from tests.conftest import UserFactory, WorkspaceFactory
from tests.http_support import local_client
from tests.metrics_support import MemoryTokens


@pytest.fixture
def wechat() -> WechatSandbox:
    """The sandbox's WeChat, kept to steer it."""
    return WechatSandbox()


@pytest.fixture
def sandbox(wechat: WechatSandbox) -> Iterator[RunningSandbox]:
    """A sandbox serving only WeChat, with the demo Official Account."""
    with run_in_thread(create_sandbox_app(platform_surfaces=[surface_of(wechat)])) as running:
        yield running


@pytest.fixture
def connector(sandbox: RunningSandbox) -> Iterator[WechatOaConnector]:
    """The real connector, pointed at the sandbox."""
    with local_client() as http:
        yield WechatOaConnector(ConnectorConfig(base_url=sandbox.api_base("/wechat"), http=http))


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


@pytest.fixture
def channel(db: Session, acme: Workspace, settings: Settings) -> Channel:
    """The demo Official Account, connected with its server token."""
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
            "server_token": DEMO_WECHAT_SERVER_TOKEN,
        },
        box=SecretBox.from_settings(settings),
        actor=None,
    )
    db.commit()
    return channel


@pytest.fixture
def post(db: Session, acme: Workspace) -> Post:
    """A campaign's post the codes are made for."""
    campaign = Campaign(workspace_id=acme.id, name="Double 11")
    db.add(campaign)
    db.flush()
    post = Post(workspace_id=acme.id, title="Rosé tasting", campaign_id=campaign.id)
    db.add(post)
    db.commit()
    return post


def maker(connector: MakesSceneCodes) -> codes.MakerFor:
    """The connector for every channel, with its token held in memory."""
    tokens = MemoryTokens(None)

    def maker_for(channel: Channel) -> tuple[MakesSceneCodes, ChannelContext]:
        credentials = {"app_id": DEMO_WECHAT_APPID, "app_secret": DEMO_WECHAT_SECRET}
        return connector, ChannelContext(channel.id, channel.external_id, credentials, tokens)

    return maker_for


def make(
    db: Session, acme: Workspace, channel: Channel, connector: MakesSceneCodes, **fields: object
) -> SceneCode:
    code = codes.CodeInput(channel_id=channel.id, **fields)  # type: ignore[arg-type]
    row = codes.create_code(db, workspace_id=acme.id, code=code, maker_for=maker(connector))
    db.commit()
    return row


def test_each_kind_is_made_on_the_account(
    db: Session, acme: Workspace, channel: Channel, connector: WechatOaConnector, post: Post
) -> None:
    """When a temporary and a permanent QR code, a mini-program code and a URL Link are made
    for the post, then each keeps what WeChat answered: the ticket and address, the PNG,
    the link with the scene in its query and when it expires."""
    temporary = make(db, acme, channel, connector, kind=CodeKind.QR_TEMPORARY, days=7)
    permanent = make(db, acme, channel, connector, kind=CodeKind.QR_PERMANENT)
    mini = make(db, acme, channel, connector, kind=CodeKind.MINIPROGRAM_CODE, page="pages/shop")
    link = make(db, acme, channel, connector, kind=CodeKind.URL_LINK, post_id=post.id, days=10)

    assert temporary.ticket
    assert temporary.url.startswith("http://weixin.qq.com/q/")
    assert temporary.expires_at is not None
    assert permanent.expires_at is None
    assert mini.image is not None
    assert mini.image.startswith(b"\x89PNG")
    assert len(mini.scene) <= 32
    assert link.url.startswith("https://wxaurl.cn/")
    assert link.lifetime_days == 10
    assert link.post_id == post.id
    assert len({temporary.scene, permanent.scene, mini.scene, link.scene}) == 4


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"kind": CodeKind.QR_TEMPORARY, "days": 31}, "1 to 30 days"),
        ({"kind": CodeKind.URL_LINK, "days": 0}, "1 to 30 days"),
        ({"kind": CodeKind.MINIPROGRAM_CODE, "width": 2000}, "280 to 1280"),
        ({"kind": CodeKind.MINIPROGRAM_CODE, "page": "/pages/x"}, "without a leading slash"),
        ({"kind": CodeKind.URL_LINK, "page": "pages/<script>"}, "without a leading slash"),
        ({"kind": CodeKind.QR_TEMPORARY, "label": "x" * 121}, "at most 120"),
        ({"kind": CodeKind.QR_TEMPORARY, "campaign_id": 999_999}, "not in this workspace"),
    ],
)
def test_limits_are_enforced_before_wechat_is_asked(
    db: Session,
    acme: Workspace,
    channel: Channel,
    connector: WechatOaConnector,
    sandbox: RunningSandbox,
    fields: dict[str, object],
    says: str,
) -> None:
    """A value out of WeChat's limits is a clear error, and no call reaches WeChat."""
    with pytest.raises(UserError) as refused:
        make(db, acme, channel, connector, **fields)
    assert says in str(refused.value)
    assert not [path for _, path in sandbox.sandbox.state.requests if "qrcode" in path]


def test_another_workspaces_account_cannot_be_used(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    channel: Channel,
    connector: WechatOaConnector,
) -> None:
    """A channel of acme named by another workspace is refused as not its account."""
    other = make_workspace("other", owner=make_user("o@other.example"))
    with pytest.raises(UserError) as refused:
        make(db, other, channel, connector, kind=CodeKind.QR_TEMPORARY)
    assert "WeChat Official Account" in str(refused.value)


def test_the_permanent_pool_refuses_when_full_and_reuses_archived_scenes(
    db: Session, acme: Workspace, channel: Channel, connector: WechatOaConnector
) -> None:
    """Given an account whose pool holds 2 permanent codes, when both are used, then a
    third is refused with what to do; once one is archived, the next permanent code gets
    its scene (WeChat counts a scene for good) and the pool still counts 2."""
    connector.scene_code_limits = dataclasses.replace(connector.scene_code_limits, permanent_max=2)
    first = make(db, acme, channel, connector, kind=CodeKind.QR_PERMANENT)
    make(db, acme, channel, connector, kind=CodeKind.QR_PERMANENT)
    with pytest.raises(UserError) as full:
        make(db, acme, channel, connector, kind=CodeKind.QR_PERMANENT)
    assert "All 2 permanent QR codes" in str(full.value)
    assert "Archive" in str(full.value)
    db.rollback()

    codes.archive_code(first)
    db.commit()
    again = make(db, acme, channel, connector, kind=CodeKind.QR_PERMANENT, label="reused")

    assert again.scene == first.scene
    assert codes.permanent_in_use(db, channel.id) == 2
    assert next(row.label for row, _ in codes.list_codes(db, workspace_id=acme.id)) == "reused"


def scanned(openid: str, scene: str, *, followed: bool, at: datetime) -> CodeScanned:
    event = "subscribe" if followed else "SCAN"
    return CodeScanned(openid, scene, followed, at, f"{openid}:{int(at.timestamp())}:{event}")


def test_a_pushed_event_is_stored_once_however_often_wechat_retries(
    db: Session, acme: Workspace, channel: Channel, connector: WechatOaConnector
) -> None:
    """The same event three times (WeChat's retries) is one scan; another time is another."""
    code = make(db, acme, channel, connector, kind=CodeKind.QR_TEMPORARY)
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    stored = [
        record_event(db, channel, scanned("oA", code.scene, followed=False, at=at))
        for _ in range(3)
    ]
    record_event(db, channel, scanned("oA", code.scene, followed=False, at=at + timedelta(1)))

    assert stored == [True, False, False]
    assert codes.list_codes(db, workspace_id=acme.id)[0][1].scans == 2


@pytest.fixture
def guanxi(app: FastAPI) -> Iterator[RunningSandbox]:
    """guanxi itself listening on localhost, so the sandbox can push to it."""
    with run_in_thread(app) as running:
        yield running


def test_a_follow_by_qr_then_a_wechat_pay_order_is_credited_to_the_codes_post(
    db: Session,
    acme: Workspace,
    channel: Channel,
    connector: WechatOaConnector,
    post: Post,
    sandbox: RunningSandbox,
    guanxi: RunningSandbox,
) -> None:
    """Given a QR code made for the post and the account's server URL set to guanxi, when
    a person follows through it (WeChat pushing the subscribe event three times) and later
    pays with WeChat Pay, then one follow is stored and the order goes to the post, its
    campaign and the code; an order by someone who never scanned stays unattributed."""
    code = make(db, acme, channel, connector, kind=CodeKind.QR_TEMPORARY, post_id=post.id)
    admin = sandbox.api_base("/wechat") + f"/_sandbox/accounts/{DEMO_WECHAT_APPID}"
    hook = f"{guanxi.base_url}/hooks/wechat/{channel.id}"
    # Its first request builds what guanxi builds once: not within WeChat's 5-second check.
    assert local.get(hook, timeout=60).status_code == 403
    configured = local.put(
        f"{admin}/server", json={"url": hook, "token": DEMO_WECHAT_SERVER_TOKEN}, timeout=10
    )
    assert configured.status_code == 200, configured.text
    scan_at = int(time.time()) - 3600
    pushed = local.post(
        f"{admin}/scan",
        json={"openid": "oBuyer", "ticket": code.ticket, "at": scan_at, "repeat": 3},
        timeout=30,
    )
    assert pushed.json() == {"event": "subscribe", "scene": code.scene, "pushed": [200] * 3}
    db.rollback()
    events = db.scalars(select(CodeEvent)).all()
    assert [(e.kind, e.openid, e.code_id) for e in events] == [
        (CodeEventKind.FOLLOW, "oBuyer", code.id)
    ]

    ordered_at = datetime.fromtimestamp(scan_at, UTC) + timedelta(minutes=30)
    for external_id, openid in (("4200001", "oBuyer"), ("4200002", "oStranger")):
        db.add(
            Order(
                workspace_id=acme.id,
                source="wechat_pay",
                external_id=external_id,
                status=OrderStatus.PAID,
                ordered_at=ordered_at,
                amount_fen=29_900,
                openid=openid,
            )
        )
    db.commit()
    result = attribute(
        db,
        workspace_id=acme.id,
        start=ordered_at - timedelta(days=1),
        end=ordered_at + timedelta(days=1),
    )

    assert result.by_post[post.id].revenue_fen == 29_900
    assert result.by_code[code.id].orders == 1
    assert result.by_campaign[post.campaign_id].orders == 1
    assert result.by_platform["wechat"].orders == 1
    assert result.unattributed.orders == 1


def test_a_mini_program_order_with_the_scene_is_the_codes(
    db: Session, acme: Workspace, channel: Channel, connector: WechatOaConnector, post: Post
) -> None:
    """An order whose mini program sent the code's scene is credited to that code."""
    code = make(db, acme, channel, connector, kind=CodeKind.MINIPROGRAM_CODE, post_id=post.id)
    at = datetime(2026, 11, 11, 12, tzinfo=UTC)
    db.add(
        Order(
            workspace_id=acme.id,
            source="api",
            external_id="mp-1",
            status=OrderStatus.PAID,
            ordered_at=at,
            amount_fen=10_000,
            scene=code.scene,
        )
    )
    db.commit()
    result = attribute(db, workspace_id=acme.id, start=at, end=at + timedelta(hours=1))
    assert result.by_code[code.id].revenue_fen == 10_000
    assert result.by_post[post.id].orders == 1


def test_a_follower_who_came_without_a_scene_gets_it_from_user_info(
    db: Session,
    acme: Workspace,
    channel: Channel,
    connector: WechatOaConnector,
    wechat: WechatSandbox,
    sandbox: RunningSandbox,
) -> None:
    """Given a follow pushed without EventKey, when the origins job runs, then user/info's
    qr_scene_str ties the follow to the code; asked once, not again."""
    code = make(db, acme, channel, connector, kind=CodeKind.QR_PERMANENT)
    admin = sandbox.api_base("/wechat") + f"/_sandbox/accounts/{DEMO_WECHAT_APPID}"
    local.post(
        f"{admin}/scan",
        json={"openid": "oQuiet", "ticket": code.ticket, "with_event_key": False},
        timeout=10,
    )
    at = datetime(2026, 11, 1, tzinfo=UTC)
    record_event(db, channel, scanned("oQuiet", "", followed=True, at=at))
    record_event(db, channel, scanned("oElse", "", followed=True, at=at))

    named = fill_origins(db, maker_for=maker(connector))

    assert named == 1
    events = {e.openid: e for e in db.scalars(select(CodeEvent))}
    assert (events["oQuiet"].scene, events["oQuiet"].code_id) == (code.scene, code.id)
    assert events["oElse"].origin_checked
    assert events["oElse"].code_id is None
    assert fill_origins(db, maker_for=maker(connector)) == 0


def test_url_links_expiring_within_three_days_are_renewed_and_the_old_kept(
    db: Session, acme: Workspace, channel: Channel, connector: WechatOaConnector, post: Post
) -> None:
    """Given a 2-day and a 10-day URL Link, when the renewal job runs 25 hours later, then
    the 2-day one (past half its life) is made again (same scene, post and lifetime, a new
    address), the old one archived and kept; the 10-day one is left alone, and a fresh link
    is not renewed."""
    soon = make(db, acme, channel, connector, kind=CodeKind.URL_LINK, days=2, post_id=post.id)
    later = make(db, acme, channel, connector, kind=CodeKind.URL_LINK, days=10)
    assert codes.renew_links(db, maker_for=maker(connector)) == []

    renewed = codes.renew_links(db, maker_for=maker(connector), now=utcnow() + timedelta(hours=25))

    assert [row.renewed_from_id for row in renewed] == [soon.id]
    new = renewed[0]
    assert (new.scene, new.post_id, new.lifetime_days) == (soon.scene, post.id, 2)
    assert new.url != soon.url
    db.refresh(soon)
    assert soon.archived_at is not None
    live = {row.id for row, _ in codes.list_codes(db, workspace_id=acme.id)}
    assert live == {new.id, later.id}
    assert db.scalar(select(func.count()).select_from(SceneCode)) == 3
    assert codes.renew_links(db, maker_for=maker(connector)) == []


@pytest.mark.parametrize("kind", [CodeKind.QR_TEMPORARY, CodeKind.MINIPROGRAM_CODE])
def test_posters_are_valid_png_svg_and_pdf_files(
    db: Session, acme: Workspace, channel: Channel, connector: WechatOaConnector, kind: CodeKind
) -> None:
    """Each poster format is a file its readers open: a PNG image of the poster's size, an
    SVG whose XML parses and carries the captions, a PDF with its header and end marker."""
    code = make(db, acme, channel, connector, kind=kind)
    text = PosterText(brand="Provence Wines", caption="Double 11 <tasting>", hint="Scan")

    png = poster(code, text, PosterFormat.PNG)
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
        assert (image.format, image.size) == ("PNG", (1200, 1600))
    svg = fromstring(poster(code, text, PosterFormat.SVG))
    words = "".join(svg.itertext())
    assert "Provence Wines" in words
    assert "Double 11 <tasting>" in words
    pdf = poster(code, text, PosterFormat.PDF)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
