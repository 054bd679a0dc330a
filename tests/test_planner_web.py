"""The planner pages: the brief form, saving a plan, reading it; roles and workspaces."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Membership, Role, User, Workspace
from guanxi.planner import service
from guanxi.planner.brief import parse_brief
from guanxi.planner.models import Plan
from tests.conftest import CSRF_RE, UserFactory, WorkspaceFactory, sign_in

GOOD_FORM: dict[str, str | list[str]] = {
    "name": "Tier-1 launch",
    "age_min": "18",
    "age_max": "30",
    "education": "university",
    "city_tiers": ["1", "2"],
    "region": "mainland",
    "country": "",
    "goals": ["awareness", "sales"],
    "languages": ["en"],
    "plan_date": "",
}


def page_token(client: TestClient, path: str) -> str:
    """The CSRF token embedded in the form at ``path``."""
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"{path} carries a CSRF token"
    return match.group(1)


def submit(client: TestClient, slug: str, form: dict[str, str | list[str]]) -> Response:
    """Post ``form`` through the plan page, as the browser would."""
    token = page_token(client, f"/w/{slug}/plan")
    return client.post(
        f"/w/{slug}/plan", data={**form, "csrf_token": token}, follow_redirects=False
    )


def plan_count(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Plan)) or 0)


@pytest.fixture
def team(
    client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> dict[str, User | Workspace]:
    """Workspace acme with an owner, an editor and an analyst; nobody signed in yet."""
    owner = make_user("owner@acme.example", name="Owner")
    editor = make_user("cm@acme.example", name="Li Na")
    analyst = make_user("analyst@acme.example", name="Zhang Wei")
    workspace = make_workspace(
        "acme", owner=owner, members={editor: Role.EDITOR, analyst: Role.ANALYST}
    )
    return {"owner": owner, "editor": editor, "analyst": analyst, "workspace": workspace}


def test_the_plan_page_shows_the_brief_form_and_no_plans_yet(
    signed_in: tuple[TestClient, Membership],
) -> None:
    client, _ = signed_in

    page = client.get("/w/acme/plan")

    assert page.status_code == 200
    assert "Channel planner" in page.text
    assert 'name="age_min"' in page.text
    assert 'value="awareness"' in page.text
    assert "No plan saved yet." in page.text


def test_an_editor_saves_a_plan_and_sees_the_ranking(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    """Given an editor, when they submit a good brief, then the plan is saved and its page
    ranks the platforms with scores, reasons, warnings and language advice."""
    sign_in(client, "cm@acme.example")

    response = submit(client, "acme", GOOD_FORM)

    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/w/acme/plans/\d+", location)
    page = client.get(location)
    assert page.status_code == 200
    assert "Tier-1 launch" in page.text
    assert "Language advice" in page.text
    assert "Write in Simplified Chinese" in page.text
    assert "English-only content" in page.text
    assert "Sina Weibo" in page.text
    assert 'id="plan-chart"' in page.text
    assert "/static/vendor/echarts.min.js" in page.text
    assert plan_count(db) == 1
    listing = client.get("/w/acme/plan")
    assert "Tier-1 launch" in listing.text
    assert "No plan saved yet." not in listing.text


def test_the_ranking_is_a_compact_table_with_a_next_step_per_open_platform(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    """Given a saved plan for a mainland audience, each open platform has a next step
    (connect an account: none is connected yet), the reasons are behind a "Why" toggle, and
    a closed platform (blocked Facebook, defunct ones) gets no advice to publish there."""
    sign_in(client, "cm@acme.example")
    page = client.get(submit(client, "acme", GOOD_FORM).headers["location"])
    rows = re.findall(
        r'<tr id="platform-([\w-]+)"( class="closed")?>(.*?)</tr>', page.text, re.DOTALL
    )
    assert rows
    opened = [(slug, body) for slug, closed, body in rows if not closed]
    closed = [(slug, body) for slug, shut, body in rows if shut]
    assert opened
    assert closed
    for _slug, body in opened:
        assert 'data-step="connect" href="/w/acme/channels"' in body
        assert '<details class="why">' in body
    facebook = dict(closed)["facebook"]
    assert "Publish here in" not in facebook
    assert "data-step" not in facebook
    assert "Not a place to publish for this audience." in facebook


def test_an_analyst_sees_no_next_step_that_would_be_refused(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    workspace = team["workspace"]
    assert isinstance(workspace, Workspace)
    plan = service.create_plan(
        db,
        workspace=workspace,
        actor=None,
        name="For reading",
        brief=parse_brief({"age_min": 20, "age_max": 40, "region": "mainland", "goals": ["sales"]}),
    )
    db.commit()
    sign_in(client, "analyst@acme.example")
    page = client.get(f"/w/acme/plans/{plan.id}")
    assert page.status_code == 200
    assert "data-step=" not in page.text


def test_bad_input_shows_the_form_again_with_messages_and_saves_nothing(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    bad = {**GOOD_FORM, "age_min": "40", "age_max": "20", "goals": [], "name": ""}

    response = submit(client, "acme", bad)

    assert response.status_code == 400
    text = response.text
    assert "The brief is not valid. Correct the fields marked and try again." in text
    assert "The oldest age (20) is below the youngest (40). Swap the two ages." in text
    assert "Choose at least one goal" in text
    assert "Give the plan a name." in text
    assert 'id="age_max-error"' in text
    assert 'value="40"' in text, "what the user typed is kept"
    assert plan_count(db) == 0
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "plan.create")
        )
        == 0
    )


def test_an_analyst_reads_plans_but_cannot_save_one(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    workspace = team["workspace"]
    assert isinstance(workspace, Workspace)
    plan = service.create_plan(
        db,
        workspace=workspace,
        actor=None,
        name="Made by the manager",
        brief=parse_brief({"age_min": 20, "age_max": 40, "region": "mainland", "goals": ["sales"]}),
    )
    db.commit()
    sign_in(client, "analyst@acme.example")

    form_page = client.get("/w/acme/plan")
    refused = submit(client, "acme", GOOD_FORM)

    assert "Your role can read plans but not save them." in form_page.text
    assert client.get(f"/w/acme/plans/{plan.id}").status_code == 200
    assert refused.status_code == 403
    assert "does not allow this" in refused.text
    assert plan_count(db) == 1


def test_a_post_without_csrf_token_is_refused(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")

    response = client.post("/w/acme/plan", data=GOOD_FORM, follow_redirects=False)

    assert response.status_code == 403
    assert plan_count(db) == 0


def test_another_workspaces_plan_and_plan_page_are_not_found(
    client: TestClient,
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    team: dict[str, User | Workspace],
) -> None:
    """Given a plan in acme and a user of rival only, then acme's pages are 404 for them,
    and acme's plan is 404 under rival's address too."""
    workspace = team["workspace"]
    assert isinstance(workspace, Workspace)
    plan = service.create_plan(
        db,
        workspace=workspace,
        actor=None,
        name="Secret launch",
        brief=parse_brief({"age_min": 20, "age_max": 40, "region": "mainland", "goals": ["sales"]}),
    )
    db.commit()
    rival = make_user("rival@rival.example")
    make_workspace("rival", owner=rival)
    sign_in(client, "rival@rival.example")

    assert client.get(f"/w/acme/plans/{plan.id}").status_code == 404
    assert client.get("/w/acme/plan").status_code == 404
    wrong_address = client.get(f"/w/rival/plans/{plan.id}")
    assert wrong_address.status_code == 404
    assert "Secret launch" not in wrong_address.text
    assert submit(client, "rival", GOOD_FORM).status_code == 303
    refused = client.post(
        "/w/acme/plan",
        data={**GOOD_FORM, "csrf_token": page_token(client, "/w/rival/plan")},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    assert plan_count(db) == 2


def test_a_chinese_reader_sees_platform_names_in_chinese(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    location = submit(client, "acme", GOOD_FORM).headers["location"]
    token = page_token(client, location)

    client.post(
        "/language",
        data={"language": "zh_Hans", "next": location, "csrf_token": token},
        follow_redirects=False,
    )
    page = client.get(location)

    assert 'lang="zh-Hans"' in page.text
    assert "新浪微博" in page.text
