"""``/api/v1/w/{slug}/plan/plans``: create, list and read plans with a bearer token, within
its workspace."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Role, Workspace
from guanxi.planner.models import Plan
from tests.conftest import UserFactory, WorkspaceFactory

BRIEF: dict[str, Any] = {
    "age_min": 18,
    "age_max": 30,
    "education": "university",
    "city_tiers": [1, 2],
    "region": "mainland",
    "goals": ["awareness"],
    "languages": ["en", "zh_Hans"],
}


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def plan_count(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Plan)) or 0)


@pytest.fixture
def tokens(db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory) -> dict[str, str]:
    """API tokens of acme's editor and analyst, and of rival's owner."""
    editor = make_user("cm@acme.example")
    analyst = make_user("analyst@acme.example")
    owner = make_user("owner@acme.example")
    acme = make_workspace("acme", owner=owner, members={editor: Role.EDITOR, analyst: Role.ANALYST})
    rival_owner = make_user("owner@rival.example")
    rival = make_workspace("rival", owner=rival_owner)

    def token_of(email: str, workspace: Workspace) -> str:
        membership = next(m for m in workspace.memberships if m.user.email == email)
        _token, plain = accounts.create_api_token(db, membership=membership, name="tests")
        return plain

    found = {
        "editor": token_of("cm@acme.example", acme),
        "analyst": token_of("analyst@acme.example", acme),
        "rival": token_of("owner@rival.example", rival),
    }
    db.commit()
    return found


def create(client: TestClient, token: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/v1/w/acme/plan/plans", json=body, headers=bearer(token, **headers))


def test_an_editor_creates_a_plan_and_gets_the_ranking(
    client: TestClient, db: Session, tokens: dict[str, str]
) -> None:
    response = create(client, tokens["editor"], {"name": "API launch", "brief": BRIEF})

    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["name"] == "API launch"
    assert plan["brief"]["region"] == "mainland"
    assert plan["brief"]["plan_date"] == plan["plan_date"]
    assert plan["language_advice"]["recommended"] == ["zh_Hans"]
    first = plan["ranking"][0]
    assert {"slug", "name", "score", "gate", "reasons", "warnings", "language"} <= set(first)
    assert first["rank"] == 1
    reason = first["reasons"][0]
    assert set(reason) == {"id", "params", "text"}
    assert reason["id"] in {"age_overlap", "age_unknown"}
    scores = [item["score"] for item in plan["ranking"]]
    assert scores == sorted(scores, reverse=True)
    assert plan_count(db) == 1


def test_plans_are_listed_and_read_by_any_member(
    client: TestClient, tokens: dict[str, str]
) -> None:
    created = create(client, tokens["editor"], {"name": "API launch", "brief": BRIEF}).json()

    listing = client.get("/api/v1/w/acme/plan/plans", headers=bearer(tokens["analyst"]))
    one = client.get(
        f"/api/v1/w/acme/plan/plans/{created['id']}", headers=bearer(tokens["analyst"])
    )

    assert listing.status_code == 200
    assert [(p["id"], p["name"]) for p in listing.json()] == [(created["id"], "API launch")]
    assert listing.json()[0]["top"] == [item["name"] for item in created["ranking"][:3]]
    assert one.status_code == 200
    assert one.json()["ranking"] == created["ranking"]


def test_an_analyst_cannot_create_a_plan(
    client: TestClient, db: Session, tokens: dict[str, str]
) -> None:
    response = create(client, tokens["analyst"], {"name": "Not mine to make", "brief": BRIEF})

    assert response.status_code == 403
    assert "does not allow this" in response.json()["detail"]
    assert plan_count(db) == 0


def test_a_bad_brief_lists_every_problem_and_saves_nothing(
    client: TestClient, db: Session, tokens: dict[str, str]
) -> None:
    body = {"name": "", "brief": {**BRIEF, "age_max": 12, "region": "moon", "goals": []}}

    response = create(client, tokens["editor"], body)

    assert response.status_code == 422
    payload = response.json()
    assert payload["detail"] == "The brief is not valid. Correct the fields marked and try again."
    fields = {error["field"] for error in payload["errors"]}
    assert fields == {"name", "age_max", "region", "goals"}
    assert plan_count(db) == 0


@pytest.mark.parametrize("body", [[], "brief", {"brief": BRIEF}])
def test_a_body_that_is_not_a_named_brief_is_refused(
    client: TestClient, db: Session, tokens: dict[str, str], body: Any
) -> None:
    response = client.post("/api/v1/w/acme/plan/plans", json=body, headers=bearer(tokens["editor"]))

    assert response.status_code == 422
    assert response.json()["detail"]
    assert plan_count(db) == 0


def test_another_workspaces_plan_is_not_found(client: TestClient, tokens: dict[str, str]) -> None:
    created = create(client, tokens["editor"], {"name": "Acme only", "brief": BRIEF}).json()

    other = client.get(
        f"/api/v1/w/rival/plan/plans/{created['id']}", headers=bearer(tokens["rival"])
    )
    listing = client.get("/api/v1/w/rival/plan/plans", headers=bearer(tokens["rival"]))

    assert other.status_code == 404
    assert "Acme only" not in other.text
    assert listing.json() == []


def test_without_a_token_nothing_is_shown_or_saved(
    client: TestClient, db: Session, tokens: dict[str, str]
) -> None:
    assert client.get("/api/v1/w/acme/plan/plans").status_code == 401
    assert (
        client.post("/api/v1/w/acme/plan/plans", json={"name": "x", "brief": BRIEF}).status_code
        == 401
    )
    assert plan_count(db) == 0


def test_names_follow_accept_language(client: TestClient, tokens: dict[str, str]) -> None:
    created = create(
        client, tokens["editor"], {"name": "双语", "brief": BRIEF}, **{"Accept-Language": "zh-CN"}
    ).json()

    weibo = next(item for item in created["ranking"] if item["slug"] == "weibo")
    assert weibo["name"] == weibo["name_zh"] == "新浪微博"
    assert weibo["name_en"] == "Sina Weibo"


def test_the_request_body_is_documented(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/w/{slug}/plan/plans"]["post"]["requestBody"]["content"][
        "application/json"
    ]

    properties = body["schema"]["properties"]
    assert set(properties) == {"name", "brief"}
    assert "goals" in properties["brief"]["properties"]
    assert "$ref" not in str(body)
