"""The custom metrics page: the workspace's own metrics, a form to define one (its name in
English and Chinese and a formula over the base metrics), a preview of the formula on the
last 30 days before it is saved, and deleting one.

Any member sees the metrics and previews a formula; editors and up define and delete them.
A formula that cannot be read is shown with the column of the problem, marked under it.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from guanxi.accounts.models import Membership, Permission
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.measure import custom_metrics
from guanxi.measure.definitions import BASE_DEFINITIONS, ENGAGEMENTS_DEFINITION
from guanxi.measure.formulas import FormulaError
from guanxi.measure.models import METRIC_DISPLAY_LABELS, CustomMetricCreate, MetricDisplay
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
FIELDS = ("name", "name_zh", "formula", "display", "unit", "description")


def _today(membership: Membership) -> date:
    return utcnow().astimezone(ZoneInfo(membership.workspace.timezone)).date()


def _form(values: dict[str, str]) -> CustomMetricCreate:
    """The posted form as a metric; a UserError saying which field to fix."""
    try:
        return CustomMetricCreate(
            name=values["name"],
            name_zh=values["name_zh"],
            formula=values["formula"],
            display=MetricDisplay(values["display"] or MetricDisplay.NUMBER),
            unit=values["unit"],
            description=values["description"],
        )
    except (ValidationError, ValueError):
        raise UserError(
            N_(
                "Give the metric a name (up to 60 characters) and a formula (up to 200), "
                "and choose how its value is written."
            )
        ) from None


def _error(exc: UserError) -> dict[str, Any]:
    """An error for the template: its text, and the formula's column when it has one."""
    column = exc.column if isinstance(exc, FormulaError) else None
    return {"text": exc.translated(i18n.gettext), "column": column}


def _page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    values: dict[str, str] | None = None,
    error: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    workspace = membership.workspace
    context = {
        "section": "analytics",
        "slug": workspace.slug,
        "page": "metrics",
        "metrics": custom_metrics.list_custom_metrics(db, workspace=workspace),
        "label": lambda metric: custom_metrics.label(metric, i18n.current_language()),
        "names": [*BASE_DEFINITIONS.values(), ENGAGEMENTS_DEFINITION],
        "display_labels": METRIC_DISPLAY_LABELS,
        "can_write": membership.can(Permission.WRITE),
        "values": values or {"display": MetricDisplay.NUMBER.value},
        "error": error,
        "saved": request.query_params.get("saved") == "1",
        "deleted": request.query_params.get("deleted") == "1",
    }
    return render(request, "measure/metrics.html", context, status_code=status)


@router.get("/w/{slug}/analytics/metrics")
def metrics_page(request: Request, db: Db, membership: Member) -> Response:
    """The workspace's custom metrics and the form to define one."""
    return _page(request, db, membership)


async def _values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(form.get(key, "")).strip() for key in FIELDS}


@router.post("/w/{slug}/analytics/metrics/preview")
async def preview_metric(request: Request, db: Db, membership: Member) -> Response:
    """The formula computed on the last 30 days (htmx), or where it cannot be read."""
    values = await _values(request)
    context: dict[str, Any] = {
        "display": values["display"],
        "slug": membership.workspace.slug,
        "error": None,
        "preview": None,
    }
    try:
        context["preview"] = custom_metrics.preview(
            db, workspace=membership.workspace, formula=values["formula"], today=_today(membership)
        )
    except UserError as exc:
        context["error"] = _error(exc)
        context["formula"] = values["formula"]
    return render(request, "measure/_metric_preview.html", context)


@router.post("/w/{slug}/analytics/metrics")
async def create_metric(request: Request, slug: str, db: Db, membership: Writer) -> Response:
    """Define the metric; the form again with the error when it cannot be."""
    values = await _values(request)
    try:
        custom_metrics.create_custom_metric(
            db, workspace=membership.workspace, data=_form(values), actor=membership.user
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        return _page(request, db, membership, values=values, error=_error(exc), status=400)
    return RedirectResponse(f"/w/{slug}/analytics/metrics?saved=1", status_code=303)


@router.post("/w/{slug}/analytics/metrics/{metric_id}/delete")
def delete_metric(slug: str, metric_id: int, db: Db, membership: Writer) -> Response:
    """Remove one of the workspace's metrics."""
    custom_metrics.delete_custom_metric(
        db, workspace=membership.workspace, metric_id=metric_id, actor=membership.user
    )
    db.commit()
    return RedirectResponse(f"/w/{slug}/analytics/metrics?deleted=1", status_code=303)
