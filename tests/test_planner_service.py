"""Saved plans: created, audited, listed and read within their workspace only."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent
from guanxi.core.errors import NotFoundError
from guanxi.devtools.demo.planner import DEMO_PLAN_NAME
from guanxi.devtools.demo.workspace import load_demo
from guanxi.planner import service
from guanxi.planner.brief import InvalidBriefError, parse_brief
from guanxi.planner.models import Plan
from guanxi.planner.scoring import Gate
from tests.conftest import UserFactory, WorkspaceFactory

BRIEF = parse_brief({"age_min": 18, "age_max": 30, "region": "mainland", "goals": ["awareness"]})


def test_a_saved_plan_keeps_its_brief_date_ranking_and_catalog_version(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    user = make_user("cm@acme.example")
    workspace = make_workspace("acme", owner=user)

    plan = service.create_plan(
        db, workspace=workspace, actor=user, name="Launch", brief=BRIEF, today=date(2024, 5, 1)
    )
    db.commit()

    assert plan.brief["plan_date"] == "2024-05-01"
    assert plan.brief["region"] == "mainland"
    assert plan.created_by_id == user.id
    assert plan.catalog_version
    ranking = service.plan_ranking(plan)
    assert [r.rank for r in ranking] == list(range(1, len(ranking) + 1))
    assert ranking, "every catalog platform is ranked"


def test_creating_a_plan_is_audited(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    user = make_user("cm@acme.example")
    workspace = make_workspace("acme", owner=user)

    plan = service.create_plan(db, workspace=workspace, actor=user, name="Launch", brief=BRIEF)
    db.commit()

    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "plan.create")).one()
    assert (event.workspace_id, event.actor_id, event.entity_id) == (
        workspace.id,
        user.id,
        str(plan.id),
    )
    assert event.after is not None
    assert event.after["name"] == "Launch"
    assert event.after["brief"]["goals"] == ["awareness"]


def test_a_bad_name_saves_nothing(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    user = make_user("cm@acme.example")
    workspace = make_workspace("acme", owner=user)

    with pytest.raises(InvalidBriefError):
        service.create_plan(db, workspace=workspace, actor=user, name="  ", brief=BRIEF)

    assert db.scalar(select(func.count()).select_from(Plan)) == 0


def test_plans_are_listed_newest_first_and_only_in_their_workspace(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    user = make_user("agency@example.com")
    acme = make_workspace("acme", owner=user)
    other = make_workspace("other", owner=user)
    first = service.create_plan(db, workspace=acme, actor=user, name="First", brief=BRIEF)
    second = service.create_plan(db, workspace=acme, actor=user, name="Second", brief=BRIEF)
    elsewhere = service.create_plan(db, workspace=other, actor=user, name="Other", brief=BRIEF)
    db.commit()

    assert [p.id for p in service.list_plans(db, workspace=acme)] == [second.id, first.id]
    assert service.get_plan(db, workspace=acme, plan_id=first.id) == first
    with pytest.raises(NotFoundError):
        service.get_plan(db, workspace=acme, plan_id=elsewhere.id)
    with pytest.raises(NotFoundError):
        service.get_plan(db, workspace=acme, plan_id=999_999)


def test_a_plan_reads_back_explained(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    user = make_user("cm@acme.example")
    workspace = make_workspace("acme", owner=user)
    plan = service.create_plan(db, workspace=workspace, actor=user, name="Launch", brief=BRIEF)
    db.commit()

    read = service.present_plan(plan)
    summary = service.summarize_plan(plan)

    assert read.id == plan.id
    assert read.language_advice.recommended == ["zh_Hans"]
    first = read.ranking[0]
    assert first.gate is Gate.OPEN
    assert first.reasons[0].text.startswith(("Audience ages", "Age:"))
    assert len(summary.top) == service.SUMMARY_TOP
    assert summary.top[0] == first.name


def test_the_demo_has_one_saved_plan_however_often_it_loads(db: Session) -> None:
    workspace = load_demo(db)
    load_demo(db)
    db.commit()

    plans = service.list_plans(db, workspace=workspace)
    assert [p.name for p in plans] == [DEMO_PLAN_NAME]
    assert service.plan_brief(plans[0]).region.value == "mainland"
