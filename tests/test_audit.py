"""The audit log: every state-changing action leaves an event saying who did what, when,
to which thing, with the state before and after. Sign-ins and failed sign-ins are
recorded too (as account events, outside any workspace).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import AuditEvent, Membership, Role, User, Workspace
from guanxi.core.db import utcnow
from tests.conftest import PASSWORD, UserFactory, WorkspaceFactory, sign_in
from tests.test_accounts import post


@dataclass
class Acme:
    workspace: Workspace
    claire: User  # owner
    li: User  # editor
    bob: User  # a user of no workspace


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Acme:
    claire = make_user("claire@acme.example", name="Claire")
    li = make_user("li@acme.example", name="Li")
    workspace = make_workspace("acme", owner=claire, members={li: Role.EDITOR})
    return Acme(workspace, claire, li, make_user("bob@elsewhere.example", name="Bob"))


def events(db: Session, action: str) -> list[AuditEvent]:
    db.rollback()  # see what the app committed
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def only(db: Session, action: str) -> AuditEvent:
    found = events(db, action)
    assert len(found) == 1, f"expected one {action} event, found {len(found)}"
    return found[0]


def assert_recent(event: AuditEvent) -> None:
    assert utcnow() - event.created_at < timedelta(minutes=1)


# --- Creating people and workspaces (the command line's path) --------------------------------


def test_creating_a_user_is_audited(db: Session, acme: Acme) -> None:
    event = next(
        e
        for e in events(db, "user.create")
        if e.after == {"email": "bob@elsewhere.example", "name": "Bob"}
    )

    assert (event.actor_id, event.actor_label) == (None, "cli")
    assert (event.entity_type, event.entity_id) == ("user", str(acme.bob.id))
    assert event.before is None
    assert event.workspace_id is None
    assert_recent(event)


def test_a_user_created_by_someone_names_them(db: Session, acme: Acme) -> None:
    data = accounts.parse_user_create(email="new@acme.example", name="New", password="x" * 12)
    accounts.create_user(db, data=data, actor=acme.claire)
    db.commit()

    event = events(db, "user.create")[-1]
    assert (event.actor_id, event.actor_label) == (acme.claire.id, "claire@acme.example")


def test_creating_a_workspace_is_audited_in_it(db: Session, acme: Acme) -> None:
    event = only(db, "workspace.create")

    assert event.workspace_id == acme.workspace.id
    assert event.actor_label == "cli"
    assert (event.entity_type, event.entity_id) == ("workspace", str(acme.workspace.id))
    assert event.before is None
    assert event.after == {"slug": "acme", "name": "Acme", "owner": "claire@acme.example"}


# --- Members ---------------------------------------------------------------------------------


def test_adding_and_changing_a_member_is_audited_with_before_and_after(
    client: TestClient, db: Session, acme: Acme
) -> None:
    sign_in(client, acme.claire.email)

    post(client, "/w/acme/settings/members", {"email": "bob@elsewhere.example", "role": "analyst"})
    post(client, "/w/acme/settings/members", {"email": "bob@elsewhere.example", "role": "editor"})

    added, changed = [e for e in events(db, "membership.set") if e.actor_id == acme.claire.id]
    assert added.workspace_id == changed.workspace_id == acme.workspace.id
    assert added.actor_label == "claire@acme.example"
    assert added.before is None
    assert added.after == {"user": "bob@elsewhere.example", "role": "analyst"}
    assert changed.before == {"user": "bob@elsewhere.example", "role": "analyst"}
    assert changed.after == {"user": "bob@elsewhere.example", "role": "editor"}
    assert added.entity_id == changed.entity_id
    assert changed.ip == "testclient"


def test_setting_the_same_role_again_changes_nothing_and_records_nothing(
    client: TestClient, db: Session, acme: Acme
) -> None:
    sign_in(client, acme.claire.email)
    count = len(events(db, "membership.set"))

    post(client, "/w/acme/settings/members", {"email": "li@acme.example", "role": "editor"})

    assert len(events(db, "membership.set")) == count


def test_removing_a_member_is_audited(client: TestClient, db: Session, acme: Acme) -> None:
    li_id = db.scalars(select(Membership.id).where(Membership.user_id == acme.li.id)).one()
    sign_in(client, acme.claire.email)

    post(client, f"/w/acme/settings/members/{li_id}/remove")

    event = only(db, "membership.remove")
    assert (event.actor_id, event.workspace_id) == (acme.claire.id, acme.workspace.id)
    assert event.entity_id == str(li_id)
    assert event.before == {"user": "li@acme.example", "role": "editor"}
    assert event.after == {"api_tokens_revoked": 0}


def test_a_refused_change_records_nothing(client: TestClient, db: Session, acme: Acme) -> None:
    sign_in(client, acme.claire.email)
    count = len(db.scalars(select(AuditEvent)).all())

    post(client, "/w/acme/settings/members", {"email": "claire@acme.example", "role": "analyst"})
    post(client, "/w/acme/settings/members", {"email": "ghost@acme.example", "role": "editor"})

    db.rollback()
    assert len(db.scalars(select(AuditEvent)).all()) == count


# --- API tokens ------------------------------------------------------------------------------


def test_creating_and_revoking_a_token_is_audited_without_its_value(
    client: TestClient, db: Session, acme: Acme
) -> None:
    sign_in(client, acme.li.email)

    page = post(client, "/w/acme/settings/tokens", {"name": "li's script"}).text
    created = only(db, "api_token.create")
    post(client, f"/w/acme/settings/tokens/{created.entity_id}/revoke")
    revoked = only(db, "api_token.revoke")

    assert (created.actor_id, created.workspace_id) == (acme.li.id, acme.workspace.id)
    assert created.after is not None
    assert created.after["name"] == "li's script"
    assert created.after["prefix"].startswith("gx_")
    plain = page.split('<code id="new-token">')[1].split("<")[0]
    assert plain not in repr(created.after)
    assert revoked.entity_id == created.entity_id
    assert revoked.before == {"name": "li's script", "revoked": False}
    assert revoked.after == {"name": "li's script", "revoked": True}


# --- The user's own account ------------------------------------------------------------------


def test_choosing_a_language_is_audited(client: TestClient, db: Session, acme: Acme) -> None:
    sign_in(client, acme.li.email)

    post(client, "/language", {"language": "zh_Hans", "next": "/"})

    event = only(db, "user.language")
    assert (event.actor_id, event.entity_id) == (acme.li.id, str(acme.li.id))
    assert event.before == {"language": None}
    assert event.after == {"language": "zh_Hans"}


def test_signing_in_is_audited(client: TestClient, db: Session, acme: Acme) -> None:
    sign_in(client, acme.li.email)

    event = only(db, "user.sign_in")
    assert (event.actor_id, event.actor_label) == (acme.li.id, "li@acme.example")
    assert event.workspace_id is None
    assert event.ip == "testclient"


@pytest.mark.parametrize(
    ("email", "actor"),
    [("li@acme.example", "li"), ("ghost@acme.example", None)],
)
def test_a_failed_sign_in_is_audited_with_the_address_tried(
    client: TestClient, db: Session, acme: Acme, email: str, actor: str | None
) -> None:
    """A failure for a known address is linked to that user (they see it in their
    account activity); an unknown address is kept as typed."""
    post(client, "/login", {"email": email, "password": "wrong password", "next": "/"})

    event = only(db, "user.sign_in_failed")
    assert event.actor_label == email
    assert event.actor_id == (getattr(acme, actor).id if actor else None)
    assert event.after == {"reason": "credentials"}


def test_a_sign_in_refused_by_the_lock_is_audited_as_such(
    client: TestClient, db: Session, acme: Acme
) -> None:
    for _ in range(5):
        post(client, "/login", {"email": acme.li.email, "password": "wrong", "next": "/"})

    post(client, "/login", {"email": acme.li.email, "password": PASSWORD, "next": "/"})

    assert events(db, "user.sign_in_failed")[-1].after == {"reason": "throttled"}
    assert events(db, "user.sign_in") == []


def test_changing_the_password_is_audited_without_any_hash(
    client: TestClient, db: Session, acme: Acme
) -> None:
    sign_in(client, acme.li.email)

    post(
        client,
        "/me/password",
        {
            "current_password": PASSWORD,
            "new_password": "another long passphrase",
            "confirmation": "another long passphrase",
        },
    )

    event = only(db, "user.password_change")
    assert (event.actor_id, event.entity_id) == (acme.li.id, str(acme.li.id))
    assert event.before == {"session_epoch": 0}
    assert event.after == {"session_epoch": 1, "sessions_ended": 0, "api_tokens_revoked": 0}
    assert "argon2" not in repr(event.before) + repr(event.after)


def test_signing_out_everywhere_is_audited(client: TestClient, db: Session, acme: Acme) -> None:
    sign_in(client, acme.li.email)

    post(client, "/w/acme/settings/sign-out-everywhere")

    event = only(db, "user.sign_out_everywhere")
    assert event.actor_id == acme.li.id
    assert event.before == {"session_epoch": 0}
    assert event.after == {"session_epoch": 1, "sessions_ended": 1}


# --- Reading the log -------------------------------------------------------------------------


def test_the_owner_reads_the_workspace_log_on_the_settings_page(
    client: TestClient, acme: Acme
) -> None:
    sign_in(client, acme.claire.email)
    post(client, "/w/acme/settings/members", {"email": "bob@elsewhere.example", "role": "analyst"})

    page = client.get("/w/acme/settings").text
    log = page[page.index('id="audit"') :]

    assert "membership.set" in log
    assert "claire@acme.example" in log
    assert "Member added or role changed" in log
    assert "<strong>role</strong>: analyst" in log


def test_each_user_sees_their_own_account_activity(
    client: TestClient, db: Session, acme: Acme
) -> None:
    post(client, "/login", {"email": acme.li.email, "password": "wrong", "next": "/"})
    sign_in(client, acme.li.email)

    page = client.get("/w/acme/settings").text
    activity = page[page.index('id="account"') :]

    assert "Sign-in failed" in activity
    assert "Signed in" in activity
    assert "Audit log" not in page  # an editor does not read the workspace's log


def test_the_api_serves_the_log_newest_first(client: TestClient, db: Session, acme: Acme) -> None:
    membership = accounts.get_membership(db, user=acme.claire, workspace_slug="acme")
    _token, plain = accounts.create_api_token(db, membership=membership, name="audit reader")
    db.commit()

    response = client.get(
        "/api/v1/w/acme/accounts/audit?limit=2", headers={"authorization": f"Bearer {plain}"}
    )

    assert response.status_code == 200
    first, second = response.json()
    assert first["action"] == "api_token.create"
    assert first["after"]["name"] == "audit reader"
    assert second["action"] == "membership.set"
    assert second["before"] is None
    assert second["after"] == {"user": "li@acme.example", "role": "editor"}
