"""The JSON API's one convention: every address is ``/api/v1/w/{slug}/<capability>/...``
(the catalog, the same for every workspace, ``/api/v1/catalog/...``), a token acts only in its
own workspace, and the addresses of before answer for one release with a deprecation notice.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, User
from guanxi.web.api import FormerPath
from tests.conftest import UserFactory, WorkspaceFactory, sign_in
from tests.test_isolation import http_routes

CAPABILITIES = {
    "accounts",
    "analytics",
    "codes",
    "conversions",
    "costs",
    "kols",
    "links",
    "listen",
    "market",
    "plan",
    "promo-codes",
    "publish",
    "reports",
    "retention",
    "revenue",
}


@pytest.fixture
def claire(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> User:
    """Claire owns acme and is an analyst of other-brand."""
    claire = make_user("claire@acme.example", name="Claire")
    make_workspace("acme", owner=claire)
    make_workspace(
        "other-brand", owner=make_user("olga@other.example"), members={claire: Role.ANALYST}
    )
    return claire


def token_of(db: Session, user: User, slug: str) -> dict[str, str]:
    membership = accounts.get_membership(db, user=user, workspace_slug=slug)
    _token, plain = accounts.create_api_token(db, membership=membership, name="script")
    db.commit()
    return {"authorization": f"Bearer {plain}"}


def test_every_documented_address_follows_the_scheme(client: TestClient) -> None:
    """Given the OpenAPI document, every path is a capability's, under a workspace
    (or the catalog's), and no former address is in it."""
    paths = list(client.get("/api/v1/openapi.json").json()["paths"])
    capabilities = set()
    for path in paths:
        parts = path.split("/")
        if parts[3] == "catalog":
            continue
        assert parts[3:5] == ["w", "{slug}"], path
        capabilities.add(parts[5])

    assert capabilities == CAPABILITIES
    assert "/api/v1/posts" not in paths
    assert "/api/v1/catalog/platforms" in paths


def test_a_token_of_another_workspace_gets_the_pages_404(
    client: TestClient, db: Session, claire: User
) -> None:
    """Claire's acme token does not open other-brand's addresses, although she is a member
    there: the answer is the 404 a page gives to a non-member."""
    headers = token_of(db, claire, "acme")

    own = client.get("/api/v1/w/acme/accounts/workspace", headers=headers)
    other = client.get("/api/v1/w/other-brand/accounts/workspace", headers=headers)
    missing = client.get("/api/v1/w/no-such-brand/publish/posts", headers=headers)

    assert own.status_code == 200
    assert other.status_code == missing.status_code == 404
    assert other.json() == {"detail": "No such workspace, or you are not a member of it."}
    assert missing.json() == other.json()


def test_the_dashboard_reads_with_the_session_but_other_apis_need_a_token(
    client: TestClient, claire: User
) -> None:
    """The dashboard's charts fetch their panels with the session cookie; the rest of the
    API, and any write, knows tokens only."""
    sign_in(client, claire.email)

    panel = client.get("/api/v1/w/acme/listen/dashboard/volume")
    plans = client.get("/api/v1/w/acme/plan/plans")
    foreign = client.get("/api/v1/w/no-such-brand/listen/dashboard/volume")

    assert panel.status_code == 200
    assert set(panel.json()) == {"days", "series"}
    assert plans.status_code == 401
    assert foreign.status_code == 404


def test_a_former_address_answers_as_its_successor_with_a_deprecation_notice(
    client: TestClient, db: Session, claire: User
) -> None:
    """Given Claire's acme token, the addresses of before this scheme give the same answer
    as the new ones, say ``Deprecation: true`` and link the new address."""
    headers = token_of(db, claire, "acme")
    pairs = {
        "/api/v1/workspace": "/api/v1/w/acme/accounts/workspace",
        "/api/v1/audit?limit=5": "/api/v1/w/acme/accounts/audit?limit=5",
        "/api/v1/posts": "/api/v1/w/acme/publish/posts",
        "/api/v1/plans": "/api/v1/w/acme/plan/plans",
        "/api/v1/platforms/weibo": "/api/v1/catalog/platforms/weibo",
    }

    for former, successor in pairs.items():
        old = client.get(former, headers=headers)
        new = client.get(successor, headers=headers)
        assert (old.status_code, old.json()) == (new.status_code, new.json()), former
        assert old.headers["deprecation"] == "true"
        link = successor.split("?")[0]
        assert old.headers["link"] == f'<{link}>; rel="successor-version"'
        assert "deprecation" not in new.headers


def test_a_former_address_still_writes_and_refuses_as_before(
    client: TestClient, db: Session, claire: User
) -> None:
    """A write through a former address is the new route's (its 422 and its 404), and
    without a token a former address is a 401, as it was."""
    headers = token_of(db, claire, "acme")

    invalid = client.post("/api/v1/posts", json={"title": "t"}, headers=headers)
    missing = client.get("/api/v1/posts/999999", headers=headers)
    anonymous = client.get("/api/v1/workspace")

    assert invalid.status_code == 422
    assert invalid.headers["link"] == '</api/v1/w/acme/publish/posts>; rel="successor-version"'
    assert missing.status_code == 404
    assert anonymous.status_code == 401


def test_every_former_route_has_a_successor(app: FastAPI) -> None:
    """Each former address hidden from the document names a route of the new scheme."""
    routes = http_routes(app)
    paths = {route.path for route in routes}
    former = {
        route.path: route.endpoint.successor
        for route in routes
        if isinstance(getattr(route, "endpoint", None), FormerPath)
    }

    # The listening, analytics, conversions, reports and retention addresses were born in the
    # scheme; every other one had a former.
    born = (
        "/listen/",
        "/analytics/",
        "/links",
        "/conversions",
        "/codes",
        "/costs",
        "/kols",
        "/promo-codes",
        "/revenue",
        "/reports/",
        "/retention",
    )
    assert set(former.values()) == {
        path for path in client_paths(app) if not any(part in path for part in born)
    }
    assert former["/api/v1/market/matrix"] == "/api/v1/w/{slug}/market/matrix"
    assert {successor for successor in former.values() if successor not in paths} == set()
    assert set(former).isdisjoint(client_paths(app))


def client_paths(app: FastAPI) -> set[str]:
    """The paths the OpenAPI document lists."""
    return set(app.openapi()["paths"])
