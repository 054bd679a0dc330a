"""The guided manual path: the package page, its QR code and phone link, and marking a
post done by pasting its live URL."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Role, User, Workspace
from guanxi.channels.service import create_channel
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.publishing.manual_views import phone_link_token
from guanxi.publishing.media import store_media
from guanxi.publishing.models import MediaAsset, Post, Variant, VariantState
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

DUE = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TEXT = "秋天的第一杯咖啡 ☕️\n新品桂花拿铁今日上市 #关系咖啡 #秋季限定"
PHONE_LINK_RE = re.compile(r'href="(http://[^"]+/m/([^"]+))"')


@dataclass
class Scene:
    """A workspace with a manual Xiaohongshu account and a post waiting to be posted."""

    workspace: Workspace
    owner: User
    editor: User
    analyst: User
    variant: Variant
    image: MediaAsset


def png_bytes() -> bytes:
    """A small real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def add_manual_variant(
    db: Session,
    workspace: Workspace,
    *,
    author: User,
    assignee: User,
    settings: Settings,
    state: VariantState = VariantState.PROCESSING,
) -> tuple[Variant, MediaAsset]:
    """A post on a manual Xiaohongshu account, assigned to ``assignee``, due at DUE."""
    channel = create_channel(
        db,
        workspace=workspace,
        connector="manual",
        platform="xiaohongshu",
        external_id=f"xiaohongshu:{workspace.slug}",
        name=f"{workspace.name} 小红书",
        credentials={"platform": "xiaohongshu"},
        box=SecretBox("k" * 40),
        actor=None,
    )
    image, _new = store_media(
        db,
        workspace=workspace,
        filename="latte.png",
        stream=io.BytesIO(png_bytes()),
        data_dir=settings.data_dir,
        actor=author,
    )
    post = Post(workspace_id=workspace.id, title="桂花拿铁上市", body=TEXT, created_by_id=author.id)
    db.add(post)
    db.flush()
    variant = Variant(
        workspace_id=workspace.id,
        post_id=post.id,
        channel_id=channel.id,
        text=TEXT,
        title="秋天的第一杯咖啡",
        media_ids=[image.id],
        state=state,
        idempotency_key=f"manual-{workspace.slug}-{post.id}",
        assignee_id=assignee.id,
        due_at=DUE,
    )
    db.add(variant)
    db.commit()
    return variant, image


@pytest.fixture
def scene(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory, settings: Settings
) -> Scene:
    """Acme with an owner, an editor (the assignee) and an analyst."""
    owner = make_user("owner@acme.example", name="Owner")
    editor = make_user("mei@acme.example", name="Mei")
    analyst = make_user("ana@acme.example", name="Ana")
    workspace = make_workspace(
        "acme", owner=owner, members={editor: Role.EDITOR, analyst: Role.ANALYST}
    )
    variant, image = add_manual_variant(
        db, workspace, author=owner, assignee=editor, settings=settings
    )
    return Scene(workspace, owner, editor, analyst, variant, image)


def page_url(scene: Scene) -> str:
    """The package page of the scene's variant."""
    return f"/w/acme/publish/manual/{scene.variant.id}"


def test_the_package_page_has_everything_to_post_by_hand(client: TestClient, scene: Scene) -> None:
    """Given a post assigned to Mei, due 1 December 02:00 UTC, the package page shows the
    final text with a copy button, the image to download, Mei, the due time in the
    account's zone (Asia/Shanghai) and a QR code of the phone link."""
    sign_in(client, scene.editor.email)
    page = client.get(page_url(scene))
    assert page.status_code == 200
    html = page.text
    assert "秋天的第一杯咖啡 ☕️\n新品桂花拿铁今日上市 #关系咖啡 #秋季限定</textarea>" in html
    assert "Copy the text" in html
    assert f'href="{page_url(scene)}/media/{scene.image.id}"' in html
    assert "Mei (mei@acme.example)" in html
    assert "2026-12-01 10:00 UTC+8 (Asia/Shanghai, the account's time)" in html
    assert '<time datetime="2026-12-01T02:00:00+00:00" data-local>' in html
    assert "Xiaohongshu (RedNote)" in html
    assert re.search(r"<svg[^>]*class=\"segno\"", html), "an inline SVG QR code"
    assert PHONE_LINK_RE.search(html)
    assert 'name="live_url"' in html


def test_the_page_speaks_chinese(client: TestClient, scene: Scene, db: Session) -> None:
    scene.editor.language = "zh_Hans"
    db.commit()
    sign_in(client, scene.editor.email)
    page = client.get(page_url(scene))
    assert "小红书" in page.text


def test_package_media_downloads(client: TestClient, scene: Scene) -> None:
    sign_in(client, scene.analyst.email)
    response = client.get(f"{page_url(scene)}/media/{scene.image.id}")
    assert response.status_code == 200
    assert response.content == png_bytes()
    assert response.headers["content-type"] == "image/png"
    assert client.get(f"{page_url(scene)}/media/999999").status_code == 404


def test_the_phone_link_opens_the_package_without_signing_in(
    client: TestClient, scene: Scene, app: object
) -> None:
    sign_in(client, scene.editor.email)
    match = PHONE_LINK_RE.search(client.get(page_url(scene)).text)
    assert match is not None
    token = match.group(2)

    with TestClient(app, base_url="http://testserver") as phone:  # type: ignore[arg-type]
        response = phone.get(f"/m/{token}")
        assert response.status_code == 200
        assert TEXT in response.text
        assert "Mei" not in response.text  # no names of people on an unauthenticated page
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        media = phone.get(f"/m/{token}/media/{scene.image.id}")
        assert media.status_code == 200
        assert media.content == png_bytes()
        assert phone.get(f"/m/{token}/media/999999").status_code == 404


def test_the_phone_link_expires(client: TestClient, scene: Scene, settings: Settings) -> None:
    token = phone_link_token(
        scene.variant, secret_key=settings.resolved_secret_key(), now=utcnow() - timedelta(hours=49)
    )
    response = client.get(f"/m/{token}")
    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert TEXT not in response.text
    assert client.get(f"/m/{token}/media/{scene.image.id}").status_code == 410


def test_a_forged_phone_link_shows_nothing(client: TestClient, scene: Scene) -> None:
    response = client.get("/m/eyJ0IjoxLCJ3IjoxLCJlIjo5OTk5OTk5OTk5fQ.forged")
    assert response.status_code == 404
    assert "This link is not valid" in response.text


def test_a_phone_link_cannot_reach_another_workspace(
    client: TestClient,
    scene: Scene,
    settings: Settings,
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """A link names a variant and its workspace; pairing one workspace with another's variant
    (or a variant that is not manual) shows nothing."""
    rival_owner = make_user("boss@rival.example")
    rival = make_workspace("rival", owner=rival_owner)
    secret = settings.resolved_secret_key()
    crossed = Variant(id=scene.variant.id, workspace_id=rival.id)
    token = phone_link_token(crossed, secret_key=secret, now=utcnow())
    response = client.get(f"/m/{token}")
    assert response.status_code == 404
    assert TEXT not in response.text


def test_marking_done_with_the_live_url(client: TestClient, scene: Scene, db: Session) -> None:
    """When Mei pastes the note's address on xiaohongshu.com, the variant is published with
    that URL, audited, and the page says so."""
    sign_in(client, scene.editor.email)
    live = "https://www.xiaohongshu.com/explore/6560a1b2000000003c01e2f3"
    response = client.post(
        f"{page_url(scene)}/done",
        data={"live_url": live, "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.expire_all()
    variant = db.get_one(Variant, scene.variant.id)
    assert variant.state == VariantState.PUBLISHED
    assert variant.external_url == live
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "variant.posted_by_hand"))
    assert audit is not None
    assert audit.actor_id == scene.editor.id
    page = client.get(response.headers["location"])
    assert "Posted by hand." in page.text
    assert live in page.text
    assert 'name="live_url"' not in page.text


@pytest.mark.parametrize(
    ("live_url", "message"),
    [
        ("https://www.weibo.com/123/abc", "This address is not on xiaohongshu.com"),
        ("xiaohongshu.com/explore/1", "starting with https://"),
        ("", "starting with https://"),
    ],
)
def test_a_bad_live_url_is_refused_with_a_clear_message(
    client: TestClient, scene: Scene, db: Session, live_url: str, message: str
) -> None:
    sign_in(client, scene.editor.email)
    response = client.post(
        f"{page_url(scene)}/done", data={"live_url": live_url, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 400
    assert message in response.text
    assert f'value="{live_url}"' in response.text  # what was typed is kept to correct it
    db.expire_all()
    variant = db.get_one(Variant, scene.variant.id)
    assert variant.state == VariantState.PROCESSING
    assert variant.external_url == ""


def test_an_analyst_reads_the_package_but_cannot_mark_it_done(
    client: TestClient, scene: Scene, db: Session
) -> None:
    sign_in(client, scene.analyst.email)
    page = client.get(page_url(scene))
    assert page.status_code == 200
    assert 'name="live_url"' not in page.text
    assert "an editor marks it as posted" in page.text
    response = client.post(
        f"{page_url(scene)}/done",
        data={
            "live_url": "https://www.xiaohongshu.com/explore/1",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 403
    db.expire_all()
    assert db.get_one(Variant, scene.variant.id).state == VariantState.PROCESSING


def test_a_post_not_yet_due_shows_the_package_without_the_form(
    client: TestClient, scene: Scene, db: Session, settings: Settings
) -> None:
    scheduled, _image = add_manual_variant(
        db,
        scene.workspace,
        author=scene.owner,
        assignee=scene.editor,
        settings=settings,
        state=VariantState.SCHEDULED,
    )
    sign_in(client, scene.editor.email)
    page = client.get(f"/w/acme/publish/manual/{scheduled.id}")
    assert page.status_code == 200
    assert TEXT in page.text
    assert 'name="live_url"' not in page.text


def test_outsiders_and_other_variants_get_not_found(
    client: TestClient, scene: Scene, make_user: UserFactory
) -> None:
    make_user("stranger@example.com")
    sign_in(client, "stranger@example.com")
    assert client.get(page_url(scene)).status_code == 404
    sign_in(client, scene.editor.email)
    assert client.get("/w/acme/publish/manual/999999").status_code == 404


def test_an_overdue_post_says_so(client: TestClient, scene: Scene, db: Session) -> None:
    variant = db.get_one(Variant, scene.variant.id)
    variant.due_at = utcnow() - timedelta(hours=1)
    db.commit()
    sign_in(client, scene.editor.email)
    assert "This post is overdue" in client.get(page_url(scene)).text
