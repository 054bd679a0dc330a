"""Douyin's figures of the account's own videos and of the account (a mixin of the connector).

Douyin counts its data once a day, up to yesterday, and only for a recent window:

- Videos (``post_metrics``): ``/data/external/item/base/`` gives a video's totals (plays,
  likes, comments, shares), one video a call, for videos created in the last 30 days; older
  or unknown videos are left out of the answer.
- The account (``account_metrics``): ``/data/external/user/fans/`` (followers and new
  followers), ``/user/item/`` (plays), ``/user/like/``, ``/user/comment/`` and
  ``/user/share/``, each for the last 7, 15 or 30 days (``date_type``): the smallest that
  covers the range is asked for. Douyin gives account data only to accounts with more than
  100 fans: below that, ``MetricsUnavailableError`` says so.
- The account's videos, wherever they were published from: ``/video/list/``.

Calls go through the connector's ``_api``: the token is refreshed and errors mapped as for
publishing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from guanxi.connectors.base import (
    ChannelContext,
    ContentFormat,
    FetchedAuthor,
    FetchedItem,
    FetchedKind,
    FetchPage,
    PermanentError,
)
from guanxi.connectors.douyin_rules import visible_text
from guanxi.connectors.metrics import (
    AccountDay,
    Metric,
    MetricsLimits,
    MetricsUnavailableError,
    PostFigures,
)
from guanxi.connectors.metrics_days import beijing_today, day_start, figure, figures, parse_day
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

METRICS_SCOPES = "data.external.item,data.external.user"  # asked for when connecting
DATE_TYPES = (7, 15, 30)  # the windows Douyin's data endpoints offer, in days
WINDOW_DAYS = 30
POST_BATCH = 20
LIST_PAGE = 20
MAX_LIST_PAGES = 10  # a first sync reads the 200 most recent videos
# The codes Douyin answers an unknown video, a video too old, an account with too few fans
# (2100015 and 2100016 are the sandbox's: Douyin does not document its own).
UNKNOWN_ITEM = "2100005"
ITEM_TOO_OLD = "2100015"
FANS_TOO_FEW = "2100016"
STATUS_NOT_PUBLIC = 2

BASE_FIELDS = {
    Metric.VIEWS: "total_play",
    Metric.LIKES: "total_like",
    Metric.COMMENTS: "total_comment",
    Metric.SHARES: "total_share",
}
# Each account endpoint, and its fields (metric -> field).
USER_ENDPOINTS: dict[str, dict[Metric, str]] = {
    "fans": {Metric.FOLLOWERS: "total_fans", Metric.NEW_FOLLOWERS: "new_fans"},
    "item": {Metric.VIEWS: "new_play"},
    "like": {Metric.LIKES: "new_like"},
    "comment": {Metric.COMMENTS: "new_comment"},
    "share": {Metric.SHARES: "new_share"},
}
MSG_FEW_FANS = N_(
    "Douyin shares an account's data only once it has more than 100 fans. This account has "
    "not reached that yet, so its follower and play figures cannot be collected."
)
MSG_TOO_OLD = N_(
    "Douyin keeps an account's daily figures for the last 30 days only, so the days before "
    "{oldest} cannot be read any more."
)


class _DouyinHttp(Protocol):
    def _api(
        self,
        channel: ChannelContext,
        method: str,
        path: str,
        *,
        applies: bool = False,
        rewind: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]: ...


def date_type_for(days: int) -> int:
    """The smallest of Douyin's windows (7, 15, 30 days) that covers ``days`` days."""
    return next((window for window in DATE_TYPES if window >= days), DATE_TYPES[-1])


def _user_rows(
    http: _DouyinHttp, channel: ChannelContext, endpoint: str, date_type: int
) -> list[Mapping[str, Any]]:
    try:
        data = http._api(
            channel, "GET", f"/data/external/user/{endpoint}/", params={"date_type": date_type}
        )
    except PermanentError as exc:
        if exc.code == FANS_TOO_FEW:
            raise MetricsUnavailableError(MSG_FEW_FANS, code=FANS_TOO_FEW) from exc
        raise
    return [row for row in data.get("result_list") or [] if isinstance(row, Mapping)]


def _video_item(row: Mapping[str, Any], channel: ChannelContext) -> FetchedItem:
    statistics = row.get("statistics")
    counts = statistics if isinstance(statistics, Mapping) else {}
    item_id = str(row.get("item_id", ""))
    metrics = {
        name: value
        for name, field in (
            ("plays", "play_count"),
            ("likes", "digg_count"),
            ("comments", "comment_count"),
            ("shares", "share_count"),
        )
        if (value := figure(counts.get(field))) is not None
    }
    return FetchedItem(
        kind=FetchedKind.POST,
        external_id=item_id,
        text=visible_text(str(row.get("title", ""))),
        author=FetchedAuthor(external_id=channel.external_id, name=channel.external_id),
        created_at=values.parse_unix(row.get("create_time"), milliseconds=False) or utcnow(),
        post_external_id=item_id,
        url=str(row.get("share_url", "")),
        metrics=metrics,
        raw=dict(row),
        # media_type 2 is an image album (图集); the rest are videos.
        format=ContentFormat.IMAGE if figure(row.get("media_type")) == 2 else ContentFormat.VIDEO,
    )


class DouyinMetrics:
    """Video and account figures; mixed into ``DouyinConnector``."""

    metrics_limits = MetricsLimits(
        post_batch=POST_BATCH,
        account_range_days=WINDOW_DAYS,
        account_history_days=WINDOW_DAYS,
        post_max_age_days=WINDOW_DAYS,
        account_delay_days=1,
    )

    def post_metrics(
        self: _DouyinHttp, channel: ChannelContext, external_ids: Sequence[str]
    ) -> list[PostFigures]:
        """Each video's totals at the end of yesterday (videos under 30 days old)."""
        found = []
        as_of = day_start(beijing_today())
        for item_id in dict.fromkeys(external_ids):
            try:
                data = self._api(
                    channel, "GET", "/data/external/item/base/", params={"item_id": item_id}
                )
            except PermanentError as exc:
                if exc.code in {UNKNOWN_ITEM, ITEM_TOO_OLD}:
                    continue  # deleted, someone else's, or older than Douyin keeps figures for
                raise
            result = data.get("result")
            if isinstance(result, Mapping):
                found.append(
                    PostFigures(
                        item_id,
                        utcnow(),
                        figures(result, BASE_FIELDS),
                        as_of=as_of,
                        raw=dict(result),
                    )
                )
        return found

    def account_metrics(
        self: _DouyinHttp, channel: ChannelContext, *, start: date, end: date
    ) -> list[AccountDay]:
        """The account's daily figures from ``start`` to ``end`` within the last 30 days."""
        today = beijing_today()
        oldest = today - timedelta(days=WINDOW_DAYS)
        end = min(end, today - timedelta(days=1))
        if start > end:
            return []
        if end < oldest:
            raise MetricsUnavailableError(MSG_TOO_OLD, code="too_old", oldest=oldest.isoformat())
        start = max(start, oldest)
        date_type = date_type_for((today - start).days)
        found: dict[date, dict[Metric, int]] = {}
        for endpoint, fields in USER_ENDPOINTS.items():
            for row in _user_rows(self, channel, endpoint, date_type):
                day = parse_day(row.get("date"))
                if day is not None and start <= day <= end:
                    found.setdefault(day, {}).update(figures(row, fields))
        return [AccountDay(day, found[day]) for day in sorted(found) if found[day]]

    def account_posts(self: _DouyinHttp, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """The account's videos created after the cursor (a ``create_time``), oldest first."""
        after = int(since) if since.isdigit() else 0
        rows: list[Mapping[str, Any]] = []
        cursor, more = 0, False
        for page in range(MAX_LIST_PAGES):
            data = self._api(
                channel, "GET", "/video/list/", params={"cursor": cursor, "count": LIST_PAGE}
            )
            listed = [row for row in data.get("list") or [] if isinstance(row, Mapping)]
            fresh = [row for row in listed if (figure(row.get("create_time")) or 0) > after]
            rows.extend(r for r in fresh if figure(r.get("video_status")) != STATUS_NOT_PUBLIC)
            if len(fresh) < len(listed) or not data.get("has_more"):
                break  # newest first: the rest is older than the cursor
            more = page == MAX_LIST_PAGES - 1
            cursor = figure(data.get("cursor")) or 0
        items = sorted((_video_item(row, channel) for row in rows), key=lambda i: i.created_at)
        newest = max((figure(row.get("create_time")) or 0 for row in rows), default=after)
        return FetchPage(tuple(items), str(newest) if newest else since, more)
