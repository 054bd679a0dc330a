"""Sessions live on the server: the cookie carries only a random id, signing out deletes the
session's row, a password change ends the user's other sessions, and every web process
sees the same sessions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import ApiToken, User, UserSession
from guanxi.core.db import utcnow
from guanxi.core.security import token_digest
from guanxi.core.settings import Settings
from guanxi.shell.app import SESSION_COOKIE, create_app
from tests.conftest import PASSWORD, UserFactory, WorkspaceFactory, sign_in
from tests.test_accounts import (
    NEW_PASSWORD,
    _session_payload,
    change_password,
    is_signed_in,
    post,
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """Claire, owner of workspace acme."""
    user = make_user("claire@acme.example", name="Claire")
    make_workspace("acme", owner=user)
    return user


def browser(app: FastAPI, cookie: str | None = None) -> TestClient:
    """Another browser on the instance, holding ``cookie`` if given."""
    other = TestClient(app, base_url="http://testserver", headers={"user-agent": FIREFOX})
    if cookie is not None:
        other.cookies.set(SESSION_COOKIE, cookie)
    return other


def test_a_cookie_saved_before_sign_out_is_dead_after_it(
    client: TestClient, app: FastAPI, acme: User
) -> None:
    """Given Claire signed in and someone copied her cookie, when she signs out,
    then the copy opens nothing: the session ended on the server, not just in her browser."""
    sign_in(client, acme.email)
    saved = client.cookies[SESSION_COOKIE]

    post(client, "/logout")

    with browser(app, saved) as thief:
        response = thief.get("/w/acme/settings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/w/acme/settings"


def test_the_cookie_carries_a_random_id_and_the_database_only_its_digest(
    client: TestClient, db: Session, acme: User
) -> None:
    """The session's row records the browser, the address, when it was last seen and when it
    expires (GUANXI_SESSION_MAX_AGE_DAYS, 14 by default)."""
    client.headers["user-agent"] = FIREFOX
    sign_in(client, acme.email)

    data, _signature = _session_payload(client)
    assert set(data) == {"sid"}  # no user id, nothing to forge (the next page adds csrf)
    row = db.scalars(select(UserSession)).one()
    assert row.token_hash == token_digest(str(data["sid"]))
    assert (row.user_id, row.user_agent, row.ip) == (acme.id, FIREFOX, "testclient")
    assert abs(row.expires_at - (utcnow() + timedelta(days=14))) < timedelta(minutes=1)
    assert abs(row.last_seen_at - utcnow()) < timedelta(minutes=1)


def test_an_expired_session_signs_out(client: TestClient, db: Session, acme: User) -> None:
    sign_in(client, acme.email)
    row = db.scalars(select(UserSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()

    assert not is_signed_in(client)


def test_using_a_session_notes_when_it_was_last_seen(
    client: TestClient, db: Session, acme: User
) -> None:
    sign_in(client, acme.email)
    row = db.scalars(select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(hours=3)
    db.commit()

    client.get("/w/acme/settings")

    db.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_signing_out_in_one_web_process_ends_the_session_in_every_other(
    client: TestClient,
    acme: User,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    """Two web processes of one instance share nothing but the database (and the key)."""
    second_process = create_app(settings, session_factory)
    sign_in(client, acme.email)
    cookie = client.cookies[SESSION_COOKIE]
    with browser(second_process, cookie) as same_browser:
        assert is_signed_in(same_browser)

        post(client, "/logout")

        assert not is_signed_in(same_browser)


def test_sessions_on_other_devices_end_on_password_change(
    client: TestClient, app: FastAPI, db: Session, acme: User
) -> None:
    """Given Claire signed in on a second device (whose cookie someone also copied),
    when she changes her password here, then this session goes on and the others end."""
    sign_in(client, acme.email)
    with browser(app) as laptop:
        sign_in(laptop, acme.email)
        copied = laptop.cookies[SESSION_COOKIE]

        response = change_password(client, PASSWORD, NEW_PASSWORD)

        assert response.status_code == 303
        assert not is_signed_in(laptop)
    with browser(app, copied) as thief:
        assert not is_signed_in(thief)
    assert is_signed_in(client)
    assert db.scalars(select(UserSession)).one().user_id == acme.id


def test_a_password_change_revokes_the_users_api_tokens(
    client: TestClient, db: Session, acme: User
) -> None:
    """Whoever knew the old password may have made a token with it."""
    sign_in(client, acme.email)
    post(client, "/w/acme/settings/tokens", {"name": "made by whoever"})
    token_page = client.get("/w/acme/settings").text
    assert "made by whoever" in token_page

    response = change_password(client, PASSWORD, NEW_PASSWORD)

    page = client.get(response.headers["location"]).text
    assert "Your other sessions are signed out and your API tokens revoked." in page
    token = db.scalars(select(ApiToken)).one()
    assert token.revoked_at is not None


def test_sign_out_everywhere_deletes_every_session_of_the_user(
    client: TestClient, app: FastAPI, db: Session, acme: User
) -> None:
    sign_in(client, acme.email)
    with browser(app) as laptop:
        sign_in(laptop, acme.email)
        assert len(db.scalars(select(UserSession)).all()) == 2

        post(client, "/w/acme/settings/sign-out-everywhere")

        assert not is_signed_in(laptop)
    assert not is_signed_in(client)
    assert db.scalars(select(UserSession)).all() == []


def test_the_account_page_lists_the_users_sessions(
    client: TestClient, app: FastAPI, acme: User
) -> None:
    with browser(app) as laptop:
        sign_in(laptop, acme.email)
    client.headers["user-agent"] = "guanxi-test-phone"
    sign_in(client, acme.email)

    page = client.get("/w/acme/settings").text

    assert FIREFOX in page
    assert "guanxi-test-phone <strong>(this device)</strong>" in page
    assert page.count("(this device)") == 1
