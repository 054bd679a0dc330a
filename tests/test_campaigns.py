"""Campaigns: create, edit, delete (writers), posts grouped by campaign, the calendar's
campaign colours, every change audited."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Role
from guanxi.core.errors import ConflictError, UserError
from guanxi.publishing import campaigns
from guanxi.publishing.models import Campaign, Post
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.test_calendar import Board, add_campaign, add_channel, add_variant, board, chips

__all__ = ["board"]  # the fixture, imported for these tests

FIELDS = {
    "name": "双十一 Singles Day",
    "color": "#E74C3C",
    "starts_on": "2026-11-01",
    "ends_on": "2026-11-11",
    "description": "天猫与京东的年度大促",
}


def submit(client: TestClient, url: str, **changes: str) -> Response:
    data = {**FIELDS, **changes, "csrf_token": csrf_token(client)}
    return client.post(url, data=data, follow_redirects=False)


def only_campaign(db: Session) -> Campaign:
    db.expire_all()
    return db.scalars(select(Campaign)).one()


def test_a_writer_creates_a_campaign_and_sees_it_listed(db: Session, board: Board) -> None:
    response = submit(board.client, "/w/acme/campaigns")

    assert response.status_code == 303
    page = board.client.get("/w/acme/campaigns")
    assert "Campaign created." in page.text
    assert "双十一 Singles Day" in page.text
    assert "2026-11-01 – 2026-11-11" in page.text
    campaign = only_campaign(db)
    assert campaign.color == "#e74c3c"
    assert (campaign.starts_on, campaign.ends_on) == (date(2026, 11, 1), date(2026, 11, 11))
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.create")).one()
    assert event.after is not None
    assert event.after["name"] == "双十一 Singles Day"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "Enter a campaign name of 1 to 120 characters."),
        ({"name": "x" * 121}, "Enter a campaign name of 1 to 120 characters."),
        ({"color": "red"}, "red is not a colour. Pick one, or enter it as #RRGGBB."),
        ({"starts_on": "2026-11-31"}, "2026-11-31 is not a date."),
        ({"ends_on": "2026-10-01"}, "The campaign ends before it starts. Correct the dates."),
        ({"description": "长" * 2001}, "Keep the description under 2000 characters."),
    ],
)
def test_bad_fields_are_explained_and_nothing_is_created(
    db: Session, board: Board, changes: dict[str, str], message: str
) -> None:
    response = submit(board.client, "/w/acme/campaigns", **changes)

    assert response.status_code == 400
    assert message in response.text
    assert db.scalars(select(Campaign)).all() == []
    kept = {**FIELDS, **changes}  # the form comes back filled in, to correct
    assert f'name="name" value="{kept["name"]}"' in response.text
    assert f'name="starts_on" value="{kept["starts_on"]}"' in response.text


def test_two_campaigns_cannot_share_a_name(db: Session, board: Board) -> None:
    add_campaign(db, board.workspace, "双十一 singles day", "#000000")
    db.commit()

    response = submit(board.client, "/w/acme/campaigns")

    assert response.status_code == 409
    assert "A campaign named 双十一 Singles Day already exists." in response.text


def test_editing_a_campaign_is_audited_with_before_and_after(db: Session, board: Board) -> None:
    campaign = add_campaign(db, board.workspace, "618", "#2980b9")
    db.commit()

    response = submit(board.client, f"/w/acme/campaigns/{campaign.id}", name="618 年中大促")

    assert response.status_code == 303
    assert "Campaign saved." in board.client.get(f"/w/acme/campaigns/{campaign.id}").text
    assert only_campaign(db).name == "618 年中大促"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.update")).one()
    assert event.before is not None
    assert event.after is not None
    assert (event.before["name"], event.after["name"]) == ("618", "618 年中大促")


def test_deleting_a_campaign_keeps_its_posts(db: Session, board: Board) -> None:
    campaign = add_campaign(db, board.workspace, "618", "#2980b9")
    variant = add_variant(
        db, board.weibo, at=datetime(2026, 6, 18, 2, tzinfo=UTC), campaign=campaign
    )
    db.commit()

    response = board.client.post(
        f"/w/acme/campaigns/{campaign.id}/delete",
        data={"csrf_token": csrf_token(board.client)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    db.expire_all()
    assert db.scalars(select(Campaign)).all() == []
    post = db.get(Post, variant.post_id)
    assert post is not None
    assert post.campaign_id is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.delete")).one()
    assert event.after == {"posts_released": 1}


def test_posts_are_grouped_by_campaign(db: Session, board: Board) -> None:
    launch = add_campaign(db, board.workspace, "Launch", "#1e8449")
    add_variant(
        db, board.weibo, at=datetime(2026, 11, 5, 2, tzinfo=UTC), title="发布会", campaign=launch
    )
    add_variant(db, board.xhs, at=datetime(2026, 11, 6, 2, tzinfo=UTC), title="日常笔记")
    db.commit()

    groups = campaigns.posts_by_campaign(db, workspace=board.workspace)
    page = board.client.get("/w/acme/campaigns").text
    detail = board.client.get(f"/w/acme/campaigns/{launch.id}").text

    assert {key: [p.title for p in posts] for key, posts in groups.items()} == {
        launch.id: ["发布会"],
        None: ["日常笔记"],
    }
    assert page.index("Launch") < page.index("发布会") < page.index("Posts outside any campaign")
    assert page.index("Posts outside any campaign") < page.index("日常笔记")
    assert "1 post" in page
    assert "发布会" in detail
    assert "日常笔记" not in detail
    assert f"campaign={launch.id}" in detail  # a link to the calendar, filtered


def test_the_calendar_colours_and_filters_by_campaign(db: Session, board: Board) -> None:
    launch = add_campaign(db, board.workspace, "Launch", "#1e8449")
    add_variant(
        db, board.weibo, at=datetime(2026, 11, 5, 2, tzinfo=UTC), title="发布会", campaign=launch
    )
    add_variant(db, board.xhs, at=datetime(2026, 11, 6, 2, tzinfo=UTC), title="日常笔记")
    db.commit()

    page = board.client.get(f"/w/acme/calendar?date=2026-11-01&campaign={launch.id}").text

    assert [chip.split(" ")[1] for chip in chips(page)] == ["发布会"]
    assert 'data-chip="#1e8449"' in page
    assert f'<option value="{launch.id}" selected>Launch</option>' in page


def test_campaigns_are_per_workspace_and_writers_only(
    db: Session, client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@acme.example")
    analyst = make_user("ana@acme.example")
    acme = make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    other = make_workspace("other-brand", owner=make_user("stranger@other.example"))
    ours = add_campaign(db, acme, "Ours", "#111111")
    theirs = add_campaign(db, other, "Theirs", "#222222")
    add_channel(db, acme)
    db.commit()

    with pytest.raises(UserError):
        campaigns.get_campaign(db, workspace=acme, campaign_id=theirs.id)
    sign_in(client, analyst.email)
    assert client.get(f"/w/acme/campaigns/{theirs.id}").status_code == 404
    assert client.get(f"/w/acme/campaigns/{ours.id}").status_code == 200
    assert (
        "Your role can read campaigns but not create them." in client.get("/w/acme/campaigns").text
    )
    refused = submit(client, "/w/acme/campaigns", name="Sneaky")
    assert refused.status_code == 403
    assert "Your role (Analyst) does not allow this." in refused.text
    deleted = client.post(
        f"/w/acme/campaigns/{ours.id}/delete", data={"csrf_token": csrf_token(client)}
    )
    assert deleted.status_code == 403
    db.expire_all()
    assert sorted(c.name for c in db.scalars(select(Campaign))) == ["Ours", "Theirs"]


def test_renaming_to_another_campaigns_name_is_refused(db: Session, board: Board) -> None:
    add_campaign(db, board.workspace, "618", "#2980b9")
    other = add_campaign(db, board.workspace, "双十一", "#e74c3c")
    db.commit()
    data = campaigns.parse_campaign(
        name="618", color="#000000", starts_on="", ends_on="", description=""
    )

    with pytest.raises(ConflictError):
        campaigns.update_campaign(
            db, workspace=board.workspace, campaign_id=other.id, data=data, actor=board.owner
        )
