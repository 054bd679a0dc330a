"""Catalog pages (``/catalog``): look up, filter, render."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from guanxi.catalog import service
from guanxi.catalog.models import (
    ACCESS_LABELS,
    API_LEVEL_LABELS,
    API_USE_LABELS,
    DEVICE_LABELS,
    EDUCATION_LABELS,
    GOAL_LABELS,
    KIND_LABELS,
    METRIC_LABELS,
    ORIGIN_LABELS,
    REGION_LABELS,
    STATUS_LABELS,
    Catalog,
    Origin,
    Platform,
    PlatformKind,
    PlatformStatus,
    Region,
)
from guanxi.core import i18n
from guanxi.web.deps import CurrentUser, verify_csrf
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

# Every enum label the templates show, translated there with _().
LABELS: dict[str, dict[Any, str]] = {
    "kind": KIND_LABELS,
    "status": STATUS_LABELS,
    "origin": ORIGIN_LABELS,
    "region": REGION_LABELS,
    "access": ACCESS_LABELS,
    "goal": GOAL_LABELS,
    "metric": METRIC_LABELS,
    "education": EDUCATION_LABELS,
    "device": DEVICE_LABELS,
    "api_level": API_LEVEL_LABELS,
    "api_use": API_USE_LABELS,
}


@router.get("/catalog")
def catalog_page(
    request: Request,
    user: CurrentUser,
    kind: QueryField = "",
    status: QueryField = "",
    origin: QueryField = "",
    region: QueryField = "",
    on: QueryField = "",
    q: QueryField = "",
) -> Response:
    """Every platform, narrowed by the filters in the query string; HTMX gets the table only."""
    catalog = service.get_catalog()
    error = None
    try:
        filters = service.parse_filters(
            kind=kind, status=status, origin=origin, region=region, on=on, query=q
        )
    except service.InvalidFilterError as exc:
        i18n.set_language(request.state.language)
        error = exc.translated(i18n.gettext)
        filters = service.PlatformFilters()
    day = filters.on or service.today()
    context = {
        "section": "catalog",
        "platforms": service.search_platforms(catalog, filters),
        "total": len(catalog.platforms),
        "form": {
            "kind": kind,
            "status": status,
            "origin": origin,
            "region": region,
            "on": on,
            "q": q,
        },
        "region": filters.region or Region.MAINLAND,
        "day": day,
        "error": error,
        "labels": LABELS,
        "choices": {
            "kind": list(PlatformKind),
            "status": list(PlatformStatus),
            "origin": list(Origin),
            "region": list(Region),
        },
        "internet_users": catalog.internet_users,
        "sources": catalog.sources,
    }
    template = "catalog/_results.html" if request.headers.get("hx-request") else "catalog/list.html"
    return render(request, template, context, status_code=400 if error else 200)


@router.get("/catalog/{platform_slug}")
def platform_page(request: Request, user: CurrentUser, platform_slug: str) -> Response:
    """Everything the catalog knows about one platform, with its figures charted over time."""
    catalog = service.get_catalog()
    platform = service.get_platform(catalog, platform_slug)
    i18n.set_language(request.state.language)
    today = service.today()
    context = {
        "section": "catalog",
        "platform": platform,
        "sources": catalog.sources,
        "cited": [catalog.sources[source] for source in platform.cited_sources()],
        "merged_into": {
            change.into: catalog.get(change.into) for change in platform.history if change.into
        },
        "absorbed": _absorbed(catalog, platform),
        "reach_now": {region: platform.reach_on(region, today) for region in Region},
        "today": today,
        "chart": _chart(platform),
        "labels": LABELS,
    }
    return render(request, "catalog/detail.html", context)


def _absorbed(catalog: Catalog, platform: Platform) -> list[Platform]:
    """The platforms that merged into ``platform``."""
    return [
        other
        for other in catalog.platforms
        if any(change.into == platform.slug for change in other.history)
    ]


def _chart(platform: Platform) -> dict[str, Any]:
    """The ECharts series: one per metric, so different counts never share a line."""
    return {
        "series": [
            {
                "name": i18n.gettext(METRIC_LABELS[metric]),
                "data": [[figure.as_of.isoformat(), figure.value] for figure in figures],
            }
            for metric, figures in platform.figures_by_metric().items()
        ],
        "language": i18n.current_language(),
    }


def set_up(app: FastAPI) -> None:
    """Templates name a platform by its slug: ``{{ slug|platform }}``."""
    app.state.templates.env.filters["platform"] = service.platform_name
