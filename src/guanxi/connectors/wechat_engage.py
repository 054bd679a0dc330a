"""WeChat Official Account comments and customer-service replies (a mixin of the connector).

Article comments (图文消息留言管理): ``comment/list`` of each recently published article
(``msg_data_id`` and the article's ``index`` in its group), ``comment/reply/add`` and
``comment/delete``. WeChat answers errcode 88000 when the account has no comment
permission (comments are open only to verified accounts that enabled them): that becomes
an explained ``PermanentError`` for the channel's page, not a crash.

Private messages are not pulled: WeChat pushes them to the server URL (guanxi.inbox.intake.push).
They are answered with a customer-service message (``message/custom/send``), which WeChat
accepts only within 48 hours of the person's last message (errcode 45015 outside it,
45047 once the answers allowed are used up); guanxi checks that window first
(``message_reply_window``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
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
    ReplyWindow,
)
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.errors import N_

ARTICLES = 20  # comments are read on the 20 most recently published articles
COMMENT_PAGE = 50  # comment/list allows at most 50 a call
MAX_COMMENT_PAGES = 10
NO_COMMENT_CODE = "88000"
WINDOW_CODES = frozenset({"45015", "45047"})
OUTSIDE_WINDOW_CODE = "45015"  # both window refusals are reported with this code

MSG_NO_COMMENT = N_(
    "This Official Account has no comment permission on WeChat (error 88000), so guanxi "
    "cannot read or answer article comments. Comments are open to verified accounts that "
    "enabled them in the Official Accounts Platform; until then, nothing to do here."
)
MSG_OUTSIDE_WINDOW = N_(
    "WeChat refused the answer (error {errcode}): a private message can only be answered "
    "within 48 hours of the person's last message, and at most 5 times."
)
MSG_WINDOW_CLOSED = N_(
    "WeChat only lets the account answer a private message within 48 hours of the person's "
    "last message. That window is closed, so the reply is kept as a draft: send it when the "
    "person writes again."
)
MSG_WINDOW_FULL = N_(
    "WeChat allows {limit} answers to a person's message; they are used up, so the reply is "
    "kept as a draft: send it when the person writes again."
)
MSG_NO_MENTIONS = N_("WeChat has no mentions to answer.")
MSG_HIDE_COMMENTS = N_("On WeChat, guanxi can only delete article comments.")
MSG_BAD_ITEM = N_("This comment's id is not one guanxi wrote; sync the channel again.")


class _WechatHttp(Protocol):
    def _call(
        self, channel: ChannelContext, path: str, *, sent_means_unknown: bool = False, **kwargs: Any
    ) -> dict[str, Any]: ...


def comment_key(msg_data_id: str, index: int, user_comment_id: str) -> str:
    """The inbox id of a comment: what ``reply`` and ``hide`` need to find it again."""
    return f"{msg_data_id}:{index}:{user_comment_id}"


def _parse_key(key: str) -> tuple[str, int, int]:
    msg_data_id, _, rest = key.partition(":")
    index, _, comment_id = rest.partition(":")
    if not (msg_data_id and index.isdigit() and comment_id.isdigit()):
        raise PermanentError(MSG_BAD_ITEM, code="bad_item")
    return msg_data_id, int(index), int(comment_id)


def _call_comments(
    http: _WechatHttp, channel: ChannelContext, path: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    try:
        return http._call(channel, path, body=dict(body))
    except PermanentError as exc:
        if exc.code == NO_COMMENT_CODE:
            raise PermanentError(MSG_NO_COMMENT, code=NO_COMMENT_CODE) from exc
        raise


def _published(http: _WechatHttp, channel: ChannelContext) -> list[tuple[str, str, int, str]]:
    """(msg_data_id, article_id, index, url) of the recent articles."""
    data = http._call(
        channel,
        "/cgi-bin/freepublish/batchget",
        body={"offset": 0, "count": ARTICLES, "no_content": 1},
    )
    found = []
    for item in data.get("item") or []:
        msg_data_id = str(item.get("msg_data_id") or "")
        if not msg_data_id:
            continue
        news = (item.get("content") or {}).get("news_item") or []
        for index, article in enumerate(news, start=1):
            if not article.get("is_deleted"):
                found.append(
                    (
                        msg_data_id,
                        str(item.get("article_id", "")),
                        index,
                        str(article.get("url", "")),
                    )
                )
    return found


def _comment_item(
    row: Mapping[str, Any], msg_data_id: str, article_id: str, index: int, url: str
) -> FetchedItem:
    openid = str(row.get("openid", ""))
    # Unreadable is taken as now; out of range is kept and refused by the inbox's ingest.
    created = values.parse_unix(row.get("create_time"), milliseconds=False) or utcnow()
    return FetchedItem(
        kind=FetchedKind.COMMENT,
        external_id=comment_key(msg_data_id, index, str(row.get("user_comment_id", ""))),
        text=str(row.get("content", "")),
        # comment/list names nobody: the openid is all WeChat tells about the author.
        author=FetchedAuthor(external_id=openid, name=str(row.get("nickname") or openid)),
        created_at=created,
        post_external_id=article_id,
        url=url,
        raw={**row, "msg_data_id": msg_data_id, "index": index},
    )


class WechatEngage:
    """Article comments and customer-service replies; mixed into ``WechatOaConnector``."""

    # guanxi checks the customer-service window before calling WeChat (LimitsMessageReplies).
    message_reply_window = ReplyWindow(
        duration=timedelta(hours=48),
        max_replies=5,
        refusal_code=OUTSIDE_WINDOW_CODE,
        closed_message=MSG_WINDOW_CLOSED,
        full_message=MSG_WINDOW_FULL,
        open_note=N_("WeChat window open: %(count)d messages left."),
        closed_note=N_("WeChat window closed: the reply will be kept as a draft."),
    )

    def fetch_comments(self: _WechatHttp, channel: ChannelContext, *, since: str = "") -> FetchPage:
        """Comments on the recent articles newer than ``since``.

        The cursor is JSON: for each article (``msg_data_id:index``) the largest
        ``user_comment_id`` read, which WeChat numbers upwards per article.
        """
        try:
            seen: dict[str, int] = {k: int(v) for k, v in json.loads(since or "{}").items()}
        except (ValueError, AttributeError, TypeError):
            seen = {}
        items: list[FetchedItem] = []
        for msg_data_id, article_id, index, url in _published(self, channel):
            key = f"{msg_data_id}:{index}"
            last = seen.get(key, 0)
            for page in range(MAX_COMMENT_PAGES):
                body = {
                    "msg_data_id": msg_data_id,
                    "index": index,
                    "begin": page * COMMENT_PAGE,
                    "count": COMMENT_PAGE,
                    "type": 0,
                }
                data = _call_comments(self, channel, "/cgi-bin/comment/list", body)
                rows = [r for r in data.get("comment") or [] if isinstance(r, Mapping)]
                for row in rows:
                    number = int(row.get("user_comment_id") or 0)
                    if number > last:
                        items.append(_comment_item(row, msg_data_id, article_id, index, url))
                        seen[key] = max(seen.get(key, 0), number)
                if (page + 1) * COMMENT_PAGE >= int(data.get("total") or 0):
                    break
        items.sort(key=lambda item: item.created_at)
        return FetchPage(tuple(items), json.dumps(seen, sort_keys=True))

    def reply(self: _WechatHttp, channel: ChannelContext, request: ReplyRequest) -> ReplyResult:
        """Answer a comment (``comment/reply/add``) or a message (``message/custom/send``)."""
        if request.kind is FetchedKind.MESSAGE:
            body = {
                "touser": request.author_external_id,
                "msgtype": "text",
                "text": {"content": request.text},
            }
            try:
                data = self._call(channel, "/cgi-bin/message/custom/send", body=body)
            except PermanentError as exc:
                if exc.code in WINDOW_CODES:
                    raise PermanentError(
                        MSG_OUTSIDE_WINDOW, code=OUTSIDE_WINDOW_CODE, errcode=exc.code
                    ) from exc
                raise
            return ReplyResult(external_id=str(data.get("msgid", "")), raw=data)
        if request.kind is not FetchedKind.COMMENT:
            raise NotSupportedError(MSG_NO_MENTIONS)
        msg_data_id, index, comment_id = _parse_key(request.item_external_id)
        answer: dict[str, Any] = {
            "msg_data_id": msg_data_id,
            "index": index,
            "user_comment_id": comment_id,
            "content": request.text,
        }
        data = _call_comments(self, channel, "/cgi-bin/comment/reply/add", answer)
        return ReplyResult(external_id=f"{request.item_external_id}:reply", raw=data)

    def hide(
        self: _WechatHttp, channel: ChannelContext, *, item_external_id: str, kind: FetchedKind
    ) -> None:
        """Delete a comment from the article (``comment/delete``)."""
        if kind is not FetchedKind.COMMENT:
            raise NotSupportedError(MSG_HIDE_COMMENTS)
        msg_data_id, index, comment_id = _parse_key(item_external_id)
        body: dict[str, Any] = {
            "msg_data_id": msg_data_id,
            "index": index,
            "user_comment_id": comment_id,
        }
        _call_comments(self, channel, "/cgi-bin/comment/delete", body)
