"""The revenue page: a period's orders credited to campaigns, posts, KOLs and platforms
under a chosen model and lookback window, the unattributed orders beside them, and every
model side by side (how much the answer depends on the model)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Membership, Permission
from guanxi.convert import defaults, incrementality, pages, reports
from guanxi.convert.attribution.engine import LOOKBACK_DAYS
from guanxi.convert.attribution.weights import MODEL_LABELS, AttributionModel
from guanxi.convert.orders.platform import REPORTS, reported_totals
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

DEFAULT_DAYS = 30
TOP_POSTS = 10  # the "by post" table's rows until the reader asks for every post


@router.get("/w/{slug}/revenue")
def revenue_page(request: Request, membership: Member, db: Db) -> Response:
    """Revenue, costs and ROAS by campaign, post, KOL and platform; ``from``, ``to``,
    ``model`` and ``window`` in the query choose the period and the attribution (the
    workspace's default window when none is named)."""
    return _revenue(request, membership, db)


@router.post("/w/{slug}/revenue/settings")
def save_settings(request: Request, membership: Writer, db: Db, form: SubmittedForm) -> Response:
    """Store the workspace's default lookback window and time-decay half-life."""
    window = form_value(form, "window_days")
    half_life = form_value(form, "half_life_days")
    try:
        defaults.save_defaults(
            db,
            workspace_id=membership.workspace_id,
            window_days=_whole_days(window),
            half_life_days=_whole_days(half_life),
        )
    except UserError as exc:
        db.rollback()
        return _revenue(
            request, membership, db, settings_error=exc.translated(i18n.gettext), status_code=400
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/revenue?saved=1", status_code=303)


def _whole_days(text: str) -> int:
    """A number of days typed in a form; a UserError when it is not a whole number."""
    if not text.isdecimal() or len(text) > 3:
        raise UserError(N_("Choose a window and type the half-life in whole days."))
    return int(text)


def _revenue(
    request: Request,
    membership: Membership,
    db: Db,
    *,
    settings_error: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    chosen = defaults.defaults_of(db, workspace_id=workspace.id)
    today = pages.today(membership)
    query = request.query_params
    first_day, last_day = pages.period(request, membership, days=DEFAULT_DAYS)
    model = (
        AttributionModel(query["model"])
        if query.get("model") in set(AttributionModel)
        else AttributionModel.LAST_TOUCH
    )
    # A window not offered (a hand-edited address) shows the default one, as a bad date does.
    asked = query.get("window", "")
    window = int(asked) if asked.isdecimal() and int(asked) in LOOKBACK_DAYS else chosen.window_days
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
        "defaults": chosen,
        "half_life_range": defaults.HALF_LIFE_DAYS,
        "settings_error": settings_error,
        "saved": request.query_params.get("saved") == "1",
        "can_write": membership.can(Permission.WRITE),
        "platform_reported": [],
        "paths": None,
        "top_posts": TOP_POSTS,
        "all_posts": query.get("posts") == "all",
        "all_posts_query": urlencode({**query, "posts": "all"}),
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
    context["platform_reported"] = reported_totals(
        db, workspace_id=workspace.id, first_day=first_day, last_day=last_day
    )
    context["report_labels"] = {report.source: report.name for report in REPORTS.values()}
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
    context["paths"] = reports.path_estimate(
        db,
        workspace_id=workspace.id,
        first_day=first_day,
        last_day=last_day,
        zone=workspace.timezone,
        window_days=window,
    )
    return render(request, "convert/revenue.html", context, status_code=status_code)


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
