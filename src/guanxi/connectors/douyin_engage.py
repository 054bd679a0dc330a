"""Douyin comments on the account's videos, and replies to them (a mixin of the connector).

``/item/comment/list/`` is read for each of the account's recent videos (``/video/list/``);
``/item/comment/reply/`` answers a comment. Douyin's comment ids carry no order, so the
cursor keeps, per video, the newest ``create_time`` read: the next sync asks again from that
second on, and the inbox's unique key drops what it already has. Douyin's open API offers
no way to hide someone else's comment, so ``hide`` stays unsupported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from guanxi.connectors.base import (
    ChannelContext,
    FetchedAuthor,
    FetchedItem,
    FetchedKind,
    FetchPage,
    NotSupportedError,
    ReplyRequest,
    ReplyResult,
)
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

VIDEO_PAGES = 2  # of 20: comments are read on the 40 most recent videos
VIDEO_PAGE_SIZE = 20
COMMENT_PAGE_SIZE = 50
MAX_COMMENT_PAGES = 10
MSG_ONLY_COMMENTS = N_("On Douyin, guanxi answers comments only.")


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


def _time(value: Any) -> datetime:
    """``create_time`` (Unix seconds); an unreadable one is taken as now. A time out of
    range is kept as read: the inbox's ingest refuses it (``guanxi.core.values``)."""
    return values.parse_unix(value, milliseconds=False) or utcnow()


def _whole(value: Any, *, maximum: int = values.MAX_COUNT) -> int:
    """A whole number of the API (a count, Unix seconds); 0 when it is not one."""
    try:
        return values.count(value, maximum=maximum)
    except values.InvalidValue:
        return 0


def _videos(http: _DouyinHttp, channel: ChannelContext) -> list[Mapping[str, Any]]:
    videos: list[Mapping[str, Any]] = []
    cursor = 0
    for _ in range(VIDEO_PAGES):
        data = http._api(
            channel, "GET", "/video/list/", params={"cursor": cursor, "count": VIDEO_PAGE_SIZE}
        )
        videos.extend(v for v in data.get("list") or [] if isinstance(v, Mapping))
        if not data.get("has_more"):
            break
        cursor = int(data.get("cursor", 0))
    return videos


def _item(row: Mapping[str, Any], video: Mapping[str, Any]) -> FetchedItem:
    user = str(row.get("comment_user_id", ""))
    return FetchedItem(
        kind=FetchedKind.COMMENT,
        external_id=str(row.get("comment_id", "")),
        text=str(row.get("content", "")),
        author=FetchedAuthor(external_id=user, name=user),  # the list names nobody
        created_at=_time(row.get("create_time")),
        post_external_id=str(video.get("item_id", "")),
        url=str(video.get("share_url", "")),
        metrics={
            "likes": _whole(row.get("digg_count")),
            "comments": _whole(row.get("reply_comment_total")),
        },
        raw=dict(row),
    )


class DouyinEngage:
    """Comments and replies; mixed into ``DouyinConnector``."""

    def fetch_comments(self: _DouyinHttp, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Comments on the recent videos from the cursor's second on (JSON: video → time)."""
        try:
            newest: dict[str, int] = {k: int(v) for k, v in json.loads(since or "{}").items()}
        except (ValueError, AttributeError, TypeError):
            newest = {}
        items: list[FetchedItem] = []
        for video in _videos(self, channel):
            item_id = str(video.get("item_id", ""))
            floor = newest.get(item_id, 0)
            cursor = 0
            for _ in range(MAX_COMMENT_PAGES):
                data = self._api(
                    channel,
                    "GET",
                    "/item/comment/list/",
                    params={
                        "item_id": item_id,
                        "cursor": cursor,
                        "count": COMMENT_PAGE_SIZE,
                        "sort_type": "time",
                    },
                )
                rows = [r for r in data.get("list") or [] if isinstance(r, Mapping)]
                fresh = [r for r in rows if _whole(r.get("create_time"), maximum=2**62) >= floor]
                items.extend(_item(row, video) for row in fresh)
                for row in fresh:
                    newest[item_id] = max(
                        newest.get(item_id, 0), _whole(row.get("create_time"), maximum=2**62)
                    )
                # Newest first: once a page reaches older comments, the rest is older still.
                if len(fresh) < len(rows) or not data.get("has_more"):
                    break
                cursor = int(data.get("cursor", 0))
        items.sort(key=lambda item: item.created_at)
        return FetchPage(tuple(items), json.dumps(newest, sort_keys=True))

    def reply(self: _DouyinHttp, channel: ChannelContext, request: ReplyRequest) -> ReplyResult:
        """Answer a comment on one of the account's videos."""
        if request.kind is not FetchedKind.COMMENT:
            raise NotSupportedError(MSG_ONLY_COMMENTS)
        body = {
            "item_id": request.post_external_id,
            "comment_id": request.item_external_id,
            "content": request.text,
        }
        data = self._api(channel, "POST", "/item/comment/reply/", json=body)
        return ReplyResult(external_id=str(data.get("comment_id", "")), raw=data)
