"""What each figure means, the same on every platform, and how the derived ones are computed.

The connectors name every platform's figures alike (``connectors.metrics.Metric``: a WeChat
article's reads and a Douyin video's plays are both views). Here each figure gets a label
and a description of what the platforms count under it, and the figures every page shows
are derived from them:

- **engagements**: likes + comments + shares + saves + wows, of those the platform reports;
- **engagement rate**: engagements per view, or per follower where the platform reports no
  views (the result says which, and the page shows it);
- **net follower growth**: new followers − unfollows, or the change of the follower total
  where the platform gives only the total.

A missing figure is unknown, never zero: a sum of nothing reported is None, not 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from guanxi.connectors.metrics import Metric
from guanxi.core.errors import N_
from guanxi.measure.models import MetricDisplay

# The figures that count as an engagement, in the order a table shows them.
ENGAGEMENT_METRICS: tuple[Metric, ...] = (
    Metric.LIKES,
    Metric.COMMENTS,
    Metric.SHARES,
    Metric.SAVES,
    Metric.WOWS,
)
ENGAGEMENTS = "engagements"
# The names a custom formula may use: every base metric, and the engagements' sum.
FORMULA_NAMES: frozenset[str] = frozenset({*(m.value for m in Metric), ENGAGEMENTS})


@dataclass(frozen=True)
class MetricDefinition:
    """A figure as people read it: a label and what it counts (translatable ids)."""

    key: str
    label: str
    description: str
    display: MetricDisplay = MetricDisplay.NUMBER


BASE_DEFINITIONS: dict[Metric, MetricDefinition] = {
    Metric.VIEWS: MetricDefinition(
        "views",
        N_("Views"),
        N_(
            "How often the post was seen: reads of a WeChat article, reads of a Weibo post "
            "where the account's API level gives them, plays of a Douyin video; impressions "
            "where a platform counts only those."
        ),
    ),
    Metric.LIKES: MetricDefinition(
        "likes",
        N_("Likes"),
        N_("Likes (点赞); on Weibo, attitudes."),
    ),
    Metric.COMMENTS: MetricDefinition(
        "comments",
        N_("Comments"),
        N_("Comments on the post, replies included where the platform counts them."),
    ),
    Metric.SHARES: MetricDefinition(
        "shares",
        N_("Shares"),
        N_("Shares and forwards; on Weibo, reposts."),
    ),
    Metric.SAVES: MetricDefinition(
        "saves",
        N_("Saves"),
        N_("Times the post was saved to favourites (收藏)."),
    ),
    Metric.WOWS: MetricDefinition(
        "wows",
        N_("Wows"),
        N_("WeChat's “在看” (Wow): readers who recommended the article to their friends."),
    ),
    Metric.FOLLOWERS: MetricDefinition(
        "followers",
        N_("Followers"),
        N_("The account's followers at the end of the day (WeChat: users, Douyin: fans)."),
    ),
    Metric.NEW_FOLLOWERS: MetricDefinition(
        "new_followers",
        N_("New followers"),
        N_("People who started following the account during the day."),
    ),
    Metric.LOST_FOLLOWERS: MetricDefinition(
        "lost_followers",
        N_("Unfollows"),
        N_("People who stopped following the account during the day."),
    ),
}

ENGAGEMENTS_DEFINITION = MetricDefinition(
    ENGAGEMENTS,
    N_("Engagements"),
    N_(
        "Likes + comments + shares + saves + wows, of those the platform reports (WeChat "
        "counts wows; Douyin and Weibo give no saves through their APIs)."
    ),
)
ENGAGEMENT_RATE_DEFINITION = MetricDefinition(
    "engagement_rate",
    N_("Engagement rate"),
    N_(
        "Engagements per view; where the platform reports no views, engagements per "
        "follower of the account, which is marked beside the figure."
    ),
    MetricDisplay.PERCENT,
)
NET_FOLLOWER_GROWTH_DEFINITION = MetricDefinition(
    "net_follower_growth",
    N_("Net follower growth"),
    N_(
        "New followers minus unfollows; where the platform reports only the total, the "
        "change of the total."
    ),
)


class RateBasis(StrEnum):
    """What an engagement rate is per."""

    VIEWS = "views"
    FOLLOWERS = "followers"


RATE_BASIS_LABELS: dict[RateBasis, str] = {
    RateBasis.VIEWS: N_("per view"),
    RateBasis.FOLLOWERS: N_("per follower (no views reported)"),
}


@dataclass(frozen=True)
class EngagementRate:
    """An engagement rate (0.05 is 5%) and what it is per."""

    value: float
    basis: RateBasis


def engagements(figures: Mapping[Metric, int]) -> int | None:
    """The sum of the engagement figures reported; None when none is."""
    reported = [figures[m] for m in ENGAGEMENT_METRICS if figures.get(m) is not None]
    return sum(reported) if reported else None


def engagement_rate(
    figures: Mapping[Metric, int], *, followers: int | None = None
) -> EngagementRate | None:
    """Engagements per view when views are reported, else per follower (``followers``: the
    account's, when the figures are a post's); None when neither can be divided by."""
    total = engagements(figures)
    if total is None:
        return None
    views = figures.get(Metric.VIEWS)
    if views is not None:
        return EngagementRate(total / views, RateBasis.VIEWS) if views > 0 else None
    audience = followers if followers is not None else figures.get(Metric.FOLLOWERS)
    if audience:
        return EngagementRate(total / audience, RateBasis.FOLLOWERS)
    return None


def net_follower_growth(
    figures: Mapping[Metric, int], *, followers_before: int | None = None
) -> int | None:
    """One day's net growth: new − lost when both are reported, else the change of the
    total since ``followers_before`` (the day before's); None when neither is known."""
    new, lost = figures.get(Metric.NEW_FOLLOWERS), figures.get(Metric.LOST_FOLLOWERS)
    if new is not None and lost is not None:
        return new - lost
    total = figures.get(Metric.FOLLOWERS)
    if total is not None and followers_before is not None:
        return total - followers_before
    return None


def formula_figures(figures: Mapping[Metric, int]) -> dict[str, int | None]:
    """The values a custom formula reads, by name: the base metrics and the engagements."""
    named: dict[str, int | None] = {metric.value: figures.get(metric) for metric in Metric}
    named[ENGAGEMENTS] = engagements(figures)
    return named
