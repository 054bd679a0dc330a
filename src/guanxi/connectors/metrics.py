"""What a connector that reads figures promises: the figures of the brand's own posts and
accounts, named the same on every platform, and how far back and how much each platform
reaches (``MetricsLimits``), so the measure capability plans its calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from guanxi.connectors.base import ChannelContext, ConnectorError, FetchPage


class Metric(StrEnum):
    """A base figure, named the same on every platform (what each platform calls it is the
    connector's business: a WeChat article's reads and a Douyin video's plays are VIEWS)."""

    VIEWS = "views"  # reads (WeChat, Weibo), plays (Douyin), impressions where that is all
    LIKES = "likes"  # likes, attitudes (Weibo), 点赞
    COMMENTS = "comments"
    SHARES = "shares"  # shares, reposts (Weibo), forwards
    SAVES = "saves"  # favourites, 收藏
    WOWS = "wows"  # WeChat 在看
    FOLLOWERS = "followers"  # the account's total at the end of the day
    NEW_FOLLOWERS = "new_followers"
    LOST_FOLLOWERS = "lost_followers"  # unfollows


@dataclass(frozen=True)
class PostFigures:
    """One post's lifetime totals as the platform reported them at ``observed_at``.

    Only the figures the platform gives are present: a missing key means "not reported",
    never zero. ``as_of`` is the moment the figures describe when the platform reports with
    a delay (WeChat's data cube: the end of yesterday); else it equals ``observed_at``.
    """

    external_id: str
    observed_at: datetime  # aware, UTC
    values: Mapping[Metric, int]
    as_of: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountDay:
    """An account's figures for one day (in the platform's time zone, Asia/Shanghai).

    ``values``: the day's totals (FOLLOWERS at the end of the day; the others during it).
    ``breakdowns``: a figure split by a platform's categories, for example
    ``{"follower_source": {"search": 12, "article": 30}}`` (WeChat ``user_source`` codes
    mapped to stable names by the connector) or ``{"view_source": {...}}``.
    """

    day: date
    values: Mapping[Metric, int]
    breakdowns: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsLimits:
    """How far back and how much a connector's metrics reach, so a collector plans its calls.

    A range longer than ``account_range_days`` is split by the collector (the connector also
    splits, so no call ever triggers the platform's range error).
    """

    post_batch: int  # post ids per ``post_metrics`` call (Weibo statuses/count: 100)
    account_range_days: int  # days per account call (WeChat getusersummary: 7)
    # The oldest day account figures exist for: a fixed date (WeChat's data cube starts on
    # 2014-12-01), or this many days before today (Weibo 90, Douyin 30); None for no limit.
    account_history_start: date | None = None
    account_history_days: int | None = None
    # Posts older than this have no figures through the API any more (Douyin: 30 days).
    post_max_age_days: int | None = None
    # The freshest day account figures exist for: 1 = yesterday (WeChat), 0 = today.
    account_delay_days: int = 0


class MetricsUnavailableError(ConnectorError):
    """The platform has no figures for this account or post, and retrying will not help
    (Douyin's fan data needs more than 100 fans; a post too old for the API). The message
    says why, for the collection page."""


@runtime_checkable
class ReadsMetrics(Protocol):
    """A connector that reads the figures of the account's own posts and of the account.

    Connectors with ``Capability.METRICS`` implement it; the measure capability calls only
    these methods. Errors are the usual ConnectorError subclasses (rate limits, quotas and
    token errors are handled like publishing's), plus MetricsUnavailableError.
    """

    metrics_limits: MetricsLimits

    def post_metrics(
        self, channel: ChannelContext, external_ids: Sequence[str]
    ) -> list[PostFigures]:
        """Lifetime totals of these posts (at most ``post_batch``); unknown or deleted posts
        are left out of the answer rather than failing the batch."""
        ...

    def account_metrics(
        self, channel: ChannelContext, *, start: date, end: date
    ) -> list[AccountDay]:
        """The account's figures for each day from ``start`` to ``end`` inclusive."""
        ...

    def account_posts(self, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """The account's own published posts (kind POST), newer than the cursor ``since``,
        including those published outside guanxi, so they are measured too."""
        ...
