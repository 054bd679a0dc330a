"""The analytics pages: the overview across platforms, an account, the posts and a post.

Every route looks the workspace up through the membership (another workspace's pages are
404s) and only reads: any member may see them. The period is a preset (``days``) or a
custom ``start``..``end``, kept in every link; each chart has its table below it and the
table's CSV and XLSX downloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from guanxi.accounts.models import Membership
from guanxi.connectors.metrics import Metric
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.measure import (
    curves,
    custom_metrics,
    flows,
    listing,
    overview,
    service,
    sources,
    status,
)
from guanxi.measure.definitions import (
    BASE_DEFINITIONS,
    ENGAGEMENT_RATE_DEFINITION,
    ENGAGEMENTS_DEFINITION,
    NET_FOLLOWER_GROWTH_DEFINITION,
    RATE_BASIS_LABELS,
)
from guanxi.measure.models import POST_FORMAT_LABELS, FiguresKind
from guanxi.measure.overview import Period
from guanxi.web.deps import Db, Member, verify_csrf
from guanxi.web.exports import iso_time, table_download, time_column
from guanxi.web.rendering import render
from guanxi.web.zones import viewer_zone

router = APIRouter(dependencies=[Depends(verify_csrf)])

FIGURES_KIND_LABELS: dict[FiguresKind, str] = {
    FiguresKind.ACCOUNT: N_("Account figures"),
    FiguresKind.POSTS: N_("Post figures"),
}


def page_period(request: Request, membership: Membership) -> Period:
    """The period the address asks for (``days``, or ``start`` and ``end``)."""
    return overview.period_from_query(membership.workspace, request.query_params, now=utcnow())


def _context(request: Request, membership: Membership, period: Period) -> dict[str, Any]:
    zone, _source = viewer_zone(request, membership.workspace.timezone)
    return {
        "section": "analytics",
        "slug": membership.workspace.slug,
        "period": period,
        "presets": overview.PRESET_DAYS,
        "viewer_zone": zone,
        "rate_basis_labels": RATE_BASIS_LABELS,
        "definitions": _definitions(),
        "format_labels": POST_FORMAT_LABELS,
    }


def _definitions() -> dict[str, Any]:
    named = {d.key: d for d in BASE_DEFINITIONS.values()}
    for definition in (
        ENGAGEMENTS_DEFINITION,
        ENGAGEMENT_RATE_DEFINITION,
        NET_FOLLOWER_GROWTH_DEFINITION,
    ):
        named[definition.key] = definition
    return named


def _explain(message: str, params: dict[str, Any]) -> str:
    """A stored message id (a collection's error, a missing range's reason) in the viewer's
    language, with its parameters."""
    text = i18n.gettext(message)
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):  # a translation naming other parameters
        return message


def _name(membership: Membership, what: str, period: Period) -> str:
    return f"{membership.workspace.slug}-{what}-{period.start.isoformat()}-{period.end.isoformat()}"


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 3)


# --- The overview ------------------------------------------------------------------------


@router.get("/w/{slug}/analytics")
def overview_page(request: Request, membership: Member, db: Db) -> Response:
    """The period's followers, views, engagements and engagement rate across platforms."""
    period = page_period(request, membership)
    found = overview.overview(db, workspace=membership.workspace, period=period)
    context = _context(request, membership, period) | {"overview": found}
    return render(request, "measure/overview.html", context)


@router.get("/w/{slug}/analytics/export.{extension}")
def overview_export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The overview's tables as a file: ``table=trend`` (day by day) or the accounts."""
    period = page_period(request, membership)
    found = overview.overview(db, workspace=membership.workspace, period=period)
    if request.query_params.get("table") == "trend":
        trend = found.trend
        columns: Sequence[str] = (
            "day",
            "followers",
            "views",
            "engagements",
            "engagement_rate_percent",
        )
        rows: list[Sequence[object]] = [
            (
                day.isoformat(),
                trend.followers[n],
                trend.views[n],
                trend.engagements[n],
                _percent(trend.engagement_rate[n]),
            )
            for n, day in enumerate(trend.days)
        ]
        what = "analytics-trend"
    else:
        columns = (
            "platform",
            "account",
            "posts",
            "followers",
            "net_follower_growth",
            "views",
            "engagements",
            "engagement_rate_percent",
            "engagement_rate_basis",
            "previous_followers",
            "previous_views",
            "previous_engagements",
        )
        rows = [
            (
                row.platform,
                row.label,
                row.current.posts,
                row.current.followers,
                row.current.net_follower_growth,
                row.current.views,
                row.current.engagements,
                _percent(row.current.engagement_rate.value)
                if row.current.engagement_rate
                else None,
                row.current.engagement_rate.basis.value if row.current.engagement_rate else None,
                row.previous.followers,
                row.previous.views,
                row.previous.engagements,
            )
            for row in found.accounts
        ]
        what = "analytics-accounts"
    return table_download(
        name=_name(membership, what, period),
        extension=extension,
        sheet=i18n.gettext(N_("Analytics")),
        columns=columns,
        rows=rows,
    )


# --- An account --------------------------------------------------------------------------


@router.get("/w/{slug}/analytics/accounts/{channel_id}")
def account_page(request: Request, membership: Member, db: Db, channel_id: int) -> Response:
    """An account's follower growth, sources, daily series and collection status."""
    period = page_period(request, membership)
    workspace = membership.workspace
    found_status = status.account_status(db, workspace=workspace, channel_id=channel_id)
    series = service.daily_series(
        db, workspace=workspace, channel_id=channel_id, start=period.start, end=period.end
    )
    totals = service.period_totals(
        db, workspace=workspace, start=period.start, end=period.end, channel_ids=[channel_id]
    )
    illustrative = service.includes_illustrative(
        db, workspace=workspace, start=period.start, end=period.end, channel_ids=[channel_id]
    )
    found = sources.breakdowns(
        db, workspace=workspace, channel_id=channel_id, start=period.start, end=period.end
    )
    collected = [day for day in series if day.collected]

    def total(metric: Metric) -> int | None:
        known = [day.figures[metric] for day in collected if metric in day.figures]
        return sum(known) if known else None

    def source_name(key: str) -> str:
        label = sources.SOURCE_LABELS.get(key)
        return i18n.gettext(label) if label else key

    context = _context(request, membership, period) | {
        "status": found_status,
        "days": [day.day.isoformat() for day in series],
        "chart": {
            "new": [day.figures.get(Metric.NEW_FOLLOWERS) for day in series],
            "lost": [day.figures.get(Metric.LOST_FOLLOWERS) for day in series],
            "followers": [day.figures.get(Metric.FOLLOWERS) for day in series],
        },
        "growth": {"new": total(Metric.NEW_FOLLOWERS), "lost": total(Metric.LOST_FOLLOWERS)},
        "metrics": {metric.value: metric for metric in Metric},
        "source_name": source_name,
        "source_names": lambda found: [source_name(s.key) for s in found.sources],
        "explain": _explain,
        "channel": found_status.channel,
        "series": series,
        "totals": totals.channels[channel_id],
        "breakdowns": found,
        "breakdown_labels": sources.BREAKDOWN_LABELS,
        "figures_kind_labels": FIGURES_KIND_LABELS,
        "illustrative": illustrative,
    }
    return render(request, "measure/account.html", context)


@router.get("/w/{slug}/analytics/accounts/{channel_id}/export.{extension}")
def account_export(
    request: Request, membership: Member, db: Db, channel_id: int, extension: str
) -> Response:
    """The account's daily series as a file."""
    period = page_period(request, membership)
    series = service.daily_series(
        db,
        workspace=membership.workspace,
        channel_id=channel_id,
        start=period.start,
        end=period.end,
    )
    metrics = list(BASE_DEFINITIONS)
    columns = (
        "day",
        *(m.value for m in metrics),
        "engagements",
        "engagement_rate_percent",
        "net_follower_growth",
    )
    rows = [
        (
            day.day.isoformat(),
            *(day.figures.get(m) for m in metrics),
            day.engagements,
            _percent(day.engagement_rate.value) if day.engagement_rate else None,
            day.net_follower_growth,
        )
        for day in series
    ]
    return table_download(
        name=_name(membership, f"account-{channel_id}", period),
        extension=extension,
        sheet=i18n.gettext(N_("Daily figures")),
        columns=columns,
        rows=rows,
    )


# --- Posts -------------------------------------------------------------------------------


@router.get("/w/{slug}/analytics/posts")
def posts_page(request: Request, membership: Member, db: Db, page: int = 1) -> Response:
    """The period's posts with their figures and the workspace's custom metrics, sortable by
    any of them, a page at a time."""
    period = page_period(request, membership)
    metrics = custom_metrics.list_custom_metrics(db, workspace=membership.workspace)
    order = listing.resolve_sort(request.query_params.get("sort", ""), metrics)
    found = listing.posts_page(
        db,
        workspace=membership.workspace,
        start=period.start,
        end=period.end,
        order=order or listing.PostOrder.PUBLISHED,
        page=page,
        metrics=metrics,
    )
    context = _context(request, membership, period) | {
        "posts": found,
        "orders": listing.PostOrder,
        "custom_metrics": metrics,
        "metric_label": lambda metric: custom_metrics.label(metric, i18n.current_language()),
    }
    # A sort or page link asks (htmx) for the list alone.
    partial = request.headers.get("hx-target") == "posts-list"
    return render(request, "measure/_posts_list.html" if partial else "measure/posts.html", context)


@router.get("/w/{slug}/analytics/posts/export.{extension}")
def posts_export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The period's posts with their figures as a file."""
    period = page_period(request, membership)
    metrics = custom_metrics.list_custom_metrics(db, workspace=membership.workspace)
    posts = listing.post_figures(
        db, workspace=membership.workspace, start=period.start, end=period.end, metrics=metrics
    )
    zone = viewer_zone(request, membership.workspace.timezone)[0]
    columns = (
        time_column("published_at", zone),
        "platform",
        "account",
        "format",
        "views",
        "engagements",
        "engagement_rate_percent",
        "engagement_rate_basis",
        "text",
        "url",
        *(metric.name for metric in metrics),
    )
    rows = [
        (
            iso_time(p.published_at, zone),
            p.platform,
            p.account,
            p.format,
            p.views,
            p.engagements,
            _percent(p.engagement_rate),
            p.engagement_rate_basis,
            p.text,
            p.url,
            *(p.custom.get(metric.name) for metric in metrics),
        )
        for p in posts
    ]
    return table_download(
        name=_name(membership, "posts", period),
        extension=extension,
        sheet=i18n.gettext(N_("Posts")),
        columns=columns,
        rows=rows,
    )


@router.get("/w/{slug}/analytics/posts/{measured_post_id}")
def post_page(request: Request, membership: Member, db: Db, measured_post_id: int) -> Response:
    """A post's curve since publishing against its account's median post, and what it was."""
    period = page_period(request, membership)
    curve = curves.post_curve(db, workspace=membership.workspace, post_id=measured_post_id)
    variant = (
        flows.published_variant(
            db, workspace_id=membership.workspace_id, variant_id=curve.post.variant_id
        )
        if curve.post.variant_id is not None
        else None
    )
    context = _context(request, membership, period) | {
        "curve": curve,
        "variant": variant,
        "hours": [round(point.hours, 1) for point in curve.points],
    }
    return render(request, "measure/post.html", context)


@router.get("/w/{slug}/analytics/posts/{measured_post_id}/export.{extension}")
def post_export(
    request: Request, membership: Member, db: Db, measured_post_id: int, extension: str
) -> Response:
    """A post's curve and the account's median curve as a file."""
    curve = curves.post_curve(db, workspace=membership.workspace, post_id=measured_post_id)
    zone = viewer_zone(request, membership.workspace.timezone)[0]
    columns = (
        "hours_since_publishing",
        time_column("observed_at", zone),
        "views",
        "engagements",
        "median_views",
        "median_engagements",
        "median_of_posts",
    )
    rows = [
        (
            round(p.hours, 2),
            iso_time(p.observed_at, zone),
            p.views,
            p.engagements,
            m.views,
            m.engagements,
            max(m.views_posts, m.engagements_posts),
        )
        for p, m in zip(curve.points, curve.median, strict=True)
    ]
    return table_download(
        name=f"{membership.workspace.slug}-post-{measured_post_id}",
        extension=extension,
        sheet=i18n.gettext(N_("Post curve")),
        columns=columns,
        rows=rows,
    )
