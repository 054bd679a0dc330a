"""A member of one workspace can never read or change another's data, on any route.

The routes are read from the application itself (``app.routes``), so a route added later
by any capability is covered without touching this file. Path parameters are filled
generically: ``{slug}`` with the other workspace's address, ``{..._id}`` with the id of the
other workspace's object of that kind (found by table name), anything else with ``1``.
Helpers here are shared with ``tests/test_csrf.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import ROLE_PERMISSIONS, Permission, Role, User, Workspace
from guanxi.core import i18n
from guanxi.core.db import Base
from guanxi.planner.models import Plan
from guanxi.web.deps import PERMISSION_DEPENDENCIES
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PARAM_RE = re.compile(r"\{(\w+)(?::\w+)?\}")

# Strings that exist only in workspace B's data: none may ever reach A's member.
B_SLUG = "zebra-brand-b"
B_MARKERS = (
    B_SLUG,
    "Quokka Holdings",
    "owner@quokka-b.example",
    "bea@quokka-b.example",
    "quokka-token-b",
    "Quokka secret plan",
)


# --- Route enumeration (shared with test_csrf.py) -------------------------------------------


def http_routes(app: FastAPI) -> list[Any]:
    """Every HTTP route of the app (pages, API, docs) with its full path, through the
    included routers; mounts such as /static are left out."""
    try:
        from fastapi.routing import iter_route_contexts  # noqa: PLC0415 - what is tried: older FastAPI has no iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept as such
        routes: list[Any] = list(app.routes)
    else:
        routes = list(iter_route_contexts(app.routes))
    return [route for route in routes if getattr(route, "methods", None)]


def path_params(route: Any) -> list[str]:
    return PARAM_RE.findall(route.path)


def object_id(db: Session, param: str, workspace_id: int) -> int | None:
    """The id of the workspace's first object of the kind ``param`` names, if any.

    ``token_id`` finds ``api_tokens``, ``member_id`` finds ``memberships``, ``plan_id``
    finds ``plans``: a table named after the stem, or ending or starting with it.
    """
    stem = param.removesuffix("_id")
    for table in Base.metadata.sorted_tables:
        named = (
            table.name in {stem, f"{stem}s"}
            or table.name.endswith(f"_{stem}s")
            or table.name.startswith(stem)
        )
        if named and "workspace_id" in table.c and "id" in table.c:
            found = db.scalar(
                select(func.min(table.c.id)).where(table.c.workspace_id == workspace_id)
            )
            if found is not None:
                return int(found)
    return None


def ids_of(db: Session, workspace: Workspace) -> Callable[[str], int]:
    """For ``fill_path``: ids of this workspace's objects, 1 where it has none of a kind."""
    return lambda param: object_id(db, param, workspace.id) or 1


def fill_path(route: Any, *, slug: str, ids: Callable[[str], int]) -> str:
    """The route's path with every parameter given a plausible value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "slug":
            return slug
        if name == "id" or name.endswith("_id"):
            return str(ids(name))
        return "1"

    return PARAM_RE.sub(value, route.path)


def request(
    client: TestClient, method: str, path: str, headers: dict[str, str] | None = None
) -> Response:
    """Send ``method`` to ``path`` with a small form body when the method carries one."""
    body: dict[str, Any] = {} if method in SAFE_METHODS else {"data": {"name": "probe"}}
    return client.request(method, path, headers=headers, follow_redirects=False, **body)


def snapshot(db: Session, workspace_id: int | None = None) -> dict[str, list[str]]:
    """Every row of every table (or, given a workspace, its rows and every user's row).

    ``last_used_at`` is left out: using a token to read is not a change of data.
    """
    db.rollback()  # end the read transaction: see what the app committed
    rows: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        query = select(*(column for column in table.c if column.name != "last_used_at"))
        if workspace_id is not None and table.name != "users":
            if "workspace_id" not in table.c:
                continue
            query = query.where(table.c.workspace_id == workspace_id)
        rows[table.name] = sorted(repr(tuple(row)) for row in db.execute(query))
    return rows


def required_permissions(route: Any) -> set[Permission]:
    """The permissions the route's dependencies check (member_with / api_member_with)."""
    dependant = getattr(route, "dependant", None)
    found: set[Permission] = set()
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dependency = stack.pop()
        if dependency.call in PERMISSION_DEPENDENCIES:
            found.add(PERMISSION_DEPENDENCIES[dependency.call])
        stack.extend(dependency.dependencies)
    return found


# --- Two brands -----------------------------------------------------------------------------


@dataclass
class World:
    """Workspace A (acme) and workspace B, each with an owner, a token and data."""

    a: Workspace
    b: Workspace
    alice: User
    bob: User
    a_token: str
    b_token: str


@pytest.fixture
def world(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> World:
    alice = make_user("alice@acme.example", name="Alice")
    bob = make_user("owner@quokka-b.example", name="Bob Quokka")
    bea = make_user("bea@quokka-b.example", name="Bea Quokka")
    a = make_workspace("acme", owner=alice)
    b = make_workspace(B_SLUG, owner=bob, members={bea: Role.EDITOR})
    b.name = "Quokka Holdings"
    _token, a_token = accounts.create_api_token(db, membership=a.memberships[0], name="a-token")
    bob_membership = accounts.get_membership(db, user=bob, workspace_slug=B_SLUG)
    _token, b_token = accounts.create_api_token(
        db, membership=bob_membership, name="quokka-token-b"
    )
    db.add(
        Plan(
            workspace_id=b.id,
            created_by_id=bob.id,
            name="Quokka secret plan",
            brief={},
            recommendations=[],
            catalog_version="test",
        )
    )
    db.commit()
    return World(a, b, alice, bob, a_token, b_token)


def leaks(response: Response) -> list[str]:
    """B's markers in the answer, except what the request itself said (pages and errors
    echo the address asked for); B's name, people, tokens and plans are never asked for."""
    asked = response.request.url.path
    return [marker for marker in B_MARKERS if marker in response.text and marker not in asked]


# --- Pages -----------------------------------------------------------------------------------


def test_every_workspace_page_is_a_404_for_a_non_member(
    client: TestClient, app: FastAPI, db: Session, world: World
) -> None:
    """Given Alice, owner of acme and no member of B,
    when she sends every method of every route under B's address (with a valid CSRF token,
    ids of B's own objects), then each answer is 404, shows nothing of B, and B is unchanged.
    """
    routes = [route for route in http_routes(app) if "slug" in path_params(route)]
    pages = [route for route in routes if not route.path.startswith("/api/")]
    assert {"/w/{slug}/", "/w/{slug}/settings", "/w/{slug}/settings/members"} <= {
        route.path for route in pages
    }
    sign_in(client, world.alice.email)
    headers = {"X-CSRF-Token": csrf_token(client)}
    before = snapshot(db, world.b.id)

    problems = []
    for route in pages:
        path = fill_path(route, slug=B_SLUG, ids=ids_of(db, world.b))
        for method in sorted(route.methods or ()):
            response = request(client, method, path, headers)
            if response.status_code != 404 or leaks(response):
                problems.append(f"{method} {path}: {response.status_code} {leaks(response)}")

    assert problems == []
    assert snapshot(db, world.b.id) == before


def test_a_member_reaches_the_same_pages_of_their_own_workspace(
    client: TestClient, app: FastAPI, world: World
) -> None:
    """The control for the test above: the 404s come from membership, not from the paths."""
    sign_in(client, world.alice.email)
    own = [
        route
        for route in http_routes(app)
        if path_params(route) == ["slug"]
        and not route.path.startswith("/api/")
        and "GET" in (route.methods or ())
    ]

    statuses = {
        route.path: client.get(route.path.replace("{slug}", "acme")).status_code for route in own
    }

    assert len(statuses) >= 3
    assert {path: code for path, code in statuses.items() if code != 200} == {}


def test_an_unknown_workspace_looks_exactly_like_a_foreign_one(
    client: TestClient, world: World
) -> None:
    """No probing: a workspace that exists but is not yours, and one that does not exist,
    get the same status and message."""
    sign_in(client, world.alice.email)

    foreign = client.get(f"/w/{B_SLUG}/settings")
    missing = client.get("/w/no-such-brand/settings")

    assert foreign.status_code == missing.status_code == 404
    assert "No such workspace, or you are not a member of it." in foreign.text
    assert foreign.text.replace(B_SLUG, "no-such-brand") == missing.text


# --- The API -----------------------------------------------------------------------------------


def test_the_api_only_ever_returns_the_tokens_own_workspace(
    client: TestClient, app: FastAPI, db: Session, world: World
) -> None:
    """Given Alice's token for acme,
    when it calls every method of every /api/v1 route (ids of B's objects where a path
    takes one), then no answer contains anything of B, ids of B's objects are 404,
    nothing fails, and B is unchanged."""
    api = [route for route in http_routes(app) if route.path.startswith("/api/v1/")]
    assert {"/api/v1/w/{slug}/accounts/workspace", "/api/v1/w/{slug}/accounts/audit"} <= {
        route.path for route in api
    }
    headers = {"authorization": f"Bearer {world.a_token}"}
    before = snapshot(db, world.b.id)

    problems = []
    for route in api:
        path = fill_path(route, slug=B_SLUG, ids=ids_of(db, world.b))
        takes_b_object = any(
            name.endswith("_id") and object_id(db, name, world.b.id) is not None
            for name in path_params(route)
        )
        for method in sorted(route.methods or ()):
            response = request(client, method, path, headers)
            wrong = (
                leaks(response)
                or response.status_code >= 500
                or (takes_b_object and response.status_code not in {404, 422})
            )
            if wrong:
                problems.append(f"{method} {path}: {response.status_code} {leaks(response)}")

    assert problems == []
    assert snapshot(db, world.b.id) == before


def test_each_token_reads_its_own_workspace(client: TestClient, world: World) -> None:
    def workspace(token: str, slug: str) -> str:
        response = client.get(
            f"/api/v1/w/{slug}/accounts/workspace", headers={"authorization": f"Bearer {token}"}
        )
        return str(response.json()["slug"])

    assert workspace(world.a_token, "acme") == "acme"
    assert workspace(world.b_token, B_SLUG) == B_SLUG


def test_bs_own_token_does_see_bs_data(client: TestClient, app: FastAPI, world: World) -> None:
    """The control for the API test: B's markers are findable, so their absence means
    something."""
    response = client.get(
        f"/api/v1/w/{B_SLUG}/accounts/audit", headers={"authorization": f"Bearer {world.b_token}"}
    )

    assert response.status_code == 200
    assert leaks(response)


# --- Roles ---------------------------------------------------------------------------------------


def test_roles_grant_what_the_brief_says() -> None:
    """Owners manage members; managers approve; editors write; analysts only read."""
    can = {role: ROLE_PERMISSIONS[role] for role in Role}

    assert can[Role.ANALYST] == {Permission.READ}
    assert can[Role.EDITOR] == {Permission.READ, Permission.WRITE}
    assert can[Role.MANAGER] == {Permission.READ, Permission.WRITE, Permission.APPROVE}
    assert can[Role.OWNER] == set(Permission)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Your role (Analyst) does not allow this. Ask an owner of the workspace."),
        ("zh_Hans", "您的角色（分析师）无权执行此操作。请联系该工作区的所有者。"),
    ],
)
def test_an_analyst_cannot_write_and_is_told_in_their_language(
    db: Session, world: World, make_user: UserFactory, language: str, message: str
) -> None:
    analyst = accounts.add_member(
        db, workspace=world.a, user=make_user("zhang@acme.example"), role=Role.ANALYST, actor=None
    )
    i18n.set_language(language)
    try:
        with pytest.raises(accounts.RoleDeniedError) as caught:
            accounts.require(analyst, Permission.WRITE)
        assert caught.value.status_code == 403
        assert caught.value.translated(i18n.gettext) == message
    finally:
        i18n.set_language("en")


def test_every_guarded_route_refuses_the_roles_without_its_permission(
    app: FastAPI, db: Session, world: World, make_user: UserFactory
) -> None:
    """For every route guarded by ``member_with`` / ``api_member_with``, each role lacking
    the permission gets 403 with the message naming the role, and nothing changes."""
    guarded = [(route, required_permissions(route)) for route in http_routes(app)]
    guarded = [(route, needs) for route, needs in guarded if needs]
    assert any(Permission.MANAGE_MEMBERS in needs for _route, needs in guarded)
    browsers: dict[Role, tuple[TestClient, dict[str, str], dict[str, str]]] = {}
    for role in (Role.MANAGER, Role.EDITOR, Role.ANALYST):
        user = make_user(f"{role.value}@acme.example", name=f"The {role.value}")
        membership = accounts.add_member(db, workspace=world.a, user=user, role=role, actor=None)
        _token, plain = accounts.create_api_token(db, membership=membership, name="t")
        db.commit()
        browser = TestClient(app, base_url="http://testserver")
        sign_in(browser, user.email)
        page_headers = {"X-CSRF-Token": csrf_token(browser)}
        browsers[role] = (browser, page_headers, {"authorization": f"Bearer {plain}"})
    before = snapshot(db)

    problems = []
    checked = 0
    for role, (browser, page_headers, api_headers) in browsers.items():
        label = role.value.capitalize()
        for route, needs in guarded:
            if needs <= ROLE_PERMISSIONS[role]:
                continue
            path = fill_path(route, slug="acme", ids=ids_of(db, world.a))
            headers = api_headers if route.path.startswith("/api/") else page_headers
            for method in sorted(route.methods or ()):
                response = request(browser, method, path, headers)
                checked += 1
                if response.status_code != 403 or f"Your role ({label})" not in response.text:
                    problems.append(f"{role.value} {method} {path}: {response.status_code}")
        browser.close()

    assert checked >= 6  # three roles are refused member management, page and form
    assert problems == []
    assert snapshot(db) == before
