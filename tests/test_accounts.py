"""Signing in and out: credentials, session cookies, throttling of one client's guesses at
one account, "sign out everywhere", password change and the language choice.

Sessions on the server and throttling across clients: tests/test_sessions.py and
tests/test_sign_in_throttle.py.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, SignInThrottle, User
from guanxi.core.security import verify_password
from guanxi.core.settings import Mode, Settings
from guanxi.shell.app import SESSION_COOKIE, create_app
from tests.conftest import PASSWORD, UserFactory, WorkspaceFactory, csrf_token, sign_in

NEW_PASSWORD = "a brand new passphrase"
WRONG = "wrong password 123"


def post(client: TestClient, url: str, data: dict[str, str] | None = None) -> Response:
    """Submit a form as the page would, with the session's CSRF token."""
    return client.post(
        url, data={"csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False
    )


def try_sign_in(client: TestClient, email: str, password: str) -> Response:
    return post(client, "/login", {"email": email, "password": password, "next": "/"})


def is_signed_in(client: TestClient, slug: str = "acme") -> bool:
    response = client.get(f"/w/{slug}/settings", follow_redirects=False)
    assert response.status_code in {200, 303}
    return response.status_code == 200


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """Claire, owner of workspace acme."""
    user = make_user("claire@acme.example", name="Claire")
    make_workspace("acme", owner=user)
    return user


@pytest.fixture
def second_client(app: FastAPI) -> TestClient:
    """Another browser on the same instance."""
    with TestClient(app, base_url="http://testserver") as other:
        return other


# --- Credentials ----------------------------------------------------------------------------


def test_signing_in_leads_to_the_page_asked_for(client: TestClient, acme: User) -> None:
    response = post(
        client,
        "/login",
        {"email": "claire@acme.example", "password": PASSWORD, "next": "/w/acme/settings"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/w/acme/settings"
    assert "Claire" in client.get("/w/acme/settings").text


def test_the_address_is_case_and_space_insensitive(client: TestClient, acme: User) -> None:
    assert try_sign_in(client, "  CLAIRE@Acme.Example ", PASSWORD).status_code == 303


def test_a_page_asked_for_while_signed_out_comes_back_after_sign_in(
    client: TestClient, acme: User
) -> None:
    redirect = client.get("/w/acme/settings", follow_redirects=False)

    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/login?next=/w/acme/settings"
    page = client.get(redirect.headers["location"])
    assert 'name="next" value="/w/acme/settings"' in page.text


def test_sign_in_never_redirects_off_site(client: TestClient, acme: User) -> None:
    response = post(
        client,
        "/login",
        {"email": "claire@acme.example", "password": PASSWORD, "next": "//evil.example/"},
    )

    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("claire@acme.example", WRONG), ("nobody@acme.example", PASSWORD), ("", "")],
)
def test_wrong_credentials_get_one_message_that_reveals_nothing(
    client: TestClient, acme: User, email: str, password: str
) -> None:
    """A wrong password and an unknown address get the same answer: no probing for users."""
    response = try_sign_in(client, email, password)

    assert response.status_code == 401
    assert "Wrong e-mail address or password. Check both and try again." in response.text
    assert f'value="{email}"' in response.text  # the address typed stays in the form
    assert not is_signed_in(client)


def test_a_deactivated_user_cannot_sign_in_and_is_signed_out(
    client: TestClient, db: Session, acme: User
) -> None:
    sign_in(client, acme.email)
    acme.is_active = False
    db.commit()

    assert not is_signed_in(client)
    assert try_sign_in(client, acme.email, PASSWORD).status_code == 401


def test_the_sign_in_page_is_in_chinese_for_a_chinese_browser(client: TestClient) -> None:
    page = client.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9"})

    assert 'lang="zh-Hans"' in page.text
    assert "登录" in page.text


# --- The session cookie -----------------------------------------------------------------------


def test_signing_out_ends_the_session_but_keeps_the_language(
    client: TestClient, acme: User
) -> None:
    sign_in(client, acme.email)
    post(client, "/language", {"language": "zh_Hans", "next": "/"})

    response = post(client, "/logout")

    assert response.headers["location"] == "/login"
    assert not is_signed_in(client)
    assert 'lang="zh-Hans"' in client.get("/login").text


def test_signing_in_starts_a_new_session(client: TestClient, acme: User) -> None:
    """No session fixation: the session (and its CSRF token) before sign-in is not reused."""
    before = csrf_token(client)
    sign_in(client, acme.email)

    assert csrf_token(client) != before


def _session_payload(client: TestClient) -> tuple[dict[str, object], str]:
    cookie = client.cookies[SESSION_COOKIE]
    payload, _, signature = cookie.partition(".")
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data, signature


def test_a_tampered_session_cookie_signs_out(
    client: TestClient, db: Session, acme: User, make_user: UserFactory
) -> None:
    """Given a signed-in cookie whose session id is changed to Mallory's (signature kept),
    then the session is ignored: the visitor is signed out."""
    mallory = make_user("mallory@acme.example")
    workspace = acme.memberships[0].workspace
    accounts.add_member(db, workspace=workspace, user=mallory, role=Role.EDITOR, actor=None)
    db.commit()
    with TestClient(client.app) as mallorys_browser:
        sign_in(mallorys_browser, mallory.email)
        mallorys_id = _session_payload(mallorys_browser)[0]["sid"]
    sign_in(client, acme.email)
    data, signature = _session_payload(client)
    data["sid"] = mallorys_id
    forged = base64.b64encode(json.dumps(data).encode()).decode() + "." + signature

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, forged)

    assert not is_signed_in(client)


def test_a_cookie_with_a_broken_signature_signs_out(client: TestClient, acme: User) -> None:
    sign_in(client, acme.email)
    cookie = client.cookies[SESSION_COOKIE]
    broken = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")

    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, broken)

    assert not is_signed_in(client)


def test_a_cookie_signed_with_another_key_signs_out(
    client: TestClient, acme: User, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """A session from an instance with another secret key is worthless here."""
    other_settings = Settings(
        data_dir=tmp_path / "other",
        secret_key="another-secret-key-that-is-long-enough-42",  # type: ignore[arg-type]
    )
    with TestClient(create_app(other_settings, session_factory)) as other:
        sign_in(other, acme.email)
        foreign = other.cookies[SESSION_COOKIE]

    client.cookies.set(SESSION_COOKIE, foreign)

    assert not is_signed_in(client)


def test_the_session_cookie_is_http_only_and_same_site(client: TestClient, acme: User) -> None:
    response = try_sign_in(client, acme.email, PASSWORD)

    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # development runs on plain http://127.0.0.1


def test_in_production_the_session_cookie_is_https_only(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = Settings(
        mode=Mode.PRODUCTION,
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="production-secret-key-that-is-long-enough-0123",  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings, session_factory), base_url="https://testserver") as c:
        response = c.get("/login")

    assert "secure" in response.headers["set-cookie"].lower()


def test_pages_forbid_framing_and_sniffing(client: TestClient) -> None:
    headers = client.get("/login").headers

    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


# --- Throttling one client's guesses at one account ---------------------------------------


def fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        assert try_sign_in(client, email, WRONG).status_code == 401


def pass_time(db: Session, delta: timedelta) -> None:
    """Move every sign-in count ``delta`` into the past, as if that time had passed."""
    for row in db.scalars(select(SignInThrottle)):
        row.forget_at -= delta
        if row.blocked_until is not None:
            row.blocked_until -= delta
    db.commit()


def test_five_failures_make_this_client_wait_even_for_the_right_password(
    client: TestClient, acme: User, settings: Settings
) -> None:
    """Given 5 failed sign-ins (the default) to one account from one client,
    when the right password comes next, then it is refused with how long to wait."""
    assert settings.login_max_failures == 5
    fail(client, acme.email, 5)

    response = try_sign_in(client, acme.email, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-ins. Wait 30 seconds, then try again." in response.text
    assert response.headers["retry-after"] == "30"
    assert not is_signed_in(client)


def test_four_failures_do_not_make_anyone_wait(client: TestClient, acme: User) -> None:
    fail(client, acme.email, 4)

    assert try_sign_in(client, acme.email, PASSWORD).status_code == 303


def test_a_success_resets_the_count(client: TestClient, acme: User) -> None:
    fail(client, acme.email, 4)
    sign_in(client, acme.email)
    post(client, "/logout")
    fail(client, acme.email, 4)

    assert try_sign_in(client, acme.email, PASSWORD).status_code == 303


def test_the_wait_is_per_account(client: TestClient, acme: User, make_user: UserFactory) -> None:
    make_user("li@acme.example")
    fail(client, acme.email, 5)

    assert try_sign_in(client, "li@acme.example", PASSWORD).status_code == 303


def test_an_unknown_address_waits_like_a_known_one(client: TestClient) -> None:
    """Otherwise the wait itself would tell which addresses have accounts."""
    fail(client, "nobody@acme.example", 5)

    assert try_sign_in(client, "nobody@acme.example", WRONG).status_code == 429


def test_the_wait_doubles_with_each_further_failure_up_to_the_longest(
    client: TestClient, db: Session, acme: User
) -> None:
    """30 s after the 5th failure, 60 s after the 6th, 2 min after the 7th, ... and never
    more than GUANXI_LOGIN_LOCK_MINUTES (15)."""
    fail(client, acme.email, 5)
    waits = []
    for _ in range(6):
        pass_time(db, timedelta(minutes=15))  # the wait is over; the count is not forgotten
        fail(client, acme.email, 1)
        waits.append(try_sign_in(client, acme.email, PASSWORD).headers["retry-after"])

    assert waits == ["60", "120", "240", "480", "900", "900"]
    assert "Wait 15 minutes" in try_sign_in(client, acme.email, PASSWORD).text


def test_the_wait_ends_and_the_count_is_forgotten_after_a_quiet_while(
    client: TestClient, db: Session, acme: User
) -> None:
    fail(client, acme.email, 5)
    pass_time(db, timedelta(seconds=20))
    assert "Wait 10 seconds" in try_sign_in(client, acme.email, PASSWORD).text

    pass_time(db, timedelta(seconds=10))
    assert try_sign_in(client, acme.email, WRONG).status_code == 401  # may try, counted
    pass_time(db, timedelta(minutes=20))  # quiet: the count is forgotten
    fail(client, acme.email, 4)

    assert try_sign_in(client, acme.email, PASSWORD).status_code == 303


def test_the_wait_message_is_in_the_visitors_language(client: TestClient, acme: User) -> None:
    post(client, "/language", {"language": "zh_Hans", "next": "/login"})
    fail(client, acme.email, 5)

    response = try_sign_in(client, acme.email, PASSWORD)

    assert "登录失败次数过多。请等待 30 秒后再试。" in response.text


def test_a_lower_limit_from_the_settings_applies(
    database_url: str, session_factory: sessionmaker[Session], tmp_path: Path, acme: User
) -> None:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-key-that-is-long-enough-0123456789",  # type: ignore[arg-type]
        login_max_failures=2,
        login_lock_minutes=30,
    )
    with TestClient(create_app(settings, session_factory)) as strict:
        fail(strict, acme.email, 2)
        response = try_sign_in(strict, acme.email, PASSWORD)

    assert response.status_code == 429
    assert "Wait 30 seconds" in response.text


# --- Sign out everywhere, password change -------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_of_the_user(
    client: TestClient, second_client: TestClient, acme: User, db: Session
) -> None:
    """Given Claire signed in on two browsers, when she signs out everywhere from one,
    then both are signed out, and a fresh sign-in works."""
    sign_in(client, acme.email)
    sign_in(second_client, acme.email)

    response = post(client, "/w/acme/settings/sign-out-everywhere")

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert not is_signed_in(client)
    assert not is_signed_in(second_client)
    db.refresh(acme)
    assert acme.session_epoch == 1
    sign_in(client, acme.email)
    assert is_signed_in(client)


def test_sign_out_everywhere_leaves_other_users_signed_in(
    client: TestClient,
    second_client: TestClient,
    acme: User,
    make_user: UserFactory,
    db: Session,
) -> None:
    li = make_user("li@acme.example")
    accounts.add_member(
        db, workspace=acme.memberships[0].workspace, user=li, role=Role.EDITOR, actor=None
    )
    db.commit()
    sign_in(client, acme.email)
    sign_in(second_client, li.email)

    post(client, "/w/acme/settings/sign-out-everywhere")

    assert is_signed_in(second_client)


def change_password(
    client: TestClient, current: str, new: str, confirmation: str | None = None
) -> Response:
    return post(
        client,
        "/me/password",
        {
            "current_password": current,
            "new_password": new,
            "confirmation": new if confirmation is None else confirmation,
        },
    )


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    client: TestClient, second_client: TestClient, acme: User, db: Session
) -> None:
    sign_in(client, acme.email)
    sign_in(second_client, acme.email)

    response = change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Password changed. Your other sessions are signed out" in page.text
    assert is_signed_in(client)
    assert not is_signed_in(second_client)
    db.refresh(acme)
    assert verify_password(acme.password_hash, NEW_PASSWORD)
    post(client, "/logout")
    assert try_sign_in(client, acme.email, PASSWORD).status_code == 401
    assert try_sign_in(client, acme.email, NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirmation", "message"),
    [
        (WRONG, NEW_PASSWORD, None, "Your current password is wrong. Type it again."),
        (PASSWORD, "short", None, "A password needs 10 to 200 characters. Choose another one."),
        (
            PASSWORD,
            NEW_PASSWORD,
            NEW_PASSWORD + "!",
            "The two new passwords differ. Type the same new password twice.",
        ),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    client: TestClient,
    acme: User,
    db: Session,
    current: str,
    new: str,
    confirmation: str | None,
    message: str,
) -> None:
    sign_in(client, acme.email)
    old_hash = acme.password_hash

    response = change_password(client, current, new, confirmation)

    assert response.status_code == 400
    assert message in response.text
    db.refresh(acme)
    assert acme.password_hash == old_hash
    assert acme.session_epoch == 0
    assert is_signed_in(client)


def test_guessing_the_current_password_counts_towards_the_lock(
    client: TestClient, acme: User
) -> None:
    """A borrowed session cannot be used to guess the password without limit."""
    sign_in(client, acme.email)
    for _ in range(5):
        change_password(client, WRONG, NEW_PASSWORD)

    response = change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text


# --- Language -------------------------------------------------------------------------------------


def test_a_signed_in_users_language_is_remembered(
    client: TestClient, second_client: TestClient, acme: User, db: Session
) -> None:
    sign_in(client, acme.email)

    response = post(client, "/language", {"language": "zh_Hans", "next": "/w/acme/settings"})

    assert response.headers["location"] == "/w/acme/settings"
    page = client.get("/w/acme/settings")
    assert 'lang="zh-Hans"' in page.text
    assert "成员" in page.text  # "Members"
    db.refresh(acme)
    assert acme.language == "zh_Hans"
    sign_in(second_client, acme.email)  # another browser follows the saved choice
    assert 'lang="zh-Hans"' in second_client.get("/w/acme/settings").text


def test_an_unknown_language_is_refused_clearly(client: TestClient, acme: User) -> None:
    sign_in(client, acme.email)

    response = post(client, "/language", {"language": "fr", "next": "/"})

    assert response.status_code == 400
    assert "Unknown language fr. Choose one of: en, zh_Hans." in response.text
    assert 'lang="en"' in client.get("/w/acme/settings").text


def test_a_stale_session_cannot_change_the_users_language(
    client: TestClient, second_client: TestClient, acme: User, db: Session
) -> None:
    sign_in(client, acme.email)
    sign_in(second_client, acme.email)
    post(second_client, "/w/acme/settings/sign-out-everywhere")

    post(client, "/language", {"language": "zh_Hans", "next": "/"})

    db.refresh(acme)
    assert acme.language is None


# --- Error pages --------------------------------------------------------------------------------


def test_an_unknown_page_says_so_in_the_visitors_language(client: TestClient) -> None:
    english = client.get("/no/such/page")
    chinese = client.get("/no/such/page", headers={"accept-language": "zh-CN"})

    assert english.status_code == chinese.status_code == 404
    assert "This page does not exist." in english.text
    assert 'lang="zh-Hans"' in chinese.text
    assert "This page does not exist." not in chinese.text


def test_a_wrong_method_gets_a_page_not_json(client: TestClient) -> None:
    response = client.get("/logout")

    assert response.status_code == 405
    assert "This address does not accept that kind of request." in response.text


def test_the_api_keeps_answering_json_for_unknown_paths(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_an_htmx_request_without_a_session_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/w/acme/settings", headers={"hx-request": "true"})

    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login"
