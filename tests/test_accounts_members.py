"""The members section of the settings page: owners add, re-role and remove members; the
last owner stays; bad input says what to fix and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import ApiToken, AuditEvent, Membership, Role, User, Workspace
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.test_accounts import post


@dataclass
class Team:
    """Workspace acme with one member per role, a user of no workspace, and another brand."""

    acme: Workspace
    owner: User
    manager: User
    editor: User
    analyst: User
    outsider: User
    other: Workspace


@pytest.fixture
def team(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Team:
    owner = make_user("claire@acme.example", name="Claire")
    manager = make_user("wang@acme.example", name="Wang Fang")
    editor = make_user("li@acme.example", name="Li Na")
    analyst = make_user("zhang@acme.example", name="Zhang Wei")
    outsider = make_user("bob@elsewhere.example", name="Bob")
    olga = make_user("olga@other.example", name="Olga")
    acme = make_workspace(
        "acme",
        owner=owner,
        members={manager: Role.MANAGER, editor: Role.EDITOR, analyst: Role.ANALYST},
    )
    other = make_workspace("other-brand", owner=olga)
    return Team(acme, owner, manager, editor, analyst, outsider, other)


def roles(db: Session, workspace: Workspace) -> dict[str, str]:
    """Each member's e-mail and role, as the database has them now."""
    db.expire_all()
    return {m.user.email: str(m.role) for m in accounts.list_members(db, workspace=workspace)}


def set_member(client: TestClient, email: str, role: str, slug: str = "acme") -> Response:
    return post(client, f"/w/{slug}/settings/members", {"email": email, "role": role})


def membership_of(db: Session, user: User, workspace: Workspace) -> Membership:
    return db.scalars(
        select(Membership).where(
            Membership.user_id == user.id, Membership.workspace_id == workspace.id
        )
    ).one()


def test_owner_sees_everyone_with_their_role(client: TestClient, team: Team) -> None:
    sign_in(client, team.owner.email)

    page = client.get("/w/acme/settings").text

    for name in ("Claire", "Wang Fang", "Li Na", "Zhang Wei"):
        assert name in page
    assert "Add member" in page
    assert "/settings/members/" in page  # remove buttons
    # Whole words: a random CSRF token may hold the letters "Bob".
    assert re.search(r"\bBob\b", page) is None
    assert re.search(r"\bOlga\b", page) is None


def test_owner_adds_an_existing_user_with_a_role(
    client: TestClient, db: Session, team: Team
) -> None:
    sign_in(client, team.owner.email)

    response = set_member(client, " BOB@elsewhere.example ", "editor")

    assert response.status_code == 303
    page = client.get("/w/acme/settings").text
    assert "Members updated." in page
    assert "Bob" in page
    assert roles(db, team.acme)["bob@elsewhere.example"] == "editor"
    sign_in(client, team.outsider.email)
    assert client.get("/w/acme/").status_code == 200  # Bob now sees the workspace


def test_owner_changes_a_role(client: TestClient, db: Session, team: Team) -> None:
    sign_in(client, team.owner.email)

    set_member(client, team.analyst.email, "manager")

    assert roles(db, team.acme)[team.analyst.email] == "manager"


def test_owner_removes_a_member_who_then_loses_access_and_tokens(
    client: TestClient, db: Session, team: Team
) -> None:
    """Given Li (editor) with an API token, when the owner removes Li,
    then Li is gone from the list, cannot open the workspace, and the token is revoked."""
    li = membership_of(db, team.editor, team.acme)
    _token, plain = accounts.create_api_token(db, membership=li, name="script")
    db.commit()
    sign_in(client, team.owner.email)

    response = post(client, f"/w/acme/settings/members/{li.id}/remove")

    assert response.status_code == 303
    assert "Member removed." in client.get("/w/acme/settings").text
    assert team.editor.email not in roles(db, team.acme)
    assert db.scalars(select(ApiToken)).one().revoked_at is not None
    assert (
        client.get(
            "/api/v1/w/acme/accounts/workspace", headers={"authorization": f"Bearer {plain}"}
        ).status_code
        == 401
    )
    sign_in(client, team.editor.email)
    assert client.get("/w/acme/").status_code == 404


def test_a_removed_member_added_again_does_not_get_old_tokens_back(
    client: TestClient, db: Session, team: Team
) -> None:
    li = membership_of(db, team.editor, team.acme)
    _token, plain = accounts.create_api_token(db, membership=li, name="script")
    db.commit()
    sign_in(client, team.owner.email)
    post(client, f"/w/acme/settings/members/{li.id}/remove")

    set_member(client, team.editor.email, "editor")

    assert (
        client.get(
            "/api/v1/w/acme/accounts/workspace", headers={"authorization": f"Bearer {plain}"}
        ).status_code
        == 401
    )


def test_the_last_owner_cannot_be_demoted(client: TestClient, db: Session, team: Team) -> None:
    sign_in(client, team.owner.email)
    before = roles(db, team.acme)

    response = set_member(client, team.owner.email, "analyst")

    assert response.status_code == 409
    assert "A workspace needs at least one owner. Make someone else owner first." in (response.text)
    assert roles(db, team.acme) == before


def test_the_last_owner_cannot_be_removed(client: TestClient, db: Session, team: Team) -> None:
    sign_in(client, team.owner.email)
    own = membership_of(db, team.owner, team.acme)

    response = post(client, f"/w/acme/settings/members/{own.id}/remove")

    assert response.status_code == 409
    assert "A workspace needs at least one owner" in response.text
    assert roles(db, team.acme)[team.owner.email] == "owner"


def test_with_a_second_owner_the_first_may_step_down_or_leave(
    client: TestClient, db: Session, team: Team
) -> None:
    sign_in(client, team.owner.email)
    set_member(client, team.manager.email, "owner")

    demoted = set_member(client, team.owner.email, "manager")
    assert demoted.status_code == 303
    assert roles(db, team.acme)[team.owner.email] == "manager"

    sign_in(client, team.manager.email)
    own = membership_of(db, team.manager, team.acme)
    set_member(client, team.owner.email, "owner")
    left = post(client, f"/w/acme/settings/members/{own.id}/remove")
    assert left.headers["location"] == "/"  # the workspace is no longer theirs to see
    assert roles(db, team.acme)[team.owner.email] == "owner"
    assert team.manager.email not in roles(db, team.acme)


@pytest.mark.parametrize(
    ("email", "role", "status", "message"),
    [
        (
            "nobody@acme.example",
            "editor",
            400,
            (
                "No user has the e-mail address nobody@acme.example. Check the address, or "
                "create the user first (guanxi user create)."
            ),
        ),
        ("", "editor", 400, "Enter the e-mail address of the person to add."),
        ("bob@elsewhere.example", "boss", 400, "Choose a role: owner, manager, editor or analyst."),
        ("bob@elsewhere.example", "", 400, "Choose a role: owner, manager, editor or analyst."),
    ],
)
def test_bad_member_input_says_what_to_fix_and_changes_nothing(
    client: TestClient, db: Session, team: Team, email: str, role: str, status: int, message: str
) -> None:
    sign_in(client, team.owner.email)
    before = roles(db, team.acme)
    events = len(db.scalars(select(AuditEvent)).all())

    response = set_member(client, email, role)

    assert response.status_code == status
    assert message in response.text
    assert "Members" in response.text  # the settings page again
    assert roles(db, team.acme) == before
    assert len(db.scalars(select(AuditEvent)).all()) == events


def test_bad_member_input_is_explained_in_chinese(
    client: TestClient, db: Session, team: Team
) -> None:
    sign_in(client, team.owner.email)
    post(client, "/language", {"language": "zh_Hans", "next": "/"})

    response = set_member(client, team.owner.email, "analyst")

    assert response.status_code == 409
    assert 'lang="zh-Hans"' in response.text
    assert "A workspace needs at least one owner" not in response.text


def test_removing_an_unknown_member_is_a_404(client: TestClient, db: Session, team: Team) -> None:
    sign_in(client, team.owner.email)

    response = post(client, "/w/acme/settings/members/999999/remove")

    assert response.status_code == 404
    assert "No such member in this workspace." in response.text


def test_a_member_of_another_workspace_cannot_be_removed_through_this_one(
    client: TestClient, db: Session, team: Team
) -> None:
    """The owner of acme aims at the membership id of Olga in other-brand: nothing happens."""
    olga = db.scalars(select(Membership).where(Membership.workspace_id == team.other.id)).one()
    sign_in(client, team.owner.email)

    response = post(client, f"/w/acme/settings/members/{olga.id}/remove")

    assert response.status_code == 404
    assert roles(db, team.other) == {"olga@other.example": "owner"}


@pytest.mark.parametrize("who", ["manager", "editor", "analyst"])
def test_only_owners_manage_members(client: TestClient, db: Session, team: Team, who: str) -> None:
    """Managers, editors and analysts see the members but cannot change them (403)."""
    user: User = getattr(team, who)
    sign_in(client, user.email)
    before = roles(db, team.acme)
    owner_membership = membership_of(db, team.owner, team.acme)

    page = client.get("/w/acme/settings").text
    added = set_member(client, team.outsider.email, "owner")
    removed = post(client, f"/w/acme/settings/members/{owner_membership.id}/remove")

    assert "Claire" in page
    assert "Add member" not in page
    assert "Audit log" not in page
    for response in (added, removed):
        assert response.status_code == 403
        assert "does not allow this. Ask an owner of the workspace." in response.text
    assert roles(db, team.acme) == before
