"""``/api/v1/w/{slug}/analytics/...`` for the analysis figures: content analysis, an
account's best times to post, and the top and bottom posts; the same services and filters
(``start``, ``end``, ``account``) as the pages."""

from __future__ import annotations

from fastapi import Request

from guanxi.core.bounds import DbInt
from guanxi.measure.analysis import flows, service
from guanxi.measure.analysis.models import (
    BenchmarkRead,
    BestTimeRead,
    CampaignRollupRead,
    ContentAnalysisRead,
    TopPostsRead,
)
from guanxi.measure.analysis.views import filters_of
from guanxi.web.api import ApiBrowserReader, workspace_api
from guanxi.web.deps import Db

router = workspace_api("analytics", tags=["analytics"], browser=True)


@router.get("/content", response_model=ContentAnalysisRead)
def content_api(request: Request, membership: ApiBrowserReader, db: Db) -> ContentAnalysisRead:
    """The period's posts grouped by format, length, hashtags, hour and weekday, each
    group with its count, means and 95% intervals."""
    filters = filters_of(request, membership)
    return service.content_analysis(
        db,
        workspace=membership.workspace,
        start=filters.start,
        end=filters.end,
        channel_ids=filters.accounts,
    )


@router.get("/best-time/{channel_id}", response_model=BestTimeRead)
def best_time_api(
    request: Request, membership: ApiBrowserReader, db: Db, channel_id: DbInt
) -> BestTimeRead:
    """An account's hour-of-week effects on engagement rate and its better hours."""
    filters = filters_of(request, membership)
    return service.best_time(
        db,
        workspace=membership.workspace,
        channel_id=channel_id,
        start=filters.start,
        end=filters.end,
    )


@router.get("/top", response_model=TopPostsRead)
def top_api(request: Request, membership: ApiBrowserReader, db: Db) -> TopPostsRead:
    """The period's best and worst posts by engagement rate and by views."""
    filters = filters_of(request, membership)
    return service.top_posts(
        db,
        workspace=membership.workspace,
        start=filters.start,
        end=filters.end,
        channel_ids=filters.accounts,
    )


@router.get("/campaigns", response_model=list[CampaignRollupRead])
def campaigns_api(membership: ApiBrowserReader, db: Db) -> list[CampaignRollupRead]:
    """Each campaign's measured posts against the same accounts' other posts over its
    days: totals, and the lift of the medians per post with 95% intervals."""
    return flows.campaign_rollups(db, workspace=membership.workspace)


@router.get("/benchmark", response_model=BenchmarkRead)
def benchmark_api(request: Request, membership: ApiBrowserReader, db: Db) -> BenchmarkRead:
    """The brand's accounts beside the tracked competitors': posts, posts per week,
    engagements per post and share of engagement (likes, comments and shares)."""
    filters = filters_of(request, membership)
    return flows.benchmark(db, workspace=membership.workspace, start=filters.start, end=filters.end)
