"""``/api/v1/w/{slug}/publish/posts``: the composer, review and scheduling through API
tokens, with the same rules as the pages (checks, approvals, roles, workspace isolation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import AuditEvent, Membership, User
from guanxi.core.db import utcnow
from guanxi.publishing.models import PublishAttempt, Variant, VariantState
from tests.composer_support import (
    Team,
    make_team,
    set_steps,
    test_connectors,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.usefixtures("test_connectors")

TEXT = "春季新品上市，欢迎来店里看看。"


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    """A workspace with a member per role, a microblog and an article account."""
    return make_team(db, make_user, make_workspace)


def bearer(db: Session, team: Team, user: User) -> dict[str, str]:
    """Headers carrying a fresh API token of ``user``'s membership in the team's workspace."""
    membership = db.scalar(
        select(Membership).where(
            Membership.workspace_id == team.workspace.id, Membership.user_id == user.id
        )
    )
    assert membership is not None
    _token, plain = accounts.create_api_token(db, membership=membership, name="ci")
    db.commit()
    return {"authorization": f"Bearer {plain}"}


def create(client: TestClient, headers: dict[str, str], team: Team, **fields: object) -> dict:
    payload = {"title": "春季上新", "body": TEXT, "channel_ids": [team.micro.id], **fields}
    response = client.post(
        f"/api/v1/w/{team.workspace.slug}/publish/posts", json=payload, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_editor_creates_a_post_and_reads_it_back_with_checked_variants(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given an editor's token, When they create a post for two accounts,
    Then each account has a draft variant whose checks have run, and the post is listed."""
    headers = bearer(db, team, team.editor)
    post = create(client, headers, team, channel_ids=[team.micro.id, team.article.id])

    variants = {variant["channel_id"]: variant for variant in post["variants"]}
    assert set(variants) == {team.micro.id, team.article.id}
    assert {variant["state"] for variant in variants.values()} == {"draft"}
    assert variants[team.micro.id]["text"] == TEXT
    article_codes = {finding["code"] for finding in variants[team.article.id]["checks"]}
    assert {"title.required", "cover.required"} <= article_codes

    listed = client.get("/api/v1/w/acme/publish/posts", headers=headers).json()
    assert [item["id"] for item in listed] == [post["id"]]
    assert client.get(f"/api/v1/w/acme/publish/posts/{post['id']}", headers=headers).json() == post
    assert client.get("/api/v1/w/acme/publish/posts?state=scheduled", headers=headers).json() == []
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "post.create")) is not None


def test_bad_input_is_refused_with_what_to_do(client: TestClient, db: Session, team: Team) -> None:
    headers = bearer(db, team, team.editor)
    empty = client.post(
        "/api/v1/w/acme/publish/posts",
        json={"title": "t", "body": "  ", "channel_ids": [team.micro.id]},
        headers=headers,
    )
    assert empty.status_code == 400
    assert "Write the post's text" in empty.json()["detail"]
    no_accounts = client.post(
        "/api/v1/w/acme/publish/posts",
        json={"title": "t", "body": TEXT, "channel_ids": []},
        headers=headers,
    )
    assert no_accounts.status_code == 422
    unknown = client.post(
        "/api/v1/w/acme/publish/posts",
        json={"title": "t", "body": TEXT, "channel_ids": [999999]},
        headers=headers,
    )
    assert unknown.status_code == 400
    assert "not connected to this workspace" in unknown.json()["detail"]


def test_an_analyst_reads_but_cannot_write(client: TestClient, db: Session, team: Team) -> None:
    post = create(client, bearer(db, team, team.editor), team)
    headers = bearer(db, team, team.analyst)
    assert (
        client.get(f"/api/v1/w/acme/publish/posts/{post['id']}", headers=headers).status_code == 200
    )
    refused = client.post(
        "/api/v1/w/acme/publish/posts",
        json={"title": "t", "body": TEXT, "channel_ids": [team.micro.id]},
        headers=headers,
    )
    assert refused.status_code == 403


def test_review_then_schedule_through_the_api(client: TestClient, db: Session, team: Team) -> None:
    """Given one approval step, When the editor submits and a manager approves,
    Then the variant can be scheduled for a time given with its offset, and unscheduled."""
    set_steps(db, team.workspace, 1)
    editor = bearer(db, team, team.editor)
    manager = bearer(db, team, team.manager)
    post = create(client, editor, team)
    variant_id = post["variants"][0]["id"]
    base = f"/api/v1/w/acme/publish/posts/{post['id']}/variants/{variant_id}"

    early = client.post(f"{base}/schedule", json={"at": None}, headers=editor)
    assert early.status_code == 400
    assert "Submit it for review" in early.json()["detail"]

    submitted = client.post(
        f"/api/v1/w/acme/publish/posts/{post['id']}/submit", headers=editor
    ).json()
    assert submitted["variants"][0]["state"] == "in_review"
    as_editor = client.post(f"{base}/decision", json={"approved": True}, headers=editor)
    assert as_editor.status_code == 403  # editors do not approve
    approved = client.post(f"{base}/decision", json={"approved": True}, headers=manager)
    assert approved.json()["state"] == "approved"

    naive = client.post(f"{base}/schedule", json={"at": "2030-01-01T20:00:00"}, headers=editor)
    assert naive.status_code == 422
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    blocked = client.post(f"{base}/schedule", json={"at": at.isoformat()}, headers=editor)
    assert blocked.status_code == 400
    assert "need a manager's override" in blocked.json()["detail"]
    warnings = [f for f in approved.json()["checks"] if f["severity"] == "warning"]
    assert warnings
    for finding in warnings:
        refused = client.post(
            f"{base}/overrides", json={"code": finding["code"], "reason": "ok"}, headers=editor
        )
        assert refused.status_code == 403
        accepted = client.post(
            f"{base}/overrides",
            json={"code": finding["code"], "reason": "品牌已确认"},
            headers=manager,
        )
        assert accepted.status_code == 200, accepted.text
    scheduled = client.post(
        f"{base}/schedule", json={"at": at.astimezone().isoformat()}, headers=editor
    )
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["state"] == "scheduled"
    db.expire_all()
    variant = db.get_one(Variant, variant_id)
    assert (variant.state, variant.scheduled_at) == (VariantState.SCHEDULED, at)

    back = client.post(f"{base}/unschedule", headers=editor).json()
    assert back["state"] == "approved"
    again = client.post(f"{base}/schedule", json={"at": at.isoformat()}, headers=editor)
    assert again.json()["state"] == "scheduled"

    edited = client.put(base, json={"text": "改过的文案"}, headers=editor).json()
    assert (edited["text"], edited["state"]) == ("改过的文案", "in_review")
    assert "left the queue" in edited["state_reason"]


def test_the_attempt_log_is_readable(client: TestClient, db: Session, team: Team) -> None:
    headers = bearer(db, team, team.editor)
    post = create(client, headers, team)
    variant_id = post["variants"][0]["id"]
    db.add(
        PublishAttempt(
            variant_id=variant_id,
            number=1,
            worker="w1",
            action="publish",
            outcome="transient",
            error_code="10023",
            error="User requests out of rate limit!",
            duration_ms=120,
        )
    )
    db.commit()
    attempts = client.get(
        f"/api/v1/w/acme/publish/posts/{post['id']}/variants/{variant_id}/attempts", headers=headers
    ).json()
    assert [(a["number"], a["outcome"], a["error_code"]) for a in attempts] == [
        (1, "transient", "10023")
    ]


def test_another_workspaces_post_is_not_found(
    client: TestClient, db: Session, team: Team, make_user: object, make_workspace: object
) -> None:
    other = make_team(db, make_user, make_workspace, slug="rival")
    theirs = create(client, bearer(db, other, other.editor), other)
    mine = bearer(db, team, team.editor)
    assert (
        client.get(f"/api/v1/w/acme/publish/posts/{theirs['id']}", headers=mine).status_code == 404
    )
    assert client.get("/api/v1/w/acme/publish/posts", headers=mine).json() == []
