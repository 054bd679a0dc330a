"""The composer's scheduler offers an account's better hours, read from its own history by
analytics through the shared hook; an account without enough history gets nothing new."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.measure.models import FoundBy, MeasuredPost, PostFormat
from guanxi.publishing.models import Variant
from tests.composer_support import (
    Team,
    make_team,
    set_steps,
    test_connectors,  # noqa: F401 - a fixture
)
from tests.conftest import csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("test_connectors")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    found = make_team(db, make_user, make_workspace)
    found.workspace.timezone = "Asia/Shanghai"
    set_steps(db, found.workspace, 0)
    db.commit()
    return found


def add_history(db: Session, channel: Channel) -> None:
    """Ninety days up to yesterday: 08:00 posts, and 20:00 posts at twice their rate."""
    today = datetime.now(SHANGHAI).date()
    for back in range(1, 91):
        day = today - timedelta(days=back)
        for hour, likes in ((8, 18 + back % 5), (20, 36 + back % 7)):
            at = datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)
            db.add(
                MeasuredPost(
                    workspace_id=channel.workspace_id,
                    channel_id=channel.id,
                    external_id=f"{back}-{hour}",
                    published_at=at,
                    format=PostFormat.IMAGE,
                    found_by=FoundBy.TIMELINE,
                    views=1000,
                    likes=likes,
                    comments=1,
                )
            )
    db.commit()


def test_the_scheduler_offers_the_accounts_better_hours(
    client: TestClient, db: Session, team: Team
) -> None:
    add_history(db, team.micro)
    sign_in(client, team.editor.email)
    created = client.post(
        "/w/acme/publish/new",
        data={
            "csrf_token": csrf_token(client),
            "title": "春季上新",
            "body": "春季新品上市。",
            "campaign": "",
            "channels": [str(team.micro.id), str(team.article.id)],
        },
        follow_redirects=False,
    )
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    # One block of suggestions: the microblog's; the article account has no history.
    assert page.text.count('data-testid="suggested-slots"') == 1
    micro = db.scalar(select(Variant).where(Variant.channel_id == team.micro.id))
    assert micro is not None
    block = page.text.split('data-testid="suggested-slots"')[1].split("</div>\n    </div>")[0]
    assert f"/variants/{micro.id}/schedule" in block
    assert 'name="tz" value="Asia/Shanghai"' in block
    assert block.count("T20:00") >= 1
    assert "T08:00" not in block
