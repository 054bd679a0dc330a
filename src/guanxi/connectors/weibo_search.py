"""Reading Weibo's public search feed into ``FetchPage`` values (for listening pulls).

``search/statuses`` answers ``{"statuses": [...], "total_number": n}``, newest first; each
status carries its author under ``user``. The cursor guanxi keeps is the newest status id
seen (Weibo ids grow with time), passed back as ``since_id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from guanxi.connectors.base import FetchedAuthor, FetchedItem, FetchedKind, FetchPage

SEARCH_PATH = "/2/search/statuses.json"
PAGE_SIZE = 50
_TAGS = re.compile(r"<[^>]+>")

Call = Callable[..., dict[str, Any]]


def _time(value: object) -> datetime:
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        return datetime.now(UTC)  # a status without a readable time is taken as new


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def fetched_item(status: Mapping[str, Any]) -> FetchedItem:
    """One status of Weibo's API as a fetched post."""
    user = status.get("user") or {}
    post_id = str(status.get("idstr") or status.get("id") or "")
    uid = str(user.get("idstr") or user.get("id") or "")
    return FetchedItem(
        kind=FetchedKind.POST,
        external_id=post_id,
        text=_TAGS.sub("", str(status.get("text", ""))),
        author=FetchedAuthor(
            external_id=uid,
            name=str(user.get("screen_name") or user.get("name") or ""),
            followers=_int(user.get("followers_count")),
            verified_type=_int(user.get("verified_type")),
            url=f"https://weibo.com/u/{uid}" if uid else "",
        ),
        created_at=_time(status.get("created_at")),
        post_external_id=post_id,
        url=f"https://m.weibo.cn/detail/{post_id}",
        metrics={
            "likes": _int(status.get("attitudes_count")) or 0,
            "comments": _int(status.get("comments_count")) or 0,
            "reposts": _int(status.get("reposts_count")) or 0,
        },
        raw=dict(status),
    )


def search_page(call: Call, *, token: str, query: str, since: str) -> FetchPage:
    """One page of the search feed newer than the cursor ``since``."""
    body = call(
        "GET",
        SEARCH_PATH,
        params={"access_token": token, "q": query, "since_id": since or "0", "count": PAGE_SIZE},
    )
    statuses = [s for s in body.get("statuses", []) if isinstance(s, Mapping)]
    items = tuple(fetched_item(status) for status in statuses)
    ids = [int(item.external_id) for item in items if item.external_id.isdigit()]
    cursor = str(max(ids)) if ids else since
    total = _int(body.get("total_number")) or 0
    return FetchPage(items=items, cursor=cursor, has_more=total > len(items))
