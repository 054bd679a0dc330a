"""API tokens: made on the settings page, shown once, stored hashed, revocable, bound to
one member in one workspace.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import ApiToken, Membership, Role, User, Workspace
from guanxi.core.db import Base, utcnow
from guanxi.core.security import token_digest
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.test_accounts import post

TOKEN_RE = re.compile(r'<code id="new-token">([^<]+)</code>')


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def owner(make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """Claire, owner of acme; another brand, other-brand, exists beside it."""
    claire = make_user("claire@acme.example", name="Claire")
    make_workspace("acme", owner=claire)
    make_workspace("other-brand", owner=make_user("olga@other.example"))
    return claire


def create_token(
    client: TestClient, name: str = "reporting script", expires_in_days: str = ""
) -> tuple[Response, str]:
    response = post(
        client, "/w/acme/settings/tokens", {"name": name, "expires_in_days": expires_in_days}
    )
    match = TOKEN_RE.search(response.text)
    return response, match.group(1) if match else ""


def everything_stored(db: Session) -> str:
    """Every value of every table, as one text: to prove what is not in it."""
    rows = []
    for table in Base.metadata.sorted_tables:
        rows += [repr(tuple(row)) for row in db.execute(select(table))]
    return "\n".join(rows)


def test_a_token_is_shown_once_and_never_stored(
    client: TestClient, db: Session, owner: User
) -> None:
    """Given the owner creates a token, then its value is on that page only,
    and the database holds its SHA-256 digest and a short prefix, never the value."""
    sign_in(client, owner.email)

    response, plain = create_token(client)

    assert response.status_code == 200
    assert plain.startswith("gx_")
    assert "Copy this token now; it is not shown again:" in response.text
    assert f'<code id="new-token-header">Authorization: Bearer {plain}</code>' in response.text
    later = client.get("/w/acme/settings").text
    assert plain not in later
    assert "reporting script" in later
    assert "header: Authorization: Bearer &lt;token&gt;." in later  # the form, spelt out
    stored = db.scalars(select(ApiToken)).one()
    assert stored.token_hash == token_digest(plain)
    assert plain.startswith(stored.prefix)
    assert plain not in everything_stored(db)


def test_a_token_reads_its_workspace_and_records_its_use(
    client: TestClient, db: Session, owner: User
) -> None:
    sign_in(client, owner.email)
    _response, plain = create_token(client)
    assert db.scalars(select(ApiToken)).one().last_used_at is None

    response = client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain))

    assert response.status_code == 200
    assert response.json() == {"slug": "acme", "name": "Acme", "timezone": "Asia/Shanghai"}
    db.expire_all()
    assert db.scalars(select(ApiToken)).one().last_used_at is not None
    assert token_row(client.get("/w/acme/settings").text)[3] != "Never"


def token_row(page: str, name: str = "reporting script") -> list[str]:
    """The cells of the token's row on the settings page, as text (name, prefix, created,
    last used, expires, state)."""
    row = next(row for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL) if name in row)
    cells = re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_a_revoked_token_is_refused(client: TestClient, db: Session, owner: User) -> None:
    sign_in(client, owner.email)
    _response, plain = create_token(client)
    token = db.scalars(select(ApiToken)).one()

    revoked = post(client, f"/w/acme/settings/tokens/{token.id}/revoke")
    response = client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain))

    assert revoked.status_code == 303
    assert "Revoked" in client.get("/w/acme/settings").text
    assert response.status_code == 401
    assert response.json() == {"detail": "This API token is unknown or revoked. Create a new one."}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer "},
        {"authorization": "Basic Y2xhaXJlOnB3"},
        {"authorization": "Bearer gx_made-up-token"},
    ],
)
def test_requests_without_a_valid_token_are_refused_with_help(
    client: TestClient, owner: User, headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/w/acme/accounts/workspace", headers=headers)

    assert response.status_code == 401
    assert "Create" in response.json()["detail"]


def test_a_session_cookie_does_not_open_the_api(client: TestClient, owner: User) -> None:
    """The API knows tokens only, so no page of another site can use a visitor's cookie."""
    sign_in(client, owner.email)

    assert client.get("/api/v1/w/acme/accounts/workspace").status_code == 401


def test_a_token_only_ever_sees_its_own_workspace(
    client: TestClient, db: Session, owner: User
) -> None:
    """Claire owns acme and is also an analyst of other-brand; her acme token reads acme."""
    other = db.scalars(select(Workspace).where(Workspace.slug == "other-brand")).one()
    accounts.add_member(db, workspace=other, user=owner, role=Role.ANALYST, actor=None)
    db.commit()
    sign_in(client, owner.email)
    _response, plain = create_token(client)

    workspace = client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain)).json()
    audit = client.get("/api/v1/w/acme/accounts/audit", headers=bearer(plain)).json()

    assert workspace["slug"] == "acme"
    assert audit
    assert all("other" not in str(event) for event in audit)


def test_the_token_of_a_member_removed_from_the_workspace_stops_working(
    client: TestClient, db: Session, owner: User
) -> None:
    acme = db.scalars(select(Workspace).where(Workspace.slug == "acme")).one()
    li = accounts.add_member(
        db,
        workspace=acme,
        user=accounts.create_user(
            db,
            data=accounts.parse_user_create(email="li@acme.example", name="Li", password="x" * 12),
        ),
        role=Role.EDITOR,
        actor=None,
    )
    _token, plain = accounts.create_api_token(db, membership=li, name="li's script")
    db.delete(li)  # taken out behind the service's back: the token must still fail
    db.commit()

    assert client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain)).status_code == 401


def test_the_audit_api_is_for_owners(client: TestClient, db: Session, owner: User) -> None:
    acme = db.scalars(select(Workspace).where(Workspace.slug == "acme")).one()
    zhang = accounts.create_user(
        db, data=accounts.parse_user_create(email="zhang@acme.example", name="Z", password="x" * 12)
    )
    membership = accounts.add_member(db, workspace=acme, user=zhang, role=Role.ANALYST, actor=None)
    _token, plain = accounts.create_api_token(db, membership=membership, name="read")
    db.commit()

    response = client.get("/api/v1/w/acme/accounts/audit", headers=bearer(plain))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role (Analyst) does not allow this. Ask an owner of the workspace."
    }
    assert client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain)).status_code == 200


@pytest.mark.parametrize("limit", ["0", "-5", "1001", "many"])
def test_the_audit_api_refuses_a_bad_limit(client: TestClient, owner: User, limit: str) -> None:
    sign_in(client, owner.email)
    _response, plain = create_token(client)

    response = client.get(f"/api/v1/w/acme/accounts/audit?limit={limit}", headers=bearer(plain))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_an_overlong_token_name_is_refused_and_nothing_is_made(
    client: TestClient, db: Session, owner: User
) -> None:
    sign_in(client, owner.email)

    response, plain = create_token(client, name="n" * 121)

    assert response.status_code == 400
    assert "A token name can have at most 120 characters. Choose a shorter one." in response.text
    assert plain == ""
    assert db.scalars(select(ApiToken)).all() == []


def test_nobody_revokes_someone_elses_token(
    client: TestClient, db: Session, owner: User, make_user: UserFactory
) -> None:
    """Even an owner revokes only their own tokens; another member's is 'no such token'."""
    acme = db.scalars(select(Workspace).where(Workspace.slug == "acme")).one()
    li = accounts.add_member(
        db, workspace=acme, user=make_user("li@acme.example"), role=Role.EDITOR, actor=None
    )
    token, plain = accounts.create_api_token(db, membership=li, name="li's script")
    db.commit()
    sign_in(client, owner.email)

    response = post(client, f"/w/acme/settings/tokens/{token.id}/revoke")

    assert response.status_code == 404
    assert "No such API token." in response.text
    assert client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain)).status_code == 200


def test_tokens_list_only_the_members_own(
    client: TestClient, db: Session, owner: User, make_user: UserFactory
) -> None:
    acme = db.scalars(select(Workspace).where(Workspace.slug == "acme")).one()
    li: Membership = accounts.add_member(
        db, workspace=acme, user=make_user("li@acme.example"), role=Role.EDITOR, actor=None
    )
    accounts.create_api_token(db, membership=li, name="li-private-script")
    db.commit()
    sign_in(client, owner.email)

    page = client.get("/w/acme/settings").text
    tokens_section = page[page.index('id="tokens"') : page.index('id="account"')]

    assert "li-private-script" not in tokens_section
    assert "li-private-script" in page  # the owner's audit log does record it


# --- Lifetimes ------------------------------------------------------------------------------


def test_the_settings_page_offers_lifetimes_and_suggests_90_days(
    client: TestClient, owner: User
) -> None:
    sign_in(client, owner.email)

    page = client.get("/w/acme/settings").text

    assert '<option value="90" selected>90 days</option>' in page
    assert '<option value="">Never expires</option>' in page


def test_a_token_made_for_30_days_shows_its_end_and_works_until_then(
    client: TestClient, db: Session, owner: User
) -> None:
    sign_in(client, owner.email)

    _response, plain = create_token(client, expires_in_days="30")

    token = db.scalars(select(ApiToken)).one()
    assert token.expires_at is not None
    assert abs(token.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
    cells = token_row(client.get("/w/acme/settings").text)
    expected = token.expires_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    assert cells[4].startswith(expected)
    assert client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain)).status_code == 200


def test_an_expired_token_is_refused_with_a_clear_message(
    client: TestClient, db: Session, owner: User
) -> None:
    """Given a token made for 7 days, when it is used after them, then 401 says it expired,
    when, and what to do; the settings page marks it expired."""
    sign_in(client, owner.email)
    _response, plain = create_token(client, expires_in_days="7")
    token = db.scalars(select(ApiToken)).one()
    token.expires_at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    db.commit()

    response = client.get("/api/v1/w/acme/accounts/workspace", headers=bearer(plain))

    assert response.status_code == 401
    assert response.json() == {
        "detail": "This API token expired on 2026-01-02 03:04 UTC. Create a new one under Settings."
    }
    assert token_row(client.get("/w/acme/settings").text)[5] == "Expired"


def test_a_token_without_a_lifetime_never_expires(
    client: TestClient, db: Session, owner: User
) -> None:
    sign_in(client, owner.email)

    _response, _plain = create_token(client, expires_in_days="")

    assert db.scalars(select(ApiToken)).one().expires_at is None
    assert token_row(client.get("/w/acme/settings").text)[4] == "Never"


@pytest.mark.parametrize("days", ["0", "-5", "3651", "soon", "1.5"])
def test_a_wrong_lifetime_is_refused_and_nothing_is_made(
    client: TestClient, db: Session, owner: User, days: str
) -> None:
    sign_in(client, owner.email)

    response, plain = create_token(client, expires_in_days=days)

    assert response.status_code == 400
    assert f"A token lasts 1 to 3650 days, or never expires. {days} is neither." in response.text
    assert plain == ""
    assert db.scalars(select(ApiToken)).all() == []
