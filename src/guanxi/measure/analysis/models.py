"""What the analysis pages and the API show: groups of posts with their intervals, the
best-time heatmap, and the top and bottom posts. No tables: everything is computed from the
measured posts and the account days."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from guanxi.measure.models import PostFiguresRead


class EstimateRead(BaseModel):
    """A mean over ``count`` posts with its 95% interval (None with too few posts)."""

    count: int
    mean: float | None
    low: float | None
    high: float | None


class GroupRead(BaseModel):
    """Posts that share one value of a grouping (a format, an hour...)."""

    key: str
    label: str  # an English message id to translate, or the value itself (a hashtag)
    translatable: bool
    posts: int
    engagement_rate: EstimateRead
    views: EstimateRead
    engagements: EstimateRead
    # The engagement rate's interval leaves out the average of all the posts.
    differs: bool


class GroupingRead(BaseModel):
    """One way of grouping the posts (by format, by length...)."""

    key: str
    title: str  # an English message id
    groups: list[GroupRead]


class ContentAnalysisRead(BaseModel):
    """The posts of a period grouped every way, beside their overall average."""

    start: date
    end: date
    posts: int
    needed: int  # posts a page needs before the groups mean anything
    overall: GroupRead
    groupings: list[GroupingRead]
    # Some rates are per view and others per follower (platforms without views).
    mixed_bases: bool


class SlotRead(BaseModel):
    """One hour of the week in the best-time heatmap."""

    weekday: int  # 0 is Monday
    hour: int
    posts: int
    effect: float | None  # +0.5 is 50% more engagement per view than the average hour
    low: float | None
    high: float | None
    better: bool


class BestTimeRead(BaseModel):
    """An account's best times to post, from its own history."""

    channel_id: int
    account: str
    platform: str
    start: date
    end: date
    posts: int
    needed: int
    enough: bool
    adjusted_for: list[str]
    slots: list[SlotRead]
    suggestions: list[SlotRead]


class TopPostsRead(BaseModel):
    """A period's best and worst posts by engagement rate (posts with at least
    ``min_views`` views, or with a per-follower rate) and by views."""

    start: date
    end: date
    min_views: int
    highest_rate: list[PostFiguresRead]
    lowest_rate: list[PostFiguresRead]
    most_views: list[PostFiguresRead]
    fewest_views: list[PostFiguresRead]


class LiftRead(BaseModel):
    """A campaign's median per post against the baseline's: the lift (0.2 is +20%) and
    its 95% interval (None with too few posts); ``clear`` when the interval leaves out 0."""

    median: float | None
    baseline_median: float | None
    lift: float | None
    low: float | None
    high: float | None
    clear: bool


class CampaignRollupRead(BaseModel):
    """A campaign's measured posts against the same accounts' other posts of its days."""

    campaign_id: int
    name: str
    color: str
    start: date | None
    end: date | None
    posts: int
    baseline_posts: int
    views: int | None
    engagements: int | None
    views_lift: LiftRead
    engagements_lift: LiftRead
    rate_lift: LiftRead


class BenchmarkRowRead(BaseModel):
    """One account in the benchmark: the brand's own or a tracked competitor's."""

    name: str
    platform: str
    own: bool
    posts: int
    posts_per_week: float
    engagements: int  # likes + comments + shares (reposts): what is public on both sides
    engagements_per_post: float | None
    share_of_engagement: float | None  # of all the accounts' engagements in the period


class BenchmarkRead(BaseModel):
    """The brand's accounts beside its competitors' over one period."""

    start: date
    end: date
    competitors: int  # tracked competitor accounts
    rows: list[BenchmarkRowRead]
