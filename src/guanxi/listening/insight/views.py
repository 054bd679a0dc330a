"""The dashboard: its page, the drill-down list (an HTMX fragment), and the exports.

The page lives at ``/w/{slug}/listen/dashboard``; its charts read their panels from the
listening API (``listening/api.py``) with the session cookie. Every route looks the
workspace up through the membership: another workspace's answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from guanxi.core import i18n
from guanxi.core.errors import N_, NotFoundError
from guanxi.listening.insight import service as dashboards
from guanxi.listening.insight.exports import csv_chunks, xlsx_file
from guanxi.listening.mentions.retention import KIND as RETAINED
from guanxi.listening.topics import service as topics
from guanxi.retention.service import detail_kept_from
from guanxi.web.charts import echarts_option
from guanxi.web.deps import Db, Member, verify_csrf
from guanxi.web.rendering import render
from guanxi.web.zones import viewer_zone

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _labels() -> dict[str, Any]:
    return {
        "sentiment_labels": dashboards.SENTIMENT_LABELS,
        "kind_labels": dashboards.SOURCE_KIND_LABELS,
        "stage_labels": dashboards.STAGE_LABELS,
    }


@router.get("/w/{slug}/listen/dashboard")
def dashboard_page(request: Request, membership: Member, db: Db) -> Response:
    """Filters, one chart per panel (filled from the JSON API), and the drill-down list."""
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    workspace_id = membership.workspace_id
    kinds, total = dashboards.source_kinds_and_total(db, workspace_id=workspace_id, filters=filters)
    context = {
        "section": "listen",
        "slug": membership.workspace.slug,
        "filters": filters,
        "topics": topics.list_topics(db, workspace_id=workspace_id),
        "query_string": request.url.query,
        "total": total,
        "drill": dashboards.drill_down(db, workspace_id=workspace_id, filters=filters),
        "detail_kept_from": detail_kept_from(db, workspace_id=workspace_id, kind=RETAINED),
        # Drawn from the page (the report's chart, by the same function), not from the API.
        "source_kinds": {
            "option": echarts_option(dashboards.source_kinds_chart(kinds), i18n.current_language()),
            "kinds": [item["key"] for item in kinds["items"]],
        },
        **_labels(),
    }
    return render(request, "listen/insight/dashboard.html", context)


@router.get("/w/{slug}/listen/dashboard/posts")
def drill_down_fragment(request: Request, membership: Member, db: Db, page: int = 1) -> Response:
    """One page of the drill-down list (HTMX swaps it in)."""
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    drill = dashboards.drill_down(
        db, workspace_id=membership.workspace_id, filters=filters, page=page
    )
    query = "&".join(part for part in request.url.query.split("&") if not part.startswith("page="))
    context = {
        "slug": membership.workspace.slug,
        "drill": drill,
        "query_string": query,
        **_labels(),
    }
    return render(request, "listen/insight/_posts.html", context)


@router.get("/w/{slug}/listen/dashboard/export.{extension}")
def export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The filtered mentions as CSV or XLSX."""
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    name = f"{membership.workspace.slug}-mentions-{datetime.now(UTC).date().isoformat()}"
    zone = viewer_zone(request, membership.workspace.timezone)[0]
    if extension == "csv":
        body = b"".join(
            csv_chunks(db, workspace_id=membership.workspace_id, filters=filters, zone=zone)
        )
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if extension == "xlsx":
        body = xlsx_file(
            db,
            workspace_id=membership.workspace_id,
            filters=filters,
            zone=zone,
            title=i18n.gettext,
        )
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    raise NotFoundError(N_("Exports are CSV or XLSX files."))
