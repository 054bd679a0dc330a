"""The composer as a person drives it: media attached before the variants exist and reused by
each, every variant scheduled at once (one time, a time each, or refused together), a
confirmation after each action, errors that stop submission, and the limits and preview each
account's connector declares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.connectors.base import ConnectorConfig, Counting, PreviewKind
from guanxi.connectors.douyin import DouyinConnector
from guanxi.connectors.manual import ManualConnector
from guanxi.connectors.registry import OFFLINE_HTTP
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.connectors.weibo import WeiboConnector
from guanxi.publishing.limits import field_limits
from guanxi.publishing.models import MediaAsset, Variant, VariantState
from tests.composer_support import (
    Team,
    make_team,
    png_bytes,
    set_steps,
    test_connectors,  # noqa: F401 - a fixture
)
from tests.conftest import csrf_token
from tests.test_composer_web import as_user

TEXT = "春季新品上市，欢迎来店里看看。"


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    return make_team(db, make_user, make_workspace)


def compose_with_image(client: TestClient, team: Team) -> str:
    """Compose for both accounts with an image uploaded in the composer; the post's URL."""
    response = client.post(
        "/w/acme/publish/new",
        data={
            "csrf_token": csrf_token(client),
            "title": "春季上新",
            "body": TEXT,
            "channels": [str(team.micro.id), str(team.article.id)],
        },
        files=[("files", ("bottle.png", png_bytes(), "image/png"))],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def variants(db: Session) -> list[Variant]:
    db.expire_all()
    return list(db.scalars(select(Variant).order_by(Variant.id)))


@pytest.mark.usefixtures("test_connectors")
def test_an_image_attached_while_composing_goes_to_every_variant(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given an image uploaded in the composer, then each variant shows it, the article
    uses it as its cover, and the page confirms the post was created (once)."""
    as_user(client, team.editor.email)
    location = compose_with_image(client, team)
    [asset] = db.scalars(select(MediaAsset)).all()
    micro, article = variants(db)
    assert micro.media_ids == [asset.id]
    assert article.media_ids == [asset.id]
    assert article.cover_media_id == asset.id
    assert micro.cover_media_id is None
    page = client.get(location).text
    assert "Post created with a variant per account" in page
    assert f"/w/acme/media/{asset.id}/file" in page  # in the previews
    assert "Post created with a variant per account" not in client.get(location).text


@pytest.mark.usefixtures("test_connectors")
def test_every_variant_is_scheduled_at_one_time(
    client: TestClient, db: Session, team: Team
) -> None:
    set_steps(db, team.workspace, 0)
    as_user(client, team.editor.email)
    location = compose_with_image(client, team)
    micro, article = variants(db)
    saved = client.post(
        f"{location}/variants/{article.id}",
        data={"csrf_token": csrf_token(client), "text": TEXT, "title": "春季上新", "cover": ""},
    )
    assert "Variant saved." in saved.text  # the confirmation after the redirect
    client.post(  # the cover again, cleared by the form above
        f"{location}/variants/{article.id}",
        data={
            "csrf_token": csrf_token(client),
            "text": TEXT,
            "title": "春季上新",
            "media": [str(m) for m in article.media_ids],
            "cover": str(article.media_ids[0]),
        },
    )
    when = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    response = client.post(
        f"{location}/schedule",
        data={
            "csrf_token": csrf_token(client),
            "tz": "UTC",
            "mode": "one",
            "when": when.strftime("%Y-%m-%dT%H:%M"),
            "variants": [str(micro.id), str(article.id)],
        },
    )
    assert response.status_code == 200
    assert "Variants scheduled." in response.text
    for variant in variants(db):
        assert variant.state == VariantState.SCHEDULED
        assert variant.scheduled_at == when


@pytest.mark.usefixtures("test_connectors")
def test_a_time_per_variant_and_a_refusal_stops_them_all(
    client: TestClient, db: Session, team: Team
) -> None:
    """The article has no title (an error): scheduling both is refused as a whole, the
    error shows at the article; the microblog alone goes out at its own time."""
    set_steps(db, team.workspace, 0)
    as_user(client, team.editor.email)
    location = compose_with_image(client, team)
    micro, article = variants(db)
    later = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    data = {
        "csrf_token": csrf_token(client),
        "tz": "UTC",
        "mode": "each",
        f"when-{micro.id}": later.strftime("%Y-%m-%dT%H:%M"),
        f"when-{article.id}": later.strftime("%Y-%m-%dT%H:%M"),
        "variants": [str(micro.id), str(article.id)],
    }
    refused = client.post(f"{location}/schedule", data=data)
    assert refused.status_code == 400
    assert "Fix the 1 error(s) in this variant" in refused.text
    assert 'data-error="1"' in refused.text  # its tab opens first
    assert {t.state for t in variants(db)} == {VariantState.DRAFT}
    data["variants"] = [str(micro.id)]
    client.post(f"{location}/schedule", data=data)
    micro, article = variants(db)
    assert (micro.state, micro.scheduled_at) == (VariantState.SCHEDULED, later)
    assert article.state == VariantState.DRAFT


@pytest.mark.usefixtures("test_connectors")
def test_nothing_ticked_is_explained(client: TestClient, db: Session, team: Team) -> None:
    set_steps(db, team.workspace, 0)
    as_user(client, team.editor.email)
    location = compose_with_image(client, team)
    response = client.post(f"{location}/schedule", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "Tick at least one variant to schedule." in response.text


@pytest.mark.usefixtures("test_connectors")
def test_errors_stop_submission_in_the_composer(
    client: TestClient, db: Session, team: Team
) -> None:
    """A draft with errors (the article's missing title) disables "Submit" and names it."""
    as_user(client, team.editor.email)
    location = compose_with_image(client, team)
    page = client.get(location).text
    assert 'data-testid="submit-blocked"' in page
    assert "品牌公众号 (1 error)" in page
    assert "Submit the drafts for review</button>" in page
    assert 'class="primary" disabled>Submit the drafts for review' in page


@pytest.mark.usefixtures("test_connectors")
def test_a_published_variant_shows_its_image(client: TestClient, db: Session, team: Team) -> None:
    as_user(client, team.editor.email)
    location = compose_with_image(client, team)
    micro, _article = variants(db)
    micro.state = VariantState.PUBLISHED
    db.commit()
    page = client.get(location).text
    shown = page.split(f'id="variant-{micro.id}"')[1].split('id="variant-')[0]
    assert 'data-testid="attached-media"' in shown
    assert f'src="/w/acme/media/{micro.media_ids[0]}/file" alt="bottle.png"' in shown


def test_limits_and_previews_come_from_the_connectors() -> None:
    """The counters' limits and the preview's kind are what each connector declares."""
    config = ConnectorConfig(base_url="", http=OFFLINE_HTTP)
    weibo = WeiboConnector(config)
    assert field_limits(weibo) == {"text": {"limit": 140, "counting": Counting.LATIN_HALVES.value}}
    assert weibo.preview is PreviewKind.MICROBLOG
    wechat = WechatOaConnector(config)
    assert field_limits(wechat) == {
        "title": {"limit": 64, "counting": "characters"},
        "digest": {"limit": 120, "counting": "characters"},
    }
    assert wechat.preview is PreviewKind.ARTICLE
    assert DouyinConnector(config).preview is PreviewKind.VIDEO
    note = ManualConnector(config, "xiaohongshu")
    assert field_limits(note) == {
        "title": {"limit": 20, "counting": "characters"},
        "text": {"limit": 1000, "counting": "characters"},
    }
    assert note.preview is PreviewKind.NOTE
    assert field_limits(None) == {}
