"""Two-factor sign-in: set up on /me with a QR code and a first code, recovery codes shown
once, a code after the password within five minutes, each code once (±1 step of drift),
turned off with password and code, and workspaces that require it of their members."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts import two_factor
from guanxi.accounts.models import AuditEvent, RecoveryCode, Role, User
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.team import views as team_views
from tests.conftest import PASSWORD, UserFactory, WorkspaceFactory, sign_in
from tests.test_accounts import is_signed_in, post

SECRET_RE = re.compile(r'id="two-factor-secret">([A-Z2-7]+)<')
CODES_RE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


@pytest.fixture
def claire(make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """An owner of workspace acme."""
    user = make_user("claire@acme.example", name="Claire")
    make_workspace("acme", owner=user)
    return user


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def set_up(client: TestClient) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on through /me; returns the secret and the recovery codes."""
    assert post(client, "/me/two-factor").status_code == 303
    page = client.get("/me").text
    assert "<svg" in page  # the QR code, inline
    match = SECRET_RE.search(page)
    assert match, page
    secret = match.group(1)
    confirmed = post(client, "/me/two-factor/confirm", {"code": code_at(secret, datetime.now(UTC))})
    assert confirmed.status_code == 200, confirmed.text
    codes = CODES_RE.findall(confirmed.text)
    return secret, codes


def password_step(client: TestClient, email: str) -> None:
    response = post(client, "/login", {"email": email, "password": PASSWORD, "next": "/w/acme/"})
    assert (response.status_code, response.headers["location"]) == (303, "/login/code")


def give_code(client: TestClient, code: str) -> int:
    return post(client, "/login/code", {"code": code}).status_code


def test_setting_up_shows_ten_recovery_codes_once_and_stores_digests(
    client: TestClient, claire: User, db: Session
) -> None:
    sign_in(client, claire.email)

    secret, codes = set_up(client)

    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert "recovery-codes" not in client.get("/me").text
    assert "10 recovery codes left" in client.get("/me").text
    stored = db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == claire.id))
    assert not set(stored) & set(codes)
    db.expire_all()
    user = db.get(User, claire.id)
    assert user is not None
    assert user.totp_secret is not None
    assert secret not in user.totp_secret  # encrypted at rest


def test_a_wrong_first_code_leaves_it_off(client: TestClient, claire: User, db: Session) -> None:
    sign_in(client, claire.email)
    post(client, "/me/two-factor")

    response = post(client, "/me/two-factor/confirm", {"code": "000000"})

    assert response.status_code == 400
    assert "This code does not match" in response.text
    db.expire_all()
    assert not two_factor.is_enabled(db.get(User, claire.id))  # type: ignore[arg-type]


def test_sign_in_asks_for_the_code_and_refuses_it_twice(
    client: TestClient, claire: User, db: Session
) -> None:
    """Given two-factor sign-in on, when Claire types her password, then she is only half
    signed in; the right code signs her in, and the same code a second time is refused."""
    sign_in(client, claire.email)
    secret, _codes = set_up(client)
    post(client, "/logout")

    password_step(client, claire.email)
    assert "Two-factor sign-in" in client.get("/login/code").text
    assert not is_signed_in(client)
    # The code just used to confirm the set-up is of this step: wait for the next one.
    code = code_at(secret, datetime.now(UTC) + timedelta(seconds=30))
    assert give_code(client, code) == 303
    assert is_signed_in(client)

    post(client, "/logout")
    password_step(client, claire.email)
    refused = post(client, "/login/code", {"code": code})
    assert refused.status_code == 401
    assert "already used" in refused.text
    assert not is_signed_in(client)
    events = db.scalars(select(AuditEvent).where(AuditEvent.actor_id == claire.id)).all()
    assert {"user.sign_in_password", "user.two_factor_on"} <= {e.action for e in events}
    assert any(e.action == "user.sign_in" and e.after == {"second_factor": "totp"} for e in events)


def test_a_code_one_step_off_is_accepted_and_two_steps_off_is_not(
    db: Session, claire: User, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the server's clock at a fixed moment, codes of the steps either side pass and
    those two steps away do not; a code older than the last one used is a replay."""
    box = SecretBox.from_settings(settings)
    secret = two_factor.begin_setup(db, user=claire, box=box)
    now = datetime(2026, 12, 6, 12, 0, 10, tzinfo=UTC)
    monkeypatch.setattr(two_factor, "utcnow", lambda: now)
    two_factor.confirm_setup(
        db, user=claire, code=code_at(secret, now - timedelta(seconds=30)), box=box, ip=None
    )
    policy = team_views.ThrottlePolicy.from_settings(settings)

    def check(moment: datetime) -> str | None:
        try:
            return two_factor.verify_code(
                db, user=claire, code=code_at(secret, moment), box=box, ip=None, policy=policy
            )
        except two_factor.WrongCodeError:
            return None

    assert check(now - timedelta(seconds=90)) is None  # two steps behind
    assert check(now + timedelta(seconds=90)) is None  # two steps ahead
    assert check(now + timedelta(seconds=30)) == "totp"  # one step ahead
    assert check(now) is None  # earlier than the last code used: a replay


def test_a_recovery_code_signs_in_once(client: TestClient, claire: User) -> None:
    sign_in(client, claire.email)
    _secret, codes = set_up(client)
    post(client, "/logout")

    password_step(client, claire.email)
    assert give_code(client, codes[0].upper().replace("-", " ")) == 303  # as typed from paper
    assert "9 recovery codes left" in client.get("/me").text
    post(client, "/logout")
    password_step(client, claire.email)
    assert give_code(client, codes[0]) == 401


def test_the_half_signed_in_state_ends_after_five_minutes(
    client: TestClient, claire: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, claire.email)
    secret, _codes = set_up(client)
    post(client, "/logout")
    password_step(client, claire.email)
    later = datetime.now(UTC) + timedelta(minutes=6)
    monkeypatch.setattr(team_views, "utcnow", lambda: later)

    response = post(client, "/login/code", {"code": code_at(secret, datetime.now(UTC))})

    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert "took too long" in client.get("/login").text
    assert client.get("/login/code", follow_redirects=False).status_code == 303


def test_wrong_codes_count_as_failed_sign_ins(client: TestClient, claire: User) -> None:
    """Guessing codes meets the same waits as guessing passwords."""
    sign_in(client, claire.email)
    set_up(client)
    post(client, "/logout")
    password_step(client, claire.email)

    statuses = [give_code(client, "000000") for _ in range(6)]

    assert statuses[-1] == 429


def test_turning_it_off_needs_the_password_and_a_code(
    client: TestClient, claire: User, db: Session
) -> None:
    sign_in(client, claire.email)
    _secret, codes = set_up(client)

    wrong_password = post(client, "/me/two-factor/disable", {"password": "nope", "code": codes[0]})
    wrong_code = post(client, "/me/two-factor/disable", {"password": PASSWORD, "code": "000000"})
    assert (wrong_password.status_code, wrong_code.status_code) == (400, 401)
    db.expire_all()
    assert two_factor.is_enabled(db.get(User, claire.id))  # type: ignore[arg-type]

    done = post(client, "/me/two-factor/disable", {"password": PASSWORD, "code": codes[1]})

    assert done.status_code == 303
    db.expire_all()
    assert not two_factor.is_enabled(db.get(User, claire.id))  # type: ignore[arg-type]
    assert db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == claire.id)).all() == []
    post(client, "/logout")
    sign_in(client, claire.email)
    assert is_signed_in(client)


def test_a_required_workspace_sends_members_without_it_to_me_but_tokens_work(
    client: TestClient,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    db: Session,
) -> None:
    """Given an owner who requires two-factor sign-in, when a member without it opens the
    workspace, then they are sent to /me to set it up; their API token still works; once
    they set it up, the workspace opens."""
    owner = make_user("owner@acme.example", name="Owner")
    member = make_user("li@acme.example", name="Li")
    workspace = make_workspace("acme", owner=owner, members={member: Role.EDITOR})
    membership = next(m for m in workspace.memberships if m.user_id == member.id)
    _token, plain = accounts.create_api_token(db, membership=membership, name="script")
    db.commit()

    sign_in(client, owner.email)
    refused = post(client, "/w/acme/settings/two-factor", {"required": "1"})
    assert refused.status_code == 400
    assert "Turn on two-factor sign-in for yourself first" in refused.text
    set_up(client)
    assert post(client, "/w/acme/settings/two-factor", {"required": "1"}).status_code == 303
    post(client, "/logout")

    sign_in(client, member.email)
    sent = client.get("/w/acme/inbox", follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, "/me#two-factor")
    assert "Acme requires two-factor sign-in" in client.get("/me").text
    api = client.get(
        "/api/v1/w/acme/accounts/workspace", headers={"Authorization": f"Bearer {plain}"}
    )
    assert api.status_code == 200
    set_up(client)
    assert client.get("/w/acme/inbox", follow_redirects=False).status_code == 200
