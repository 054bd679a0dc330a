"""The workspace's publishing policy page (owners and managers): approval steps, who
approves, what happens to posts missed while guanxi was down; defaults on first read;
audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, Role, Workspace
from guanxi.publishing import policy
from guanxi.publishing.models import LatePolicy, PublishingPolicy
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

URL = "/w/acme/settings/publishing"
GOOD = {
    "approval_steps": "2",
    "approver_role": "owner",
    "late_policy": "hold",
    "late_grace_minutes": "30",
}


def save(client: TestClient, **changes: str) -> Response:
    data = {**GOOD, **changes, "csrf_token": csrf_token(client)}
    return client.post(URL, data=data, follow_redirects=False)


def stored(db: Session) -> PublishingPolicy:
    db.expire_all()
    return db.scalars(select(PublishingPolicy)).one()


def test_the_defaults_are_created_on_first_read(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    """Given a workspace nobody configured, when the owner opens the page, then it shows
    (and stores) one approval step by managers, publishing late after 15 minutes."""
    client, _membership = signed_in
    assert db.scalars(select(PublishingPolicy)).all() == []

    page = client.get(URL)

    assert page.status_code == 200
    assert 'name="approval_steps" value="1" checked' in page.text
    assert '<option value="manager" selected>Managers and owners</option>' in page.text
    assert 'name="late_policy" value="publish_late" checked' in page.text
    assert 'name="late_grace_minutes" min="0" max="1440" value="15"' in page.text
    row = stored(db)
    assert (row.approval_steps, row.approver_role, row.late_policy, row.late_grace_minutes) == (
        1,
        "manager",
        LatePolicy.PUBLISH_LATE,
        15,
    )


def test_get_policy_returns_the_same_row_every_time(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    _client, membership = signed_in
    workspace = db.get(Workspace, membership.workspace_id)
    assert workspace is not None

    first = policy.get_policy(db, workspace=workspace)
    db.commit()
    second = policy.get_policy(db, workspace=workspace)

    assert first is second
    assert len(db.scalars(select(PublishingPolicy)).all()) == 1


def test_the_owner_saves_the_policy_and_it_is_audited(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    client, _membership = signed_in
    client.get(URL)

    response = save(client)

    assert response.status_code == 303
    page = client.get(URL)
    assert "Publishing policy saved." in page.text
    assert 'name="approval_steps" value="2" checked' in page.text
    row = stored(db)
    assert (row.approval_steps, row.approver_role, row.late_policy, row.late_grace_minutes) == (
        2,
        "owner",
        LatePolicy.HOLD,
        30,
    )
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "publishing_policy.update")
    ).one()
    assert event.before == {
        "approval_steps": 1,
        "approver_role": "manager",
        "late_policy": "publish_late",
        "late_grace_minutes": 15,
    }
    assert event.after == {
        "approval_steps": 2,
        "approver_role": "owner",
        "late_policy": "hold",
        "late_grace_minutes": 30,
    }


def test_saving_without_a_change_records_nothing(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    client, _membership = signed_in
    save(client)
    save(client)

    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "publishing_policy.update")
    ).all()
    assert len(events) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"approval_steps": "3"}, "Choose 0, 1 or 2 approval steps."),
        ({"approval_steps": ""}, "Choose 0, 1 or 2 approval steps."),
        ({"approver_role": "editor"}, "Choose who approves: managers and owners, or owners only."),
        ({"late_policy": "ignore"}, "Choose what happens to missed posts"),
        ({"late_grace_minutes": "-5"}, "whole number of minutes from 0 to 1440."),
        ({"late_grace_minutes": "1441"}, "whole number of minutes from 0 to 1440."),
        ({"late_grace_minutes": "ten"}, "whole number of minutes from 0 to 1440."),
    ],
)
def test_bad_values_are_explained_and_change_nothing(
    db: Session, signed_in: tuple[TestClient, Membership], changes: dict[str, str], message: str
) -> None:
    client, _membership = signed_in
    client.get(URL)

    response = save(client, **changes)

    assert response.status_code == 400
    assert message in response.text
    assert stored(db).approval_steps == 1
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "publishing_policy.update")).all()
        == []
    )


def test_managers_may_set_missed_posts_editors_and_analysts_nothing(
    db: Session, client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@acme.example")
    people = {
        Role.MANAGER: make_user("manager@acme.example"),
        Role.EDITOR: make_user("editor@acme.example"),
        Role.ANALYST: make_user("analyst@acme.example"),
    }
    make_workspace("acme", owner=owner, members={user: role for role, user in people.items()})

    sign_in(client, people[Role.EDITOR].email)
    assert client.get(URL).status_code == 403
    refused = save(client)
    assert refused.status_code == 403
    assert "Your role (Editor) does not allow this." in refused.text
    sign_in(client, people[Role.ANALYST].email)
    assert client.get(URL).status_code == 403
    assert db.scalars(select(PublishingPolicy)).all() == []

    sign_in(client, people[Role.MANAGER].email)
    page = client.get(URL)
    assert "Only an owner changes who approves." in page.text
    # The approval fields are read-only for a manager: the browser leaves them out.
    response = client.post(
        URL,
        data={"late_policy": "hold", "late_grace_minutes": "45", "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = stored(db)
    assert (row.approval_steps, row.approver_role, row.late_grace_minutes) == (1, "manager", 45)


def test_a_manager_cannot_lower_the_policy_an_owner_set(
    db: Session, client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Issue #11, finding 5: given an owner's policy of two steps by owners only, when a
    manager posts 0 steps by managers, then it is refused, nothing changes, nothing is
    audited."""
    owner = make_user("owner@acme.example")
    manager = make_user("manager@acme.example")
    make_workspace("acme", owner=owner, members={manager: Role.MANAGER})
    sign_in(client, owner.email)
    assert save(client, approval_steps="2", approver_role="owner").status_code == 303

    sign_in(client, manager.email)
    for lowered in ({"approval_steps": "0"}, {"approver_role": "manager"}, {"approval_steps": "1"}):
        refused = save(client, **lowered)
        assert refused.status_code == 403
        assert "Only an owner changes who approves" in refused.text
    row = stored(db)
    assert (row.approval_steps, row.approver_role) == (2, "owner")
    updates = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "publishing_policy.update")
    ).all()
    assert [event.actor_label for event in updates] == ["owner@acme.example"]


def test_another_workspaces_policy_is_a_404(
    db: Session, client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    make_workspace("acme", owner=make_user("owner@acme.example"))
    make_workspace("other-brand", owner=make_user("o@other.example"))
    sign_in(client, "owner@acme.example")

    assert client.get("/w/other-brand/settings/publishing").status_code == 404
    response = client.post(
        "/w/other-brand/settings/publishing",
        data={**GOOD, "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert db.scalars(select(PublishingPolicy)).all() == []


def test_the_policy_page_in_chinese(signed_in: tuple[TestClient, Membership]) -> None:
    """The page follows the reader's language: the html lang and the shared navigation."""
    client, _membership = signed_in
    client.post(
        "/language", data={"language": "zh_Hans", "next": "/", "csrf_token": csrf_token(client)}
    )

    page = client.get(URL)

    assert page.status_code == 200
    assert 'lang="zh-Hans"' in page.text
    assert ">设置<" in page.text  # "Settings", already in the catalog


def test_settings_link_to_the_policy_for_those_who_may_set_it(
    client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@acme.example")
    editor = make_user("editor@acme.example")
    make_workspace("acme", owner=owner, members={editor: Role.EDITOR})

    sign_in(client, owner.email)
    assert f'href="{URL}"' in client.get("/w/acme/settings").text
    sign_in(client, editor.email)
    assert f'href="{URL}"' not in client.get("/w/acme/settings").text
