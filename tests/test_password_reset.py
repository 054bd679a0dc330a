"""Password reset: a link by e-mail (or from an owner, or the command line) that sets a new
password once within an hour, says nothing about which addresses have accounts, is
rate limited, and signs the person out everywhere."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from collections.abc import Iterator
from types import SimpleNamespace

import itsdangerous.timed
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts import reset
from guanxi.accounts.models import AuditEvent, Role, User
from guanxi.core.security import verify_password
from guanxi.core.settings import Settings
from guanxi.shell.app import create_app
from tests.cli import run
from tests.conftest import PASSWORD, UserFactory, WorkspaceFactory, sign_in
from tests.test_accounts import is_signed_in, post, try_sign_in
from tests.test_cli_accounts import claire, database, migrated  # noqa: F401 - fixtures

NEW_PASSWORD = "a-brand-new-password-2026"
LINK_RE = re.compile(r"https?://\S+/login/reset/[A-Za-z0-9_.\-]+")


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """A local SMTP server that keeps what it receives: (recipients, body)."""
    received: list[tuple[str, str]] = []

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            message = email.message_from_bytes(
                envelope.content,  # type: ignore[attr-defined]
                policy=email.policy.default,
            )
            body = message.get_body()
            assert body is not None
            received.append((",".join(envelope.rcpt_tos), body.get_content()))  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


@pytest.fixture
def mail_client(
    settings: Settings,
    session_factory: sessionmaker[Session],
    smtp_sink: tuple[int, list[tuple[str, str]]],
) -> Iterator[TestClient]:
    """A client of an instance that sends e-mail to the local sink."""
    port, _received = smtp_sink
    mailing = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    with TestClient(create_app(mailing, session_factory)) as test_client:
        yield test_client


@pytest.fixture
def claire_user(make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """A member of workspace acme, whose owner is owner@acme.example."""
    owner = make_user("owner@acme.example", name="Owner")
    claire_user = make_user("claire@acme.example", name="Claire")
    make_workspace("acme", owner=owner, members={claire_user: Role.EDITOR})
    return claire_user


def ask(client: TestClient, address: str) -> str:
    response = post(client, "/login/forgot", {"email": address})
    assert response.status_code == 200, response.text
    return response.text


def link_of(received: list[tuple[str, str]]) -> str:
    match = LINK_RE.search(received[-1][1])
    assert match, received[-1][1]
    return match.group(0).removeprefix("http://127.0.0.1:8000")


def set_password(client: TestClient, path: str, new: str = NEW_PASSWORD) -> object:
    return post(client, path, {"new_password": new, "confirmation": new})


def test_the_sign_in_page_offers_a_reset(client: TestClient) -> None:
    assert '<a href="/login/forgot">Forgot password?</a>' in client.get("/login").text


def test_without_e_mail_the_page_says_to_ask_an_owner(client: TestClient) -> None:
    """Given a server with no SMTP, the page says whom to ask, in English and Chinese."""
    assert "Ask an owner of your workspace for a reset link" in client.get("/login/forgot").text
    post(client, "/language", {"language": "zh_Hans", "next": "/"})
    assert 'id="reset-ask-owner"' in client.get("/login/forgot").text
    assert "Ask an owner" not in client.get("/login/forgot").text


def test_a_known_address_gets_a_link_and_an_unknown_one_the_same_answer(
    mail_client: TestClient,
    smtp_sink: tuple[int, list[tuple[str, str]]],
    claire_user: User,
) -> None:
    """When Claire and a stranger ask, then both see the same words; only Claire gets mail."""
    _port, received = smtp_sink
    known = ask(mail_client, claire_user.email)
    unknown = ask(mail_client, "nobody@acme.example")

    assert known.replace(claire_user.email, "X") == unknown.replace("nobody@acme.example", "X")
    assert "If an account uses" in known
    assert [to for to, _body in received] == ["claire@acme.example"]
    assert "within an hour" in received[0][1]


def test_the_link_sets_a_new_password_once_and_signs_out_everywhere(
    mail_client: TestClient,
    client: TestClient,
    smtp_sink: tuple[int, list[tuple[str, str]]],
    claire_user: User,
    db: Session,
) -> None:
    """Given Claire signed in on another device, when she sets a new password through the
    link, then that device is signed out, only the new password works, the link opens
    nothing any more, and the audit log has the request and the reset."""
    _port, received = smtp_sink
    sign_in(client, claire_user.email)
    ask(mail_client, claire_user.email)
    path = link_of(received)
    assert 'name="new_password"' in mail_client.get(path).text

    response = set_password(mail_client, path)

    assert response.status_code == 303  # type: ignore[attr-defined]
    assert "Your new password is set" in mail_client.get("/login").text
    assert not is_signed_in(client)
    db.expire_all()
    assert verify_password(db.get(User, claire_user.id).password_hash, NEW_PASSWORD)  # type: ignore[union-attr]
    assert try_sign_in(mail_client, claire_user.email, PASSWORD).status_code == 401
    again = mail_client.get(path)
    assert again.status_code == 400
    assert "already used or older than an hour" in again.text
    assert set_password(mail_client, path, "yet-another-password").status_code == 400  # type: ignore[attr-defined]
    actions = set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == claire_user.id))
    )
    assert {"user.password_reset_requested", "user.password_reset"} <= actions


def test_a_link_expires_after_an_hour(
    client: TestClient,
    claire_user: User,
    db: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link = reset.make_link(
        user=claire_user, secret_key=settings.resolved_secret_key(), base_url="http://x"
    )
    path = link.removeprefix("http://x")
    assert client.get(path).status_code == 200
    later = time.time() + 3601
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))

    assert client.get(path).status_code == 400
    assert set_password(client, path).status_code == 400  # type: ignore[attr-defined]


def test_a_later_password_change_voids_the_link(
    client: TestClient, claire_user: User, db: Session, settings: Settings
) -> None:
    link = reset.make_link(user=claire_user, secret_key=settings.resolved_secret_key(), base_url="")
    sign_in(client, claire_user.email)
    post(
        client,
        "/me/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )

    assert client.get(link).status_code == 400


def test_a_forged_or_too_long_token_is_refused(client: TestClient, claire_user: User) -> None:
    assert client.get("/login/reset/abc.def.ghi").status_code == 400
    assert client.get("/login/reset/" + "a" * 400).status_code == 400


def test_the_new_password_follows_the_same_rules(
    client: TestClient, claire_user: User, settings: Settings
) -> None:
    path = reset.make_link(user=claire_user, secret_key=settings.resolved_secret_key(), base_url="")

    short = set_password(client, path, "short")
    differ = post(client, path, {"new_password": NEW_PASSWORD, "confirmation": "other-password-1"})

    assert short.status_code == 400  # type: ignore[attr-defined]
    assert "A password needs 10 to 200 characters" in short.text  # type: ignore[attr-defined]
    assert "The two new passwords differ" in differ.text
    assert 'name="new_password"' in differ.text  # the link still works: try again


def test_requests_are_limited_per_address_whether_it_exists_or_not(
    client: TestClient, claire_user: User
) -> None:
    """When the same address is asked for a fourth time in an hour, the answer is a 429 that
    says to wait, for a known and an unknown address alike."""
    for address in (claire_user.email, "nobody@acme.example"):
        for _ in range(reset.REQUESTS_PER_ADDRESS):
            ask(client, address)
        refused = post(client, "/login/forgot", {"email": address})
        assert refused.status_code == 429
        assert "Wait an hour" in refused.text


def test_requests_are_limited_per_client(client: TestClient) -> None:
    for number in range(reset.REQUESTS_PER_CLIENT):
        ask(client, f"person{number}@acme.example")
    assert post(client, "/login/forgot", {"email": "one-more@acme.example"}).status_code == 429


def test_an_owner_makes_a_link_shown_once_on_the_members_page(
    client: TestClient, claire_user: User, db: Session
) -> None:
    """Given a server without e-mail, when the owner asks for Claire's link, then the page
    shows it once, it works, and the audit log names who made it."""
    sign_in(client, "owner@acme.example")
    member = next(m for m in claire_user.memberships)
    page = post(client, f"/w/acme/settings/members/{member.id}/reset-link")

    assert page.status_code == 200
    match = re.search(r'id="reset-link-value" value="([^"]+)"', page.text)
    assert match
    assert "/login/reset/" not in client.get("/w/acme/settings").text
    path = match.group(1).split("127.0.0.1:8000", 1)[1]
    assert set_password(TestClient(client.app), path).status_code == 303  # type: ignore[attr-defined]
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.password_reset_issued")
    ).one()
    assert event.actor_label == "owner@acme.example"


def test_a_member_who_is_no_owner_cannot_make_links(client: TestClient, claire_user: User) -> None:
    sign_in(client, claire_user.email)
    member = next(m for m in claire_user.memberships)
    assert post(client, f"/w/acme/settings/members/{member.id}/reset-link").status_code == 403


def test_the_old_password_address_leads_to_me_and_changes_nothing(
    client: TestClient, claire_user: User, db: Session
) -> None:
    sign_in(client, claire_user.email)
    response = post(
        client,
        "/w/acme/settings/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/me#password")
    db.expire_all()
    assert verify_password(db.get(User, claire_user.id).password_hash, PASSWORD)  # type: ignore[union-attr]
    assert 'action="/w/acme/settings/password"' not in client.get("/w/acme/settings").text


def test_the_command_line_prints_a_link(claire: object) -> None:  # noqa: F811 - the fixture
    result = run("user", "reset-password", "claire@provence.example")
    assert result.exit_code == 0, result.output
    assert "/login/reset/" in result.output
    assert run("user", "reset-password", "nobody@provence.example").exit_code != 0
