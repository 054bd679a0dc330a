"""WeChat Official Account figures through the data cube (数据统计), a mixin of the connector.

The data cube reports complete Beijing days only (the end date is yesterday at the latest)
from 2014-12-01 on, and each endpoint takes at most so many days a call (``SPANS``): a
longer range is answered with 61501 "date range error", so ranges are cut to fit first.

- The account (``account_metrics``): ``getusersummary`` (new and cancelled followers per
  ``user_source``, mapped to stable names in the ``follower_source`` breakdown),
  ``getusercumulate`` (the total), ``getuserread`` (reads, shares and favourites, with reads
  per source in ``view_source``), ``getbizsummary`` (likes, 在看 and comments).
- Articles (``post_metrics``): ``getarticletotaldetail`` gives, for the articles published
  in a range of days, their figures from publishing to each day after, for 30 days; an
  article is found by ``msgid`` (its group's ``msg_data_id`` and its place in it), which
  ``freepublish/batchget`` tells for each ``article_id``.
- The account's articles, wherever they were published from: ``freepublish/batchget``.

An account that may not use the data cube (WeChat opens it to verified accounts; 48001)
raises ``MetricsUnavailableError``. Other errors are mapped as for publishing.
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
from guanxi.connectors.metrics import (
    AccountDay,
    Metric,
    MetricsLimits,
    MetricsUnavailableError,
    PostFigures,
)
from guanxi.connectors.metrics_days import (
    beijing_today,
    chunks,
    day_end,
    figure,
    figures,
    parse_day,
)
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

HISTORY_START = date(2014, 12, 1)  # the data cube keeps nothing older
# Days per call: WeChat's documented maximum for the older endpoints; the newer ones state
# none, so guanxi asks for a week at most.
SPANS = {
    "getusersummary": 7,
    "getusercumulate": 7,
    "getuserread": 3,
    "getbizsummary": 7,
    "getarticletotaldetail": 7,
}
ALL_SOURCES = 99999999  # getuserread's user_source for the total
PAGE = 20  # freepublish/batchget's largest page
MAX_PAGES = 25  # articles are looked for among the 500 most recent
NOT_ALLOWED = "48001"

# user_source of new followers (getusersummary), under names that do not change.
FOLLOWER_SOURCES = {
    0: "other",
    1: "search",
    17: "business_card",
    30: "qr_code",
    43: "article_menu",
    51: "after_payment",
    57: "article_account_name",
    75: "article_ads",
    78: "moments_ads",
    100: "wechat_ads",
    149: "mini_program",
    161: "reposted_by_others",
    200: "channels",
    201: "live",
}
# user_source of reads (getuserread).
READ_SOURCES = {
    0: "chat",
    1: "friends",
    2: "moments",
    4: "history",
    5: "other",
    6: "top_stories",
    7: "search",
}
READ_FIELDS = {
    Metric.VIEWS: "int_page_read_count",
    Metric.SHARES: "share_count",
    Metric.SAVES: "add_to_fav_count",
}
BIZ_FIELDS = {
    Metric.LIKES: "like_user",
    Metric.WOWS: "zaikan_user",
    Metric.COMMENTS: "comment_count",
}
ARTICLE_FIELDS = {
    Metric.VIEWS: "read_user",
    Metric.SHARES: "share_user",
    Metric.LIKES: "like_user",
    Metric.WOWS: "zaikan_user",
    Metric.COMMENTS: "comment_count",
    Metric.SAVES: "collection_user",
}
MSG_DATA_API = N_(
    "WeChat does not let this Official Account read its statistics through the API (error "
    "48001): the data API is open to verified accounts (微信认证). Verify the account, or "
    "grant the permission in the Official Accounts Platform."
)


class _WechatHttp(Protocol):
    def _call(
        self, channel: ChannelContext, path: str, *, sent_means_unknown: bool = False, **kwargs: Any
    ) -> dict[str, Any]: ...


def _source_name(code: Any, names: Mapping[int, str]) -> str:
    number = figure(code)
    if number is None:
        return "unknown"
    return names.get(number, f"source_{number}")


def _cube(
    http: _WechatHttp, channel: ChannelContext, api: str, start: date, end: date
) -> list[Mapping[str, Any]]:
    """The rows of one data cube endpoint for ``start``..``end``, in calls that fit its span."""
    rows: list[Mapping[str, Any]] = []
    for first, last in chunks(start, end, SPANS[api]):
        body = {"begin_date": first.isoformat(), "end_date": last.isoformat()}
        try:
            answer = http._call(channel, f"/datacube/{api}", body=body)
        except PermanentError as exc:
            if exc.code == NOT_ALLOWED:
                raise MetricsUnavailableError(MSG_DATA_API, code=NOT_ALLOWED) from exc
            raise
        rows.extend(row for row in answer.get("list") or [] if isinstance(row, Mapping))
    return rows


def _windows(days: Sequence[date], size: int) -> list[tuple[date, date]]:
    """Ranges of at most ``size`` days that cover every one of ``days`` (sorted)."""
    windows: list[tuple[date, date]] = []
    for day in days:
        if windows and day <= windows[-1][1]:
            continue
        windows.append((day, day + timedelta(days=size - 1)))
    return windows


def _articles(
    http: _WechatHttp, channel: ChannelContext, *, wanted: set[str] | None = None, after: int = 0
) -> tuple[list[tuple[str, Mapping[str, Any], Mapping[str, Any], int]], bool]:
    """The account's published articles, newest first: (external id, group, article, index).

    Reads until every id in ``wanted`` is found, or down to articles updated at ``after``
    (unix s) or earlier; the flag says whether there were more to read.
    """
    found: list[tuple[str, Mapping[str, Any], Mapping[str, Any], int]] = []
    for page in range(MAX_PAGES):
        body = {"offset": page * PAGE, "count": PAGE, "no_content": 1}
        answer = http._call(channel, "/cgi-bin/freepublish/batchget", body=body)
        items = [item for item in answer.get("item") or [] if isinstance(item, Mapping)]
        for item in items:
            if after and (figure(item.get("update_time")) or 0) <= after:
                return found, False
            news = (item.get("content") or {}).get("news_item") or []
            for index, article in enumerate(news, start=1):
                if isinstance(article, Mapping) and not article.get("is_deleted"):
                    article_id = str(item.get("article_id", ""))
                    external_id = article_id if index == 1 else f"{article_id}:{index}"
                    found.append((external_id, item, article, index))
        if wanted is not None and wanted <= {external_id for external_id, *_ in found}:
            return found, False
        if (page + 1) * PAGE >= (figure(answer.get("total_count")) or 0):
            return found, False
    return found, True


class WechatMetrics:
    """Account and article figures; mixed into ``WechatOaConnector``."""

    metrics_limits = MetricsLimits(
        post_batch=PAGE,
        account_range_days=SPANS["getusersummary"],
        account_history_start=HISTORY_START,
        account_delay_days=1,
    )

    def post_metrics(
        self: _WechatHttp, channel: ChannelContext, external_ids: Sequence[str]
    ) -> list[PostFigures]:
        """Each article's figures as of yesterday (WeChat counts an article's first 30 days)."""
        wanted = set(external_ids)
        yesterday = beijing_today() - timedelta(days=1)
        articles: dict[str, tuple[str, date]] = {}  # external id -> (msgid, day published)
        for external_id, item, _article, index in _articles(self, channel, wanted=wanted)[0]:
            published = values.parse_unix(item.get("update_time"), milliseconds=False)
            if external_id in wanted and published is not None:
                msgid = f"{item.get('msg_data_id', '')}_{index}"
                articles[external_id] = (msgid, beijing_today(published))
        days = sorted({day for _, day in articles.values() if day <= yesterday})
        rows: dict[str, Mapping[str, Any]] = {}
        for first, last in _windows(days, SPANS["getarticletotaldetail"]):
            for row in _cube(self, channel, "getarticletotaldetail", first, min(last, yesterday)):
                rows[str(row.get("msgid", ""))] = row
        observed = utcnow()
        found = []
        for external_id in dict.fromkeys(external_ids):
            if external_id not in articles:
                continue  # not among the published articles WeChat lists
            msgid = articles[external_id][0]
            dated = [
                (day, detail)
                for detail in rows.get(msgid, {}).get("detail_list") or []
                if isinstance(detail, Mapping)
                and (day := parse_day(detail.get("stat_date"))) is not None
            ]
            if not dated:  # published today: WeChat has no complete day of it yet
                continue
            stat_day, detail = max(dated, key=lambda pair: pair[0])
            found.append(
                PostFigures(
                    external_id,
                    observed,
                    figures(detail, ARTICLE_FIELDS),
                    as_of=day_end(stat_day),
                    raw={"msgid": msgid, **detail},
                )
            )
        return found

    def account_metrics(
        self: _WechatHttp, channel: ChannelContext, *, start: date, end: date
    ) -> list[AccountDay]:
        """The account's daily figures from ``start`` to ``end`` (yesterday at the latest)."""
        end = min(end, beijing_today() - timedelta(days=1))
        start = max(start, HISTORY_START)
        if start > end:
            return []
        found: dict[date, dict[Metric, int]] = {}
        split: dict[date, dict[str, dict[str, int]]] = {}

        def add(day: date | None, metric: Metric, value: int | None) -> None:
            if day is not None and value is not None:
                found.setdefault(day, {})
                found[day][metric] = found[day].get(metric, 0) + value

        def add_part(day: date | None, breakdown: str, name: str, value: int | None) -> None:
            if day is not None and value is not None:
                parts = split.setdefault(day, {}).setdefault(breakdown, {})
                parts[name] = parts.get(name, 0) + value

        for row in _cube(self, channel, "getusersummary", start, end):
            day = parse_day(row.get("ref_date"))
            add(day, Metric.NEW_FOLLOWERS, figure(row.get("new_user")))
            add(day, Metric.LOST_FOLLOWERS, figure(row.get("cancel_user")))
            name = _source_name(row.get("user_source"), FOLLOWER_SOURCES)
            add_part(day, "follower_source", name, figure(row.get("new_user")))
        for row in _cube(self, channel, "getusercumulate", start, end):
            add(parse_day(row.get("ref_date")), Metric.FOLLOWERS, figure(row.get("cumulate_user")))
        for row in _cube(self, channel, "getuserread", start, end):
            day = parse_day(row.get("ref_date"))
            if figure(row.get("user_source")) == ALL_SOURCES:
                for metric, value in figures(row, READ_FIELDS).items():
                    add(day, metric, value)
            else:
                name = _source_name(row.get("user_source"), READ_SOURCES)
                add_part(day, "view_source", name, figure(row.get("int_page_read_count")))
        for row in _cube(self, channel, "getbizsummary", start, end):
            detail = row.get("detail")
            if not isinstance(detail, Mapping):
                continue
            for metric, value in figures(detail, BIZ_FIELDS).items():
                add(parse_day(row.get("ref_date")), metric, value)
        return [
            AccountDay(day, found.get(day, {}), split.get(day, {}))
            for day in sorted(set(found) | set(split))
            if start <= day <= end
        ]

    def account_posts(self: _WechatHttp, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Articles published after the cursor (the newest ``update_time`` read), oldest first."""
        after = int(since) if since.isdigit() else 0
        articles, more = _articles(self, channel, after=after)
        items = []
        for external_id, item, article, index in articles:
            published = values.parse_unix(item.get("update_time"), milliseconds=False) or utcnow()
            author = str(article.get("author") or channel.external_id)
            items.append(
                FetchedItem(
                    kind=FetchedKind.POST,
                    external_id=external_id,
                    text=str(article.get("title") or article.get("digest") or ""),
                    author=FetchedAuthor(external_id=channel.external_id, name=author),
                    created_at=published,
                    post_external_id=external_id,
                    url=str(article.get("url", "")),
                    format=ContentFormat.ARTICLE,
                    raw={
                        **article,
                        "article_id": item.get("article_id", ""),
                        "msg_data_id": item.get("msg_data_id", ""),
                        "index": index,
                    },
                )
            )
        newest = max(
            (figure(item.get("update_time")) or 0 for _, item, _, _ in articles), default=after
        )
        items.sort(key=lambda fetched: fetched.created_at)
        return FetchPage(tuple(items), str(max(newest, after)) if newest or after else since, more)
