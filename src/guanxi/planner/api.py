"""``/api/v1/w/{slug}/plan`` for the planner: run a brief and save it, read saved plans."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from guanxi.core import i18n
from guanxi.planner import service
from guanxi.planner.brief import InvalidBriefError
from guanxi.planner.models import PlanCreate, PlanRead, PlanSummary, parse_plan_create
from guanxi.web.api import API_ROOT, ApiReader, ApiWriter, keep_former_paths, workspace_api
from guanxi.web.deps import Db, client_ip

router = workspace_api("plan", tags=["plans"])


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` written in place (for ``openapi_extra``)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                rest = {key: value for key, value in node.items() if key != "$ref"}
                return {**resolve(definitions[name]), **resolve(rest)}
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


# The body is validated by the brief's own rules (their 422 names each field of the brief
# to correct, in the token owner's language); the document still shows PlanCreate.
PLAN_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline_schema(PlanCreate)}},
    }
}


@router.get("/plans", response_model=list[PlanSummary])
def api_plans(request: Request, db: Db, membership: ApiReader) -> list[PlanSummary]:
    """The workspace's saved plans, newest first."""
    i18n.set_language(request.state.language)
    plans = service.list_plans(db, workspace=membership.workspace)
    return [service.summarize_plan(plan) for plan in plans]


@router.post("/plans", status_code=201, response_model=PlanRead, openapi_extra=PLAN_CREATE_BODY)
def api_create_plan(
    request: Request,
    db: Db,
    membership: ApiWriter,
    payload: Annotated[dict[str, Any], Body()],
) -> PlanRead | JSONResponse:
    """Run a brief and save it as a plan (editors and up); 422 lists what to correct."""
    i18n.set_language(request.state.language)
    try:
        data = parse_plan_create(payload)
        plan = service.create_plan(
            db,
            workspace=membership.workspace,
            actor=membership.user,
            name=data.name,
            brief=data.brief,
            ip=client_ip(request),
        )
    except InvalidBriefError as exc:
        db.rollback()
        errors = [
            {"field": field, "message": message}
            for field, messages in exc.field_messages(i18n.gettext).items()
            for message in messages
        ]
        return JSONResponse(
            {"detail": exc.translated(i18n.gettext), "errors": errors},
            status_code=exc.status_code,
        )
    db.commit()
    return service.present_plan(plan)


@router.get("/plans/{plan_id}", response_model=PlanRead)
def api_plan(request: Request, db: Db, membership: ApiReader, plan_id: int) -> PlanRead:
    """One saved plan with its ranking; 404 for another workspace's plan."""
    i18n.set_language(request.state.language)
    plan = service.get_plan(db, workspace=membership.workspace, plan_id=plan_id)
    return service.present_plan(plan)


keep_former_paths(router, former=API_ROOT)  # /api/v1/plans/...
