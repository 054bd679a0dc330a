"""CSRF: every state-changing route outside /api/ refuses a request without the session's
token, and changes nothing.

The routes are read from the application (``app.routes``), so a form route added later by
any capability is covered automatically; a router that forgets
``dependencies=[Depends(verify_csrf)]`` makes this fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, User, Workspace
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.test_isolation import SAFE_METHODS, fill_path, http_routes, ids_of, snapshot

CSRF_MESSAGE = "This form has expired or did not come from guanxi. Reload the page and try again."
CSRF_MESSAGE_ZH = "此表单已过期，或并非来自 guanxi。请刷新页面后重试。"


def form_routes(app: FastAPI) -> list[tuple[str, Any]]:
    """Each unsafe method of each route that is not under /api/ or /hooks/."""
    return [
        (method, route)
        for route in http_routes(app)
        if not route.path.startswith("/api/")
        # Platform pushes (WeChat's server URL) are server-to-server, authenticated by the
        # platform's signature instead: tests/test_wechat_webhooks.py covers them.
        and not route.path.startswith("/hooks/")
        for method in sorted(set(route.methods or ()) - SAFE_METHODS)
    ]


@pytest.fixture
def owner(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """The owner of acme, which has a second member and an API token: every form has
    something to act on."""
    claire = make_user("claire@acme.example", name="Claire")
    workspace: Workspace = make_workspace(
        "acme", owner=claire, members={make_user("li@acme.example"): Role.EDITOR}
    )
    accounts.create_api_token(db, membership=workspace.memberships[0], name="script")
    db.commit()
    return claire


def test_the_app_has_the_forms_this_test_is_about(app: FastAPI) -> None:
    """Guard against an enumeration that silently finds nothing."""
    paths = {route.path for _method, route in form_routes(app)}

    assert {"/login", "/logout", "/language", "/w/{slug}/settings/members"} <= paths


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("variant", "headers", "body"),
    [
        ("no token", {}, {"data": {"name": "x", "email": "x@acme.example", "role": "owner"}}),
        ("wrong token in the form", {}, {"data": {"csrf_token": "forged", "role": "owner"}}),
        ("wrong token in the header", {"X-CSRF-Token": "forged"}, {"data": {"role": "owner"}}),
        ("JSON body, no token", {}, {"json": {"name": "x", "role": "owner"}}),
        ("empty body, no token", {}, {}),
    ],
)
def test_every_form_route_refuses_a_request_without_the_token(
    client: TestClient,
    app: FastAPI,
    db: Session,
    owner: User,
    variant: str,
    headers: dict[str, str],
    body: dict[str, Any],
) -> None:
    """Given the signed-in owner (who may do everything),
    when any unsafe method of any non-API route is sent without the right CSRF token
    (path parameters pointing at the owner's own objects, so only the token is missing),
    then each is refused with 403 and the message, the database is unchanged, and the
    owner is still signed in (even /logout was refused)."""
    sign_in(client, owner.email)
    before = snapshot(db)
    acme = db.get(Workspace, owner.memberships[0].workspace_id)
    assert acme is not None

    problems = []
    for method, route in form_routes(app):
        path = fill_path(route, slug="acme", ids=ids_of(db, acme))
        response = client.request(method, path, headers=headers, follow_redirects=False, **body)
        if response.status_code != 403 or CSRF_MESSAGE not in response.text:
            problems.append(f"{variant}: {method} {path} answered {response.status_code}")

    assert problems == []
    assert snapshot(db) == before
    assert client.get("/w/acme/settings", follow_redirects=False).status_code == 200


def test_a_visitor_who_is_not_signed_in_is_refused_too(
    client: TestClient, app: FastAPI, db: Session, owner: User
) -> None:
    """A cross-site form posting to /login (login CSRF) or anywhere else is refused."""
    client.get("/login")  # a session exists, with a token this request does not send
    before = snapshot(db)

    refused = [
        client.request(
            method,
            fill_path(route, slug="acme", ids=lambda _name: 1),
            data={"email": owner.email, "password": "x"},
            follow_redirects=False,
        ).status_code
        for method, route in form_routes(app)
    ]

    assert set(refused) == {403}
    assert snapshot(db) == before


def test_the_refusal_is_in_the_visitors_language(client: TestClient, owner: User) -> None:
    response = client.post(
        "/logout", headers={"accept-language": "zh-CN"}, data={}, follow_redirects=False
    )

    assert response.status_code == 403
    assert CSRF_MESSAGE_ZH in response.text


@pytest.mark.postgres_only
def test_with_the_token_every_form_route_gets_past_the_check(
    client: TestClient, app: FastAPI, db: Session, owner: User
) -> None:
    """The control for the tests above: the same requests carrying the session's token (in
    the header, as htmx sends it) are not refused as forgeries."""
    acme = db.get(Workspace, owner.memberships[0].workspace_id)
    assert acme is not None

    problems = []
    for method, route in form_routes(app):
        sign_in(client, owner.email)  # some forms sign out: start each one signed in
        path = fill_path(route, slug="acme", ids=ids_of(db, acme))
        response = client.request(
            method,
            path,
            headers={"X-CSRF-Token": csrf_token(client)},
            data={"name": "probe"},
            follow_redirects=False,
        )
        if CSRF_MESSAGE in response.text:
            problems.append(f"{method} {path}")

    assert problems == []


def test_the_token_in_a_form_field_works_as_pages_send_it(
    client: TestClient, db: Session, owner: User
) -> None:
    sign_in(client, owner.email)

    response = client.post(
        "/w/acme/settings/tokens",
        data={"csrf_token": csrf_token(client), "name": "from the page"},
        follow_redirects=False,
    )

    assert response.status_code == 200
    assert "from the page" in response.text


def test_every_page_embeds_the_token_for_its_forms(client: TestClient, owner: User) -> None:
    """Each POST form of the settings page carries the session's token."""
    sign_in(client, owner.email)
    token = csrf_token(client)

    page = client.get("/w/acme/settings").text

    forms = page.count('method="post"')
    assert forms >= 5
    assert page.count(f'name="csrf_token" value="{token}"') == forms
