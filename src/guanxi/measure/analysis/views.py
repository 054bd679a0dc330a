"""The analysis pages: content analysis, best time to post, top and bottom posts, and their
exports as CSV or XLSX.

Each page reads its filters from the query string (``start``, ``end``, ``account``
repeated), calls the service and renders; the charts draw from the same figures, embedded
in the page as JSON. Another workspace's pages and accounts answer 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from guanxi.accounts.models import Membership
from guanxi.channels.best_times import register_best_times
from guanxi.channels.service import list_channels
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.measure.analysis import flows, service
from guanxi.measure.analysis.exports import (
    Table,
    benchmark_table,
    best_time_table,
    campaigns_table,
    content_table,
    csv_bytes,
    top_table,
    xlsx_bytes,
)
from guanxi.measure.analysis.models import (
    BenchmarkRead,
    BestTimeRead,
    CampaignRollupRead,
    ContentAnalysisRead,
)
from guanxi.measure.definitions import RATE_BASIS_LABELS
from guanxi.web.deps import Db, Member, verify_csrf
from guanxi.web.rendering import render
from guanxi.web.zones import viewer_zone

router = APIRouter(dependencies=[Depends(verify_csrf)])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _speak(request: Request) -> None:
    """Translate into the request's language: the charts' labels and the exports' headers
    are translated here, before the page is rendered."""
    i18n.set_language(getattr(request.state, "language", "en"))


def filters_of(request: Request, membership: Membership) -> service.AnalysisFilters:
    """The page's filters from its query string."""
    params = request.query_params
    return service.analysis_filters(
        workspace=membership.workspace,
        start=params.get("start"),
        end=params.get("end"),
        accounts=params.getlist("account"),
    )


def _context(request: Request, membership: Membership, db: Db, page: str) -> dict[str, Any]:
    return {
        "section": "analytics",
        "page": page,
        "slug": membership.workspace.slug,
        "channels": list_channels(db, workspace=membership.workspace),
        "query_string": request.url.query,
        "weekday_labels": service.WEEKDAY_LABELS,
        "basis_labels": RATE_BASIS_LABELS,
    }


def _file(table: Table, membership: Membership, name: str, extension: str) -> Response:
    stem = f"{membership.workspace.slug}-{name}-{datetime.now(UTC).date().isoformat()}"
    disposition = {"Content-Disposition": f'attachment; filename="{stem}.{extension}"'}
    if extension == "csv":
        return Response(csv_bytes(table), media_type="text/csv; charset=utf-8", headers=disposition)
    if extension == "xlsx":
        return Response(xlsx_bytes(table), media_type=XLSX, headers=disposition)
    raise NotFoundError(N_("Exports are CSV or XLSX files."))


def _interval_charts(analysis: ContentAnalysisRead) -> list[dict[str, Any]]:
    """Each grouping's chart: the groups' mean rates and intervals against the average."""
    _ = i18n.gettext
    names = {
        "rate": _("Engagement rate"),
        "average": _("Average of all posts"),
        "posts": _("Posts"),
        "interval": _("95% interval"),
    }
    return [
        {
            "key": grouping.key,
            "labels": [_(g.label) if g.translatable else g.label for g in grouping.groups],
            "mean": [g.engagement_rate.mean for g in grouping.groups],
            "low": [g.engagement_rate.low for g in grouping.groups],
            "high": [g.engagement_rate.high for g in grouping.groups],
            "posts": [g.posts for g in grouping.groups],
            "average": analysis.overall.engagement_rate.mean,
            "names": names,
        }
        for grouping in analysis.groupings
    ]


def _heatmap(found: BestTimeRead) -> dict[str, Any]:
    """The heatmap's cells: [hour, weekday, effect in %, posts] where known, and the hours
    with too few posts, to draw grey."""
    _ = i18n.gettext
    return {
        "days": [_(label) for label in service.WEEKDAY_LABELS],
        "hours": [f"{hour:02d}" for hour in range(24)],
        "known": [
            [s.hour, s.weekday, round((s.effect or 0.0) * 100, 1), s.posts]
            for s in found.slots
            if s.effect is not None
        ],
        "thin": [[s.hour, s.weekday, s.posts] for s in found.slots if s.effect is None and s.posts],
        "names": {
            "effect": _("Change in engagement rate (%)"),
            "posts": _("Posts"),
            "too_few": _("Too few posts to tell"),
        },
    }


@router.get("/w/{slug}/analytics/content")
def content_page(request: Request, membership: Member, db: Db) -> Response:
    """Performance by format, length, hashtags, hour and weekday, with 95% intervals."""
    _speak(request)
    filters = filters_of(request, membership)
    analysis = service.content_analysis(
        db,
        workspace=membership.workspace,
        start=filters.start,
        end=filters.end,
        channel_ids=filters.accounts,
    )
    context = _context(request, membership, db, "content")
    context.update(filters=filters, analysis=analysis, charts=_interval_charts(analysis))
    return render(request, "measure/analysis/content.html", context)


@router.get("/w/{slug}/analytics/content/export.{extension}")
def content_export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The content analysis's table as CSV or XLSX."""
    _speak(request)
    filters = filters_of(request, membership)
    analysis = service.content_analysis(
        db,
        workspace=membership.workspace,
        start=filters.start,
        end=filters.end,
        channel_ids=filters.accounts,
    )
    return _file(content_table(analysis, i18n.gettext), membership, "content", extension)


def _best_time(request: Request, membership: Member, db: Db) -> BestTimeRead | None:
    """The chosen account's best times (the first account when none is chosen)."""
    filters = filters_of(request, membership)
    chosen = request.query_params.get("account")
    channel_id = parse_id(chosen) if chosen else None
    if channel_id is None:
        channels = list_channels(db, workspace=membership.workspace)
        if not channels:
            return None
        channel_id = channels[0].id
    return service.best_time(
        db,
        workspace=membership.workspace,
        channel_id=channel_id,
        start=filters.start,
        end=filters.end,
    )


@router.get("/w/{slug}/analytics/best-time")
def best_time_page(request: Request, membership: Member, db: Db) -> Response:
    """One account's hour-of-week heatmap, with counts, and its better hours."""
    _speak(request)
    context = _context(request, membership, db, "best-time")
    found = _best_time(request, membership, db)
    filters = filters_of(request, membership)
    if found is not None and not filters.channel_ids:  # the account shown is the one chosen
        filters = service.AnalysisFilters(filters.start, filters.end, (found.channel_id,))
    context.update(
        filters=filters, found=found, heatmap=_heatmap(found) if found and found.enough else None
    )
    return render(request, "measure/analysis/best_time.html", context)


@router.get("/w/{slug}/analytics/best-time/export.{extension}")
def best_time_export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The heatmap's table as CSV or XLSX."""
    _speak(request)
    found = _best_time(request, membership, db)
    if found is None:
        raise UserError(N_("Connect an account first: there is nothing to export."))
    table = best_time_table(found, i18n.gettext, service.WEEKDAY_LABELS)
    return _file(table, membership, "best-time", extension)


@router.get("/w/{slug}/analytics/top")
def top_page(request: Request, membership: Member, db: Db) -> Response:
    """The period's best and worst posts, by engagement rate and by views."""
    filters = filters_of(request, membership)
    found = service.top_posts(
        db,
        workspace=membership.workspace,
        start=filters.start,
        end=filters.end,
        channel_ids=filters.accounts,
    )
    context = _context(request, membership, db, "top")
    zone, _source = viewer_zone(request, membership.workspace.timezone)
    context.update(filters=filters, found=found, zone=zone)
    return render(request, "measure/analysis/top.html", context)


@router.get("/w/{slug}/analytics/top/export.{extension}")
def top_export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The four lists as CSV or XLSX."""
    _speak(request)
    filters = filters_of(request, membership)
    found = service.top_posts(
        db,
        workspace=membership.workspace,
        start=filters.start,
        end=filters.end,
        channel_ids=filters.accounts,
    )
    zone = viewer_zone(request, membership.workspace.timezone)[0]
    return _file(top_table(found, i18n.gettext, zone), membership, "top-posts", extension)


def _lift_chart(rollups: list[CampaignRollupRead]) -> dict[str, Any]:
    """The campaigns' lift of engagements per post, with intervals, against "no lift"."""
    _ = i18n.gettext
    shown = [r for r in rollups if r.engagements_lift.lift is not None]
    return {
        "key": "campaigns",
        "labels": [r.name for r in shown],
        "mean": [r.engagements_lift.lift for r in shown],
        "low": [r.engagements_lift.low for r in shown],
        "high": [r.engagements_lift.high for r in shown],
        "posts": [r.posts for r in shown],
        "average": 0.0,
        "signed": True,
        "names": {
            "rate": _("Lift of engagements per post"),
            "average": _("No lift"),
            "posts": _("Posts"),
            "interval": _("95% interval"),
        },
    }


@router.get("/w/{slug}/analytics/campaigns")
def campaigns_page(request: Request, membership: Member, db: Db) -> Response:
    """Each campaign's posts against the same accounts' other posts over its days."""
    _speak(request)
    rollups = flows.campaign_rollups(db, workspace=membership.workspace)
    context = _context(request, membership, db, "campaigns")
    context.update(rollups=rollups, chart=_lift_chart(rollups))
    return render(request, "measure/analysis/campaigns.html", context)


@router.get("/w/{slug}/analytics/campaigns/export.{extension}")
def campaigns_export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The campaigns' roll-ups as CSV or XLSX."""
    _speak(request)
    rollups = flows.campaign_rollups(db, workspace=membership.workspace)
    return _file(campaigns_table(rollups, i18n.gettext), membership, "campaigns", extension)


def _share_chart(found: BenchmarkRead) -> dict[str, Any]:
    """Each account's share of the period's engagement, the brand's accounts marked."""
    _ = i18n.gettext
    return {
        "labels": [row.name for row in found.rows],
        "values": [row.share_of_engagement or 0.0 for row in found.rows],
        "own": [row.own for row in found.rows],
        "names": {
            "value": _("Share of engagement"),
            "own": _("Our account"),
            "competitor": _("Competitor"),
        },
    }


@router.get("/w/{slug}/analytics/benchmark")
def benchmark_page(request: Request, membership: Member, db: Db) -> Response:
    """The brand's accounts beside the competitors listening tracks."""
    _speak(request)
    filters = filters_of(request, membership)
    found = flows.benchmark(
        db, workspace=membership.workspace, start=filters.start, end=filters.end
    )
    context = _context(request, membership, db, "benchmark")
    context.update(filters=filters, found=found, chart=_share_chart(found))
    return render(request, "measure/analysis/benchmark.html", context)


@router.get("/w/{slug}/analytics/benchmark/export.{extension}")
def benchmark_export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The benchmark's table as CSV or XLSX."""
    _speak(request)
    filters = filters_of(request, membership)
    found = flows.benchmark(
        db, workspace=membership.workspace, start=filters.start, end=filters.end
    )
    return _file(benchmark_table(found, i18n.gettext), membership, "benchmark", extension)


def set_up(app: FastAPI) -> None:
    """The composer's scheduler asks analytics for an account's best times."""
    register_best_times(service.suggested_times)
