"""Running briefs and keeping plans: what the pages, the API and the CLI call.

A saved plan keeps its brief (with the plan date filled in), the ranking it produced and the
catalog version: figures change, a saved plan does not. Its explanations are translated
only when read, so the same plan reads in English or Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.catalog.models import Catalog
from guanxi.catalog.service import get_catalog
from guanxi.channels.service import list_channels
from guanxi.core import i18n
from guanxi.core.errors import N_, NotFoundError
from guanxi.planner.brief import (
    Brief,
    BriefProblem,
    InvalidBriefError,
    parse_brief,
)
from guanxi.planner.explain import Explanation, explain
from guanxi.planner.language import LanguageAdvice, advise_language
from guanxi.planner.models import (
    ExplanationRead,
    LanguageAdviceRead,
    Plan,
    PlanRead,
    PlanSummary,
    RecommendationRead,
    parse_plan_create,
)
from guanxi.planner.scoring import Gate, PlanResult, Recommendation, make_plan

# How many of the best usable platforms a plan's summary names.
SUMMARY_TOP = 3

# Fields of the brief that hold several values (checkboxes, repeated or comma-separated).
LIST_FIELDS = ("city_tiers", "devices", "goals", "languages")
SCALAR_FIELDS = ("age_min", "age_max", "education", "region", "country", "plan_date")


def today_in(timezone: str) -> date:
    """Today's date in ``timezone``: a plan made in Shanghai at 1 a.m. is dated there."""
    return datetime.now(ZoneInfo(timezone)).date()


def run_brief(brief: Brief, *, today: date, catalog: Catalog | None = None) -> PlanResult:
    """Rank the catalog's platforms for ``brief`` (on its plan date, or ``today``)."""
    return make_plan(brief, catalog or get_catalog(), today=today)


# --- raw input -------------------------------------------------------------------------


def brief_from_form(form: Mapping[str, list[str]]) -> dict[str, object]:
    """The raw brief in a submitted form: empty fields left out, lists kept whole."""
    raw: dict[str, object] = {}
    for field in SCALAR_FIELDS:
        value = next((v.strip() for v in form.get(field, []) if v.strip()), "")
        if value:
            raw[field] = value
    for field in LIST_FIELDS:
        raw[field] = [v.strip() for v in form.get(field, []) if v.strip()]
    return raw


def split_values(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated command-line values as one list: ``-g a,b -g c``."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def brief_from_options(
    *,
    region: str,
    age: str,
    education: str | None = None,
    tiers: list[str] | None = None,
    goals: list[str] | None = None,
    languages: list[str] | None = None,
    devices: list[str] | None = None,
    country: str | None = None,
    plan_date: str | None = None,
) -> Brief:
    """A brief from command-line text (``--age 18-30 --tiers 1,2``); InvalidBriefError if bad."""
    low, separator, high = age.partition("-")
    if not separator or not low.strip().isdecimal() or not high.strip().isdecimal():
        raise InvalidBriefError(
            [
                BriefProblem(
                    field="age",
                    message=N_(
                        "Give the age range as two whole numbers joined by '-', e.g. 18-30."
                    ),
                )
            ]
        )
    raw: dict[str, object] = {
        "region": region,
        "age_min": int(low),
        "age_max": int(high),
        "city_tiers": split_values(tiers),
        "goals": split_values(goals),
        "languages": split_values(languages),
        "devices": split_values(devices),
    }
    optional = {"education": education, "country": country, "plan_date": plan_date}
    raw.update({key: value for key, value in optional.items() if value})
    return parse_brief(raw)


# --- saved plans -----------------------------------------------------------------------


def create_plan(
    db: Session,
    *,
    workspace: Workspace,
    actor: User | None,
    name: str,
    brief: Brief,
    catalog: Catalog | None = None,
    today: date | None = None,
    ip: str | None = None,
    actor_label: str | None = None,
) -> Plan:
    """Run ``brief`` and save the result in ``workspace`` under ``name``, audited.

    The caller checks the actor may write; InvalidBriefError when the name is not valid.
    """
    data = parse_plan_create({"name": name, "brief": brief})
    result = run_brief(data.brief, today=today or today_in(workspace.timezone), catalog=catalog)
    # The plan date is written into the saved brief: re-reading it later gives the same plan.
    saved_brief = data.brief.model_copy(update={"plan_date": result.plan_date})
    plan = Plan(
        workspace_id=workspace.id,
        created_by_id=actor.id if actor else None,
        name=data.name,
        brief=saved_brief.model_dump(mode="json"),
        recommendations=[r.model_dump(mode="json") for r in result.ranking],
        catalog_version=result.catalog_version,
    )
    db.add(plan)
    db.flush()
    record_audit(
        db,
        actor=actor,
        actor_label=actor_label,
        workspace=workspace,
        action="plan.create",
        entity_type="plan",
        entity_id=plan.id,
        after={
            "name": plan.name,
            "brief": plan.brief,
            "catalog_version": plan.catalog_version,
            "top": [r.slug for r in result.ranking[:SUMMARY_TOP]],
        },
        ip=ip,
    )
    return plan


def list_plans(db: Session, *, workspace: Workspace) -> list[Plan]:
    """The workspace's plans, newest first."""
    query = (
        select(Plan)
        .where(Plan.workspace_id == workspace.id)
        .order_by(Plan.created_at.desc(), Plan.id.desc())
    )
    return list(db.scalars(query))


def get_plan(db: Session, *, workspace: Workspace, plan_id: int) -> Plan:
    """The plan ``plan_id`` of ``workspace``; NotFoundError for any other workspace's."""
    plan = db.scalar(select(Plan).where(Plan.id == plan_id, Plan.workspace_id == workspace.id))
    if plan is None:
        # The same answer whether the plan exists elsewhere or not: no probing.
        raise NotFoundError(N_("No such plan in this workspace. Pick one from the list of plans."))
    return plan


# --- reading plans in the reader's language ----------------------------------------------


def present_explanation(explanation: Explanation, *, catalog: Catalog) -> ExplanationRead:
    """The explanation with its text in the current language."""
    return ExplanationRead(
        id=explanation.id,
        params=explanation.params,
        text=explain(explanation, catalog=catalog),
    )


def present_recommendation(
    recommendation: Recommendation, *, catalog: Catalog
) -> RecommendationRead:
    """A ranked platform with its name and explanations in the current language."""
    language = i18n.current_language()

    def texts(explanations: list[Explanation]) -> list[ExplanationRead]:
        return [present_explanation(e, catalog=catalog) for e in explanations]

    return RecommendationRead(
        rank=recommendation.rank,
        slug=recommendation.slug,
        name=recommendation.name_zh if language == "zh_Hans" else recommendation.name_en,
        name_en=recommendation.name_en,
        name_zh=recommendation.name_zh,
        score=recommendation.score,
        gate=recommendation.gate,
        components=recommendation.components,
        reasons=texts(recommendation.reasons),
        warnings=texts(recommendation.warnings),
        language=present_explanation(recommendation.language, catalog=catalog),
    )


def present_language_advice(
    advice: LanguageAdvice, *, catalog: Catalog | None = None
) -> LanguageAdviceRead:
    """The language advice in the current language."""
    catalog = catalog or get_catalog()
    return LanguageAdviceRead(
        recommended=advice.recommended,
        advice=[present_explanation(e, catalog=catalog) for e in advice.advice],
        warnings=[present_explanation(e, catalog=catalog) for e in advice.warnings],
    )


def plan_brief(plan: Plan) -> Brief:
    """The saved brief."""
    return Brief.model_validate(plan.brief)


def plan_ranking(plan: Plan) -> list[Recommendation]:
    """The saved ranking, best first."""
    return [Recommendation.model_validate(item) for item in plan.recommendations]


def _top_names(ranking: list[Recommendation]) -> list[str]:
    language = i18n.current_language()
    usable = [r for r in ranking if r.gate is Gate.OPEN][:SUMMARY_TOP]
    return [r.name_zh if language == "zh_Hans" else r.name_en for r in usable]


def summarize_plan(plan: Plan) -> PlanSummary:
    """The plan as the list shows it."""
    brief = plan_brief(plan)
    return PlanSummary(
        id=plan.id,
        name=plan.name,
        created_at=plan.created_at,
        plan_date=brief.plan_date or plan.created_at.date(),
        region=brief.region,
        goals=brief.goals,
        catalog_version=plan.catalog_version,
        top=_top_names(plan_ranking(plan)),
    )


def present_plan(plan: Plan, *, catalog: Catalog | None = None) -> PlanRead:
    """The whole plan, explained in the current language."""
    catalog = catalog or get_catalog()
    brief = plan_brief(plan)
    ranking = plan_ranking(plan)
    # Language advice depends on the brief alone, so it is derived again rather than stored.
    return PlanRead(
        **summarize_plan(plan).model_dump(),
        brief=brief,
        language_advice=present_language_advice(advise_language(brief), catalog=catalog),
        ranking=[present_recommendation(r, catalog=catalog) for r in ranking],
    )


def present_result(
    result: PlanResult, *, catalog: Catalog | None = None
) -> list[RecommendationRead]:
    """An unsaved plan's ranking, explained in the current language (the CLI prints it)."""
    catalog = catalog or get_catalog()
    return [present_recommendation(r, catalog=catalog) for r in result.ranking]


@dataclass(frozen=True)
class NextStep:
    """What to do next about one ranked platform: its words and where it leads."""

    kind: str  # "connect" or "write"
    label: str  # in the reader's language
    href: str


def next_steps(
    db: Session, *, workspace: Workspace, ranking: list[RecommendationRead], can_write: bool
) -> dict[str, NextStep]:
    """Per platform slug, the next step: write a post where an account is connected, else
    connect one. Platforms that are not open get none (nothing to publish there), and a
    reader who may not write gets none either (both pages would refuse them)."""
    if not can_write:
        return {}
    connected = {channel.platform for channel in list_channels(db, workspace=workspace)}
    base = f"/w/{workspace.slug}"
    steps = {}
    for item in ranking:
        if item.gate is not Gate.OPEN:
            continue
        if item.slug in connected:
            steps[item.slug] = NextStep(
                "write", i18n.gettext("Write a post"), f"{base}/publish/new"
            )
        else:
            label = i18n.gettext("Connect an account")
            steps[item.slug] = NextStep("connect", label, f"{base}/channels")
    return steps
