"""``/api/v1/w/{slug}/analytics``: the figures of the analytics pages, as JSON.

The same services as the pages: a period's overview, an account's days, the posts of a
period with their figures and a post's curve, for a token of the workspace or a signed-in
member's browser; the period is ``days`` (7, 28 or 90) or ``start`` and ``end``. The
workspace's custom metrics are listed the same way, and defined or deleted with a token of
an editor or above.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.measure import curves, custom_metrics, listing, overview, service
from guanxi.measure.models import (
    AccountTotalsRead,
    CurvePointRead,
    CustomMetricCreate,
    CustomMetricRead,
    DayRead,
    FigureRead,
    OverviewRead,
    PostCurveRead,
    PostsPageRead,
)
from guanxi.measure.overview import Period
from guanxi.web.api import ApiBrowserReader, ApiWriter, workspace_api
from guanxi.web.deps import Db

router = workspace_api("analytics", tags=["analytics"], browser=True)


def _period(request: Request, membership: ApiBrowserReader) -> Period:
    return overview.period_from_query(membership.workspace, request.query_params, now=utcnow())


@router.get("/overview", response_model=OverviewRead)
def overview_api(request: Request, membership: ApiBrowserReader, db: Db) -> OverviewRead:
    """Followers, views, engagements and engagement rate of the period, each against the
    period before and with its daily trend, and every account's totals."""
    period = _period(request, membership)
    found = overview.overview(db, workspace=membership.workspace, period=period)
    previous_start, previous_end = period.previous
    return OverviewRead(
        start=period.start,
        end=period.end,
        previous_start=previous_start,
        previous_end=previous_end,
        days=found.trend.days,
        figures=[
            FigureRead(
                key=f.key.value,
                value=f.value,
                previous=f.previous,
                change=f.change,
                basis=f.basis.value if f.basis else None,
                trend=f.trend,
            )
            for f in found.figures
        ],
        accounts=[
            AccountTotalsRead(
                channel_id=row.channel_id or 0,
                platform=row.platform,
                account=row.label,
                posts=row.current.posts,
                followers=row.current.followers,
                net_follower_growth=row.current.net_follower_growth,
                views=row.current.views,
                engagements=row.current.engagements,
                engagement_rate=rate.value if (rate := row.current.engagement_rate) else None,
                engagement_rate_basis=rate.basis.value if rate else None,
            )
            for row in found.accounts
        ],
    )


@router.get("/accounts/{channel_id}/days", response_model=list[DayRead])
def account_days_api(
    request: Request, membership: ApiBrowserReader, db: Db, channel_id: int
) -> list[DayRead]:
    """The account's figures for every day of the period (collected or not)."""
    period = _period(request, membership)
    series = service.daily_series(
        db,
        workspace=membership.workspace,
        channel_id=channel_id,
        start=period.start,
        end=period.end,
    )
    return [
        DayRead(
            day=day.day,
            collected=day.collected,
            figures={metric.value: value for metric, value in day.figures.items()},
            engagements=day.engagements,
            engagement_rate=day.engagement_rate.value if day.engagement_rate else None,
            engagement_rate_basis=day.engagement_rate.basis.value if day.engagement_rate else None,
            net_follower_growth=day.net_follower_growth,
        )
        for day in series
    ]


@router.get("/posts", response_model=PostsPageRead)
def posts_api(
    request: Request,
    membership: ApiBrowserReader,
    db: Db,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    sort: Annotated[str, Query(max_length=40)] = listing.PostOrder.PUBLISHED.value,
) -> PostsPageRead:
    """The period's posts with their latest figures and the workspace's custom metrics,
    sorted (published, views, engagements, rate or ``metric-<id>`` of a custom metric), a
    page of 25 at a time."""
    period = _period(request, membership)
    metrics = custom_metrics.list_custom_metrics(db, workspace=membership.workspace)
    order = listing.resolve_sort(sort, metrics)
    if order is None:
        raise UserError(
            N_("No sort “{sort}”: sort by published, views, engagements, rate or metric-<id>."),
            sort=sort[:40],
        )
    found = listing.posts_page(
        db,
        workspace=membership.workspace,
        start=period.start,
        end=period.end,
        order=order,
        page=page,
        metrics=metrics,
    )
    return PostsPageRead(
        page=found.page,
        pages=found.pages,
        total=found.total,
        sort=found.sort,
        rows=found.rows,
    )


@router.get("/posts/{measured_post_id}/curve", response_model=PostCurveRead)
def post_curve_api(membership: ApiBrowserReader, db: Db, measured_post_id: int) -> PostCurveRead:
    """The post's lifetime figures at each snapshot, in hours since publishing, beside the
    median of the account's other posts at the same ages."""
    curve = curves.post_curve(db, workspace=membership.workspace, post_id=measured_post_id)
    return PostCurveRead(
        post_id=curve.post.id,
        channel_id=curve.channel.id,
        published_at=curve.post.published_at,
        compared_posts=curve.compared_posts,
        detail_kept_from=curve.detail_kept_from,
        points=[
            CurvePointRead(
                hours=round(p.hours, 3),
                observed_at=p.observed_at,
                views=p.views,
                engagements=p.engagements,
                median_views=m.views,
                median_engagements=m.engagements,
                median_of_posts=max(m.views_posts, m.engagements_posts),
            )
            for p, m in zip(curve.points, curve.median, strict=True)
        ],
    )


# --- The workspace's custom metrics ----------------------------------------------------------


@router.get("/metrics", response_model=list[CustomMetricRead])
def metrics_api(membership: ApiBrowserReader, db: Db) -> list[CustomMetricRead]:
    """The workspace's own metrics by name, with their formulas."""
    found = custom_metrics.list_custom_metrics(db, workspace=membership.workspace)
    return [CustomMetricRead.model_validate(metric, from_attributes=True) for metric in found]


@router.post("/metrics", status_code=201, response_model=CustomMetricRead)
def create_metric_api(
    request: Request, membership: ApiWriter, db: Db, payload: CustomMetricCreate
) -> CustomMetricRead:
    """Define a metric by a formula over the base metrics (editors and up); a formula that
    cannot be read is a 400 saying at which column and what to change, a name taken a 409."""
    i18n.set_language(request.state.language)
    metric = custom_metrics.create_custom_metric(
        db, workspace=membership.workspace, data=payload, actor=membership.user
    )
    db.commit()
    return CustomMetricRead.model_validate(metric, from_attributes=True)


@router.delete("/metrics/{metric_id}", status_code=204)
def delete_metric_api(membership: ApiWriter, db: Db, metric_id: int) -> Response:
    """Remove one of the workspace's metrics (editors and up); 404 for another's."""
    custom_metrics.delete_custom_metric(
        db, workspace=membership.workspace, metric_id=metric_id, actor=membership.user
    )
    db.commit()
    return Response(status_code=204)
