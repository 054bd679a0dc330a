"""The approvals queue: approvers see what waits (since when, which step, who wrote it, the
account, open errors and warnings) and decide in place; others see neither the page nor its
nav entry; another workspace's variant answers 404."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User
from guanxi.core.settings import Settings
from guanxi.notifications.models import Notification
from guanxi.publishing import notices, variants
from guanxi.publishing.models import Variant, VariantState
from tests.approvals_support import submitted_post
from tests.composer_support import (
    Team,
    make_team,
    test_connectors,  # noqa: F401 - a fixture
)
from tests.conftest import csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("test_connectors")

HTMX = {"HX-Request": "true"}


@pytest.fixture
def team(db: Session, make_user: object, make_workspace: object) -> Team:
    """A workspace with a member per role, a microblog and an article account."""
    return make_team(db, make_user, make_workspace)


def open_as(app: Any, user: User) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    client.__enter__()
    sign_in(client, user.email)
    return client


def test_an_approver_sees_what_waits_and_the_nav_counts_it(
    app: Any, db: Session, team: Team, settings: Settings
) -> None:
    post = submitted_post(db, team, settings)
    manager = open_as(app, team.manager)
    page = manager.get(f"/w/{team.workspace.slug}/publish/approvals")
    assert page.status_code == 200
    row = page.text[page.text.index(f'id="queue-{post.variants[0].id}"') :]
    assert "春季上新" in row
    assert "品牌微博" in row
    assert "Step 1 of 1" in row
    assert "Written by Eddie Editor" in row
    assert "1 warning" in row  # no image on the microblog
    assert "Waiting for you" in row
    assert 'id="nav-approvals"' in page.text
    assert 'class="badge warn nav-count"' in page.text


@pytest.mark.parametrize("who", ["editor", "analyst"])
def test_who_does_not_approve_sees_no_entry_and_no_page(
    app: Any, db: Session, team: Team, settings: Settings, who: str
) -> None:
    submitted_post(db, team, settings)
    person = open_as(app, getattr(team, who))
    home = person.get(f"/w/{team.workspace.slug}/notifications")
    assert 'id="nav-approvals"' not in home.text
    assert person.get(f"/w/{team.workspace.slug}/publish/approvals").status_code == 403


def test_approving_in_place_returns_the_row_saying_so_and_tells_the_author(
    app: Any, db: Session, team: Team, settings: Settings
) -> None:
    post = submitted_post(db, team, settings)
    variant_id = post.variants[0].id
    manager = open_as(app, team.manager)
    answer = manager.post(
        f"/w/{team.workspace.slug}/publish/approvals/{variant_id}",
        data={"csrf_token": csrf_token(manager), "decision": "approve"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert "Approved: “春季上新” is ready to schedule" in answer.text
    db.expire_all()
    assert db.get_one(Variant, variant_id).state == VariantState.APPROVED
    kinds = db.scalars(select(Notification.kind).where(Notification.user_id == team.editor.id))
    assert list(kinds) == [notices.APPROVAL_APPROVED]


def test_a_refused_approval_shows_the_errors_in_the_row(
    app: Any, db: Session, team: Team, settings: Settings
) -> None:
    post = submitted_post(db, team, settings)
    variant = post.variants[0]
    variants.update_variant(db, variant=variant, actor=team.editor, text="长" * 141)
    db.commit()
    manager = open_as(app, team.manager)
    answer = manager.post(
        f"/w/{team.workspace.slug}/publish/approvals/{variant.id}",
        data={"csrf_token": csrf_token(manager), "decision": "approve"},
        headers=HTMX,
    )
    assert 'role="alert"' in answer.text
    assert "The text has 141 characters; the limit is 140." in answer.text
    db.expire_all()
    assert db.get_one(Variant, variant.id).state == VariantState.IN_REVIEW


def test_another_workspaces_variant_answers_404(
    app: Any, db: Session, team: Team, settings: Settings, make_user: Any, make_workspace: Any
) -> None:
    other = make_team(db, make_user, make_workspace, slug="other")
    theirs = submitted_post(db, other, settings, title="别人的")
    manager = open_as(app, team.manager)
    answer = manager.post(
        f"/w/{team.workspace.slug}/publish/approvals/{theirs.variants[0].id}",
        data={"csrf_token": csrf_token(manager), "decision": "approve"},
        headers=HTMX,
    )
    assert answer.status_code == 404
    assert "别人的" not in manager.get(f"/w/{team.workspace.slug}/publish/approvals").text
