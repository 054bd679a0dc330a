"""Weibo's figures of the account's own posts and of the account (a mixin of the connector).

- Posts: ``statuses/count`` gives reposts, comments and likes (attitudes) of up to 100
  posts a call; reads come from ``media_statuses/count_sp/biz`` when the account's app has
  Weibo's commercial data API (the "biz" level), and are simply not reported otherwise
  (error 10014).
- The account: ``users/behavior_trend/biz`` (biz level, the last 90 days: followers, new and
  lost followers, reads, reposts, comments, likes per day), else
  ``friendships/followers/trend_count`` (the last 30 days: followers, new and lost). Days
  older than either reaches raise ``MetricsUnavailableError``, which says why. Today's
  followers come from ``users/show``: the count when it was read (the day is not over).
- The account's posts, wherever they were published from: ``statuses/user_timeline``.

Calls go through the connector's ``_call``, so errors are mapped as for publishing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, Protocol

from guanxi.connectors.base import ChannelContext, ContentFormat, FetchPage, PermanentError
from guanxi.connectors.metrics import (
    AccountDay,
    Metric,
    MetricsLimits,
    MetricsUnavailableError,
    PostFigures,
)
from guanxi.connectors.metrics_days import (
    batches,
    beijing_today,
    chunks,
    figure,
    figures,
    parse_day,
)
from guanxi.connectors.weibo_engage import _read_feed
from guanxi.connectors.weibo_search import fetched_item
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

COUNT_PATH = "/2/statuses/count.json"
READS_PATH = "/2/media_statuses/count_sp/biz.json"
TREND_PATH = "/2/friendships/followers/trend_count.json"
BIZ_TREND_PATH = "/2/users/behavior_trend/biz.json"
IDS_PER_CALL = 100
TREND_DAYS = 30
BIZ_TREND_DAYS = 90
NO_PERMISSION = "10014"  # "Insufficient app permissions": the app lacks the biz level

COUNT_FIELDS = {Metric.SHARES: "reposts", Metric.COMMENTS: "comments", Metric.LIKES: "attitudes"}
TREND_FIELDS = {
    Metric.FOLLOWERS: "followers_count",
    Metric.NEW_FOLLOWERS: "incr",
    Metric.LOST_FOLLOWERS: "decr",
}
BIZ_TREND_FIELDS = {
    Metric.FOLLOWERS: "followers_count",
    Metric.NEW_FOLLOWERS: "followers_incr",
    Metric.LOST_FOLLOWERS: "followers_decr",
    Metric.VIEWS: "read_count",
    Metric.SHARES: "repost_count",
    Metric.COMMENTS: "comment_count",
    Metric.LIKES: "attitude_count",
}
MSG_TOO_OLD = N_(
    "Weibo keeps an account's daily figures for {days} days only, so the days before "
    "{oldest} cannot be read any more. Accounts whose Weibo app has the commercial data API "
    "get 90 days."
)


class _WeiboHttp(Protocol):
    def _token(self, channel: ChannelContext) -> str: ...

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        sent: bool = False,
    ) -> dict[str, Any]: ...

    def _call_for_list(self, path: str, *, params: Mapping[str, Any]) -> list[Any]: ...


def _rows(answer: list[Any]) -> dict[str, Mapping[str, Any]]:
    """The rows of an answer listing posts, by post id."""
    found: dict[str, Mapping[str, Any]] = {}
    for row in answer:
        if isinstance(row, Mapping):
            post_id = str(row.get("idstr") or row.get("id") or "")
            if post_id:
                found[post_id] = row
    return found


def _reads(http: _WeiboHttp, token: str, ids: Sequence[str]) -> dict[str, int]:
    """Reads of the posts, or nothing when the account's app lacks the biz level."""
    try:
        answer = http._call_for_list(
            READS_PATH, params={"access_token": token, "ids": ",".join(ids)}
        )
    except PermanentError as exc:
        if exc.code == NO_PERMISSION:
            return {}
        raise
    reads = {}
    for post_id, row in _rows(answer).items():
        value = figure(row.get("reads"))
        if value is not None:
            reads[post_id] = value
    return reads


def _trend(
    http: _WeiboHttp, token: str, uid: str, path: str, key: str, start: date, end: date, size: int
) -> list[Mapping[str, Any]]:
    """The trend rows of ``start``..``end``, read in calls of at most ``size`` days."""
    rows: list[Mapping[str, Any]] = []
    for first, last in chunks(start, end, size):
        params = {
            "access_token": token,
            "uid": uid,
            "start_date": first.isoformat(),
            "end_date": last.isoformat(),
        }
        answer = http._call("GET", path, params=params)
        rows.extend(row for row in answer.get(key) or [] if isinstance(row, Mapping))
    return rows


class WeiboMetrics:
    """Post and account figures; mixed into ``WeiboConnector``."""

    metrics_limits = MetricsLimits(
        post_batch=IDS_PER_CALL,
        account_range_days=TREND_DAYS,
        account_history_days=BIZ_TREND_DAYS,
        account_delay_days=0,
    )

    def post_metrics(
        self: _WeiboHttp, channel: ChannelContext, external_ids: Sequence[str]
    ) -> list[PostFigures]:
        """Reposts, comments, likes (and reads at the biz level) of the posts Weibo still has."""
        token = self._token(channel)
        found: list[PostFigures] = []
        wanted = [post_id for post_id in dict.fromkeys(external_ids) if post_id.isdigit()]
        for batch in batches(wanted, IDS_PER_CALL):
            params = {"access_token": token, "ids": ",".join(batch)}
            counts = _rows(self._call_for_list(COUNT_PATH, params=params))
            reads = _reads(self, token, batch)
            observed = utcnow()
            for post_id in batch:
                row = counts.get(post_id)
                if row is None:  # deleted, or not a post Weibo knows
                    continue
                values = figures(row, COUNT_FIELDS)
                if post_id in reads:
                    values[Metric.VIEWS] = reads[post_id]
                found.append(PostFigures(post_id, observed, values, raw=dict(row)))
        return found

    def account_metrics(
        self: _WeiboHttp, channel: ChannelContext, *, start: date, end: date
    ) -> list[AccountDay]:
        """The account's figures from ``start`` to ``end``, as far back as Weibo keeps them."""
        token = self._token(channel)
        today = beijing_today()
        yesterday = today - timedelta(days=1)
        result: dict[date, AccountDay] = {}
        if start <= min(end, yesterday):
            past = _past_days(self, token, channel.external_id, start, min(end, yesterday), today)
            result.update(past)
        if start <= today <= end:
            user = self._call(
                "GET",
                "/2/users/show.json",
                params={"access_token": token, "uid": channel.external_id},
            )
            followers = figure(user.get("followers_count"))
            if followers is not None:
                result[today] = AccountDay(today, {Metric.FOLLOWERS: followers})
        return [result[day] for day in sorted(result)]

    def account_posts(self: _WeiboHttp, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """The account's posts newer than the cursor (a Weibo status id), oldest first."""
        rows, cursor, more = _read_feed(
            self, channel, "/2/statuses/user_timeline.json", "statuses", since
        )
        items = (replace(fetched_item(row), format=status_format(row)) for row in rows)
        return FetchPage(tuple(items), cursor, more)


# ``page_info.object_type`` of a status's card, for the formats it names.
_CARD_FORMATS = {
    "video": ContentFormat.VIDEO,
    "article": ContentFormat.ARTICLE,
    "live": ContentFormat.LIVE,
}


def status_format(status: Mapping[str, Any]) -> ContentFormat:
    """A status's format: its card's (a video, a headline article, a live stream), else
    pictures when it has some, else text."""
    card = status.get("page_info")
    if isinstance(card, Mapping):
        kind = str(card.get("object_type") or card.get("type") or "")
        if kind in _CARD_FORMATS:
            return _CARD_FORMATS[kind]
    if status.get("pic_ids") or status.get("pic_urls") or status.get("original_pic"):
        return ContentFormat.IMAGE
    return ContentFormat.TEXT


def _past_days(
    http: _WeiboHttp, token: str, uid: str, start: date, end: date, today: date
) -> dict[date, AccountDay]:
    """Complete days (before today): the biz trend, or the 30-day trend without the biz level."""
    reach, path, key, fields = BIZ_TREND_DAYS, BIZ_TREND_PATH, "data", BIZ_TREND_FIELDS
    oldest = today - timedelta(days=reach)
    rows: list[Mapping[str, Any]] = []
    try:
        if max(start, oldest) <= end:
            rows = _trend(http, token, uid, path, key, max(start, oldest), end, reach)
    except PermanentError as exc:
        if exc.code != NO_PERMISSION:
            raise
        reach, path, key, fields = TREND_DAYS, TREND_PATH, "trend", TREND_FIELDS
        oldest = today - timedelta(days=reach)
        if max(start, oldest) <= end:
            rows = _trend(http, token, uid, path, key, max(start, oldest), end, reach)
    if end < oldest:
        raise MetricsUnavailableError(
            MSG_TOO_OLD, code="too_old", days=reach, oldest=oldest.isoformat()
        )
    found: dict[date, AccountDay] = {}
    for row in rows:
        day = parse_day(row.get("date"))
        values = figures(row, fields)
        if day is not None and start <= day <= end and values:
            found[day] = AccountDay(day, values)
    return found
