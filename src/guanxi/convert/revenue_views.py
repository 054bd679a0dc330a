"""The revenue page: a period's orders credited to campaigns, posts, KOLs and platforms
under a chosen model and lookback window, the unattributed orders beside them, and every
model side by side (how much the answer depends on the model)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from guanxi.convert import incrementality, reports
from guanxi.convert.attribution.engine import LOOKBACK_DAYS
from guanxi.convert.attribution.weights import MODEL_LABELS, AttributionModel
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import UserError
from guanxi.web.deps import Db, Member, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

DEFAULT_DAYS = 30


EARLIEST = date(2000, 1, 1)  # no order guanxi holds is older; earlier dates are typing slips
LATEST = date(2100, 1, 1)


def _day(value: str | None, default: date) -> date:
    """The day a filter names, or ``default`` when it names none guanxi can use."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return default
    return day if EARLIEST <= day <= LATEST else default


@router.get("/w/{slug}/revenue")
def revenue_page(request: Request, membership: Member, db: Db) -> Response:
    """Revenue by campaign, post, KOL and platform; ``from``, ``to``, ``model`` and
    ``window`` in the query choose the period and the attribution."""
    workspace = membership.workspace
    today = utcnow().astimezone(ZoneInfo(workspace.timezone)).date()
    query = request.query_params
    last_day = _day(query.get("to"), today)
    first_day = _day(query.get("from"), last_day - timedelta(days=DEFAULT_DAYS - 1))
    model = (
        AttributionModel(query["model"])
        if query.get("model") in set(AttributionModel)
        else AttributionModel.LAST_TOUCH
    )
    # A window not offered (a hand-edited address) shows the default one, as a bad date does.
    asked = query.get("window", "")
    window = int(asked) if asked.isdecimal() and int(asked) in LOOKBACK_DAYS else 30
    context: dict[str, Any] = {
        "section": "convert",
        "page": "revenue",
        "first_day": first_day,
        "last_day": last_day,
        "model": model,
        "window": window,
        "models": MODEL_LABELS,
        "windows": LOOKBACK_DAYS,
        "error": None,
        "report": None,
        "compared": {},
    }
    try:
        compared = reports.compare_models(
            db,
            workspace_id=workspace.id,
            first_day=first_day,
            last_day=last_day,
            zone=workspace.timezone,
            window_days=window,
        )
    except UserError as exc:
        context["error"] = exc.translated(i18n.gettext)
        return render(request, "convert/revenue.html", context, status_code=400)
    context["report"] = compared[model]
    context["compared"] = compared
    context["incremental"] = incrementality.campaign_estimates(
        db,
        workspace_id=workspace.id,
        first_day=first_day,
        last_day=last_day,
        zone=workspace.timezone,
        today=today,
    )
    context["comparison"] = _comparison(compared)
    return render(request, "convert/revenue.html", context)


def _comparison(
    compared: dict[AttributionModel, reports.RevenueReport],
) -> list[tuple[str, dict[AttributionModel, float]]]:
    """Each campaign's revenue under every model (campaigns of any model, largest under
    last touch first)."""
    names: dict[str, str] = {}
    revenue: dict[str, dict[AttributionModel, float]] = {}
    for model, report in compared.items():
        for line in report.campaigns:
            names[line.key] = line.name
            revenue.setdefault(line.key, {})[model] = line.revenue
    order = sorted(
        revenue, key=lambda key: (key == "", -revenue[key].get(AttributionModel.LAST_TOUCH, 0))
    )
    return [(names[key], revenue[key]) for key in order]
