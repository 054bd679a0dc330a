"""``/api/v1/w/{slug}/analytics``: the figures of the analytics pages, as JSON.

The same services as the pages: a period's overview, an account's days, the posts of a
period with their figures and a post's curve. Reads only, for a token of the workspace or a
signed-in member's browser; the period is ``days`` (7, 28 or 90) or ``start`` and ``end``.
"""

from __future__ import annotations

from fastapi import Request

from guanxi.core.db import utcnow
from guanxi.measure import curves, listing, overview, service
from guanxi.measure.models import (
    AccountTotalsRead,
    CurvePointRead,
    DayRead,
    FigureRead,
    OverviewRead,
    PostCurveRead,
    PostsPageRead,
)
from guanxi.measure.overview import Period
from guanxi.web.api import ApiBrowserReader, workspace_api
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
    page: int = 1,
    sort: listing.PostOrder = listing.PostOrder.PUBLISHED,
) -> PostsPageRead:
    """The period's posts with their latest figures, sorted (published, views,
    engagements or rate), a page of 25 at a time."""
    period = _period(request, membership)
    found = listing.posts_page(
        db,
        workspace=membership.workspace,
        start=period.start,
        end=period.end,
        order=sort,
        page=page,
    )
    return PostsPageRead(
        page=found.page,
        pages=found.pages,
        total=found.total,
        sort=found.order.value,
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
