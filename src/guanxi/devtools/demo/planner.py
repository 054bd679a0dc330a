"""The planner part of the demo workspace: the community manager's first plan."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Workspace
from guanxi.devtools.demo import DemoStep
from guanxi.devtools.demo.workspace import DEMO_PEOPLE
from guanxi.planner import service as planner
from guanxi.planner.brief import parse_brief
from guanxi.planner.models import Plan

# Young urban wine drinkers in the big mainland cities.
DEMO_PLAN_NAME = "Launch in tier-1 and tier-2 cities 一二线城市上市"
DEMO_PLAN_BRIEF = {
    "age_min": 25,
    "age_max": 45,
    "education": "university",
    "city_tiers": [1, 2],
    "region": "mainland",
    "devices": ["mobile"],
    "goals": ["awareness", "engagement", "sales"],
    "languages": ["en", "zh_Hans"],
}
PLAN_AUTHOR = DEMO_PEOPLE[2]  # the community manager


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Save the demo plan once; a plan of that name already there is left as it is."""
    existing = db.scalar(
        select(Plan).where(Plan.workspace_id == workspace.id, Plan.name == DEMO_PLAN_NAME)
    )
    if existing is not None:
        return
    planner.create_plan(
        db,
        workspace=workspace,
        actor=accounts.get_user_by_email(db, email=PLAN_AUTHOR.email),
        name=DEMO_PLAN_NAME,
        brief=parse_brief(DEMO_PLAN_BRIEF),
    )
    db.flush()


DEMO = DemoStep(order=10, load=load_demo)
