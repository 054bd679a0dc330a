"""Weibo's read and engage side: comments, mentions, replies and comment removal (v2 API).

A mixin of ``WeiboConnector``: it calls the connector's ``_token`` and ``_call``, so errors
come back mapped exactly as for publishing (Weibo's ``{request, error_code, error}``: token
codes raise ``TokenError``, rate codes ``RateLimitedError``, busy codes ``TransientError``).

Reading is incremental with Weibo's own ids, which grow with time: the cursor is the
largest id seen, passed back as ``since_id``; older pages are walked with ``max_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from guanxi.connectors.base import (
    ChannelContext,
    FetchedAuthor,
    FetchedItem,
    FetchedKind,
    FetchPage,
    NotSupportedError,
    PermanentError,
    ReplyRequest,
    ReplyResult,
)
from guanxi.connectors.weibo_links import status_url
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

PAGE_SIZE = 100  # Weibo allows up to 200 a page; 100 keeps answers small
MAX_PAGES = 5  # per sync: a first sync reads the 500 most recent, later ones what is new
COMMENT_GONE = N_("This comment no longer exists on Weibo (it was deleted).")
HIDE_MENTION = N_(
    "Weibo only lets an account delete comments on its own posts; a post that mentions the "
    "account cannot be hidden from here. Report it on Weibo if it breaks the rules."
)
REPLY_MESSAGE = N_("Weibo's open API does not send private messages; answer on Weibo.")


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


class _WeiboApi(_WeiboHttp, Protocol):
    _base: str  # the API's base URL, which says where people open a post


def weibo_time(value: Any) -> datetime:
    """Weibo's ``created_at`` ("Tue May 31 17:46:55 +0800 2011") as aware UTC."""
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        return utcnow()


def _id(row: Mapping[str, Any]) -> str:
    return str(row.get("idstr") or row.get("id") or "")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e400 is infinity
        return None


def _author(user: Any) -> FetchedAuthor:
    user = user if isinstance(user, Mapping) else {}
    uid = _id(user)
    return FetchedAuthor(
        external_id=uid,
        name=str(user.get("screen_name") or user.get("name") or uid),
        followers=_int(user.get("followers_count")),
        verified_type=_int(user.get("verified_type")),
        url=f"https://weibo.com/u/{uid}" if uid else "",
        avatar_url=str(user.get("profile_image_url") or ""),
    )


def _comment_item(row: Mapping[str, Any], kind: FetchedKind, base: str) -> FetchedItem:
    """A comment (on the account's post, or naming the account); ``base`` is the API's."""
    status: Mapping[str, Any] = row["status"] if isinstance(row.get("status"), Mapping) else {}
    answered = row.get("reply_comment")
    parent: Mapping[str, Any] = answered if isinstance(answered, Mapping) else {}
    post_id = _id(status)
    return FetchedItem(
        kind=kind,
        external_id=_id(row),
        text=str(row.get("text", "")),
        author=_author(row.get("user")),
        created_at=weibo_time(row.get("created_at")),
        post_external_id=post_id,
        parent_external_id=_id(parent),
        url=status_url(base, post_id, _id(status.get("user") or {})),
        raw=dict(row),
    )


def _status_item(row: Mapping[str, Any], base: str) -> FetchedItem:
    """A post that mentions the account; ``base`` is the API's."""
    post_id = _id(row)
    return FetchedItem(
        kind=FetchedKind.MENTION,
        external_id=post_id,
        text=str(row.get("text", "")),
        author=_author(row.get("user")),
        created_at=weibo_time(row.get("created_at")),
        post_external_id=post_id,
        url=status_url(base, post_id, _id(row.get("user") or {})),
        metrics={
            "reposts": _int(row.get("reposts_count")) or 0,
            "comments": _int(row.get("comments_count")) or 0,
            "likes": _int(row.get("attitudes_count")) or 0,
        },
        raw=dict(row),
    )


def _read_feed(
    http: _WeiboHttp, channel: ChannelContext, path: str, key: str, since: str
) -> tuple[list[Mapping[str, Any]], str, bool]:
    """The rows of a since_id feed newer than ``since``, oldest first; the new cursor."""
    token = http._token(channel)
    rows: list[Mapping[str, Any]] = []
    max_id = 0
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"access_token": token, "count": PAGE_SIZE}
        if since.isdecimal():
            params["since_id"] = since
        if max_id:
            params["max_id"] = max_id
        body = http._call("GET", path, params=params)
        page = [row for row in body.get(key) or [] if isinstance(row, Mapping) and _id(row)]
        rows.extend(page)
        if len(page) < PAGE_SIZE:
            break
        max_id = min(int(_id(row)) for row in page) - 1
    else:
        return _sorted(rows), _cursor(rows, since), True
    return _sorted(rows), _cursor(rows, since), False


def _sorted(rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    unique = {_id(row): row for row in rows}
    return sorted(unique.values(), key=lambda row: int(_id(row)))


def _cursor(rows: list[Mapping[str, Any]], since: str) -> str:
    ids = [int(_id(row)) for row in rows if _id(row).isdecimal()]
    if since.isdecimal():
        ids.append(int(since))
    return str(max(ids)) if ids else since


class WeiboEngage:
    """Comments, mentions, replies and comment removal; mixed into ``WeiboConnector``."""

    def fetch_comments(self: _WeiboApi, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Comments on the account's posts (``comments/to_me``) newer than ``since``."""
        rows, cursor, more = _read_feed(self, channel, "/2/comments/to_me.json", "comments", since)
        items = tuple(_comment_item(row, FetchedKind.COMMENT, self._base) for row in rows)
        return FetchPage(items=items, cursor=cursor, has_more=more)

    def fetch_mentions(self: _WeiboApi, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Posts (``statuses/mentions``) and comments (``comments/mentions``) naming the account.

        The cursor holds both feeds' positions: ``<statuses since_id>:<comments since_id>``.
        """
        status_since, _, comment_since = since.partition(":")
        statuses, status_cursor, more = _read_feed(
            self, channel, "/2/statuses/mentions.json", "statuses", status_since
        )
        comments, comment_cursor, more_comments = _read_feed(
            self, channel, "/2/comments/mentions.json", "comments", comment_since
        )
        items = [_status_item(row, self._base) for row in statuses]
        items += [_comment_item(row, FetchedKind.MENTION, self._base) for row in comments]
        items.sort(key=lambda item: item.created_at)
        return FetchPage(tuple(items), f"{status_cursor}:{comment_cursor}", more or more_comments)

    def reply(self: _WeiboApi, channel: ChannelContext, request: ReplyRequest) -> ReplyResult:
        """Answer a comment (``comments/reply``), or comment on a post that mentions us."""
        if request.kind is FetchedKind.MESSAGE:
            raise NotSupportedError(REPLY_MESSAGE)
        token = self._token(channel)
        answers_post = request.kind is FetchedKind.MENTION and (
            not request.post_external_id or request.post_external_id == request.item_external_id
        )
        data: dict[str, Any] = {"access_token": token, "comment": request.text}
        if answers_post:  # a post that mentions the account: comment on it
            path = "/2/comments/create.json"
            data["id"] = request.item_external_id
        else:
            path = "/2/comments/reply.json"
            data.update(cid=request.item_external_id, id=request.post_external_id)
        try:
            body = self._call("POST", path, data=data, sent=True)
        except PermanentError as exc:
            if exc.code in {"20201", "20101"}:
                raise PermanentError(COMMENT_GONE, code=exc.code) from exc
            raise
        reply_id = _id(body)
        post_id = request.post_external_id or request.item_external_id
        return ReplyResult(reply_id, url=status_url(self._base, post_id), raw=body)

    def hide(
        self: _WeiboHttp, channel: ChannelContext, *, item_external_id: str, kind: FetchedKind
    ) -> None:
        """Delete a comment on the account's posts (``comments/destroy``); gone counts as done."""
        if kind is not FetchedKind.COMMENT:
            raise NotSupportedError(HIDE_MENTION)
        token = self._token(channel)
        try:
            data = {"access_token": token, "cid": item_external_id}
            self._call("POST", "/2/comments/destroy.json", data=data, sent=True)
        except PermanentError as exc:
            if exc.code != "20201":
                raise
