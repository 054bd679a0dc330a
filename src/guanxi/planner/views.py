"""Planner pages: the brief form and saved plans."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Membership, Permission
from guanxi.catalog.models import DEVICE_LABELS, EDUCATION_LABELS, GOAL_LABELS
from guanxi.catalog.service import get_catalog
from guanxi.core import i18n
from guanxi.planner import service
from guanxi.planner.brief import (
    AGE_OLDEST,
    AGE_YOUNGEST,
    AUDIENCE_REGION_LABELS,
    CITY_TIER_LABELS,
    COUNTRY_MAX_LENGTH,
    LANGUAGE_LABELS,
    PLAN_NAME_MAX_LENGTH,
    InvalidBriefError,
)
from guanxi.planner.models import parse_plan_create
from guanxi.planner.scoring import GATE_LABELS
from guanxi.web.deps import (
    CurrentUser,
    Db,
    Member,
    Writer,
    client_ip,
    verify_csrf,
)
from guanxi.web.forms import SubmittedForm
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


# What a blank brief form starts with: the seed's typical young, urban, mainland audience.
FORM_DEFAULTS: dict[str, list[str]] = {
    "name": [""],
    "age_min": ["18"],
    "age_max": ["35"],
    "education": [""],
    "city_tiers": [],
    "region": ["mainland"],
    "country": [""],
    "devices": [],
    "goals": ["awareness"],
    "languages": [],
    "plan_date": [""],
}


def _choices() -> dict[str, dict[str, str]]:
    return {
        "region": {region.value: label for region, label in AUDIENCE_REGION_LABELS.items()},
        "education": {level.value: label for level, label in EDUCATION_LABELS.items()},
        "city_tiers": {str(tier): label for tier, label in CITY_TIER_LABELS.items()},
        "devices": {device.value: label for device, label in DEVICE_LABELS.items()},
        "goals": {goal.value: label for goal, label in GOAL_LABELS.items()},
        "languages": {lang.value: label for lang, label in LANGUAGE_LABELS.items()},
    }


def _plan_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    values: dict[str, list[str]] | None = None,
    errors: dict[str, list[str]] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    i18n.set_language(request.state.language)
    plans = service.list_plans(db, workspace=membership.workspace)
    return render(
        request,
        "planner/plan.html",
        {
            "section": "plan",
            "plans": [service.summarize_plan(plan) for plan in plans],
            "choices": _choices(),
            "values": {**FORM_DEFAULTS, **(values or {})},
            "errors": errors or {},
            "error": error,
            "can_write": membership.can(Permission.WRITE),
            "limits": {
                "age_youngest": AGE_YOUNGEST,
                "age_oldest": AGE_OLDEST,
                "name": PLAN_NAME_MAX_LENGTH,
                "country": COUNTRY_MAX_LENGTH,
            },
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/plan")
def plan_page(request: Request, db: Db, membership: Member) -> Response:
    """The brief form and the workspace's saved plans."""
    return _plan_page(request, db, membership)


@router.post("/w/{slug}/plan")
def plan_create(
    request: Request, db: Db, user: CurrentUser, membership: Writer, form: SubmittedForm
) -> Response:
    """Run the brief and save the plan; a bad brief shows the form again with its messages."""
    name = next(iter(form.get("name", [])), "")
    try:
        data = parse_plan_create({"name": name, "brief": service.brief_from_form(form)})
        plan = service.create_plan(
            db,
            workspace=membership.workspace,
            actor=user,
            name=data.name,
            brief=data.brief,
            ip=client_ip(request),
        )
    except InvalidBriefError as exc:
        db.rollback()  # nothing of a refused brief is kept
        i18n.set_language(request.state.language)
        return _plan_page(
            request,
            db,
            membership,
            values={**FORM_DEFAULTS, "city_tiers": [], "devices": [], "goals": [], **form},
            errors=exc.field_messages(i18n.gettext),
            error=exc.translated(i18n.gettext),
            status_code=400,
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/plans/{plan.id}", status_code=303)


@router.get("/w/{slug}/plans/{plan_id}")
def plan_detail(request: Request, db: Db, membership: Member, plan_id: int) -> Response:
    """A saved plan: the ranking with scores, reasons, warnings and language advice."""
    i18n.set_language(request.state.language)
    plan = service.get_plan(db, workspace=membership.workspace, plan_id=plan_id)
    catalog = get_catalog()
    read = service.present_plan(plan, catalog=catalog)
    return render(
        request,
        "planner/detail.html",
        {
            "section": "plan",
            "plan": read,
            "choices": _choices(),
            "gate_labels": {gate.value: label for gate, label in GATE_LABELS.items()},
            "in_catalog": {p.slug for p in catalog.platforms},
            "catalog_changed": read.catalog_version != catalog.version,
            "next_steps": service.next_steps(
                db,
                workspace=membership.workspace,
                ranking=read.ranking,
                can_write=membership.can(Permission.WRITE),
            ),
            "chart": {
                "names": [r.name for r in read.ranking],
                "scores": [r.score for r in read.ranking],
                "label": i18n.gettext("Score"),
            },
        },
    )
