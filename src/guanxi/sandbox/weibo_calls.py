"""What every endpoint of the sandbox's Weibo shares: parameters, errors, the token check.

A call's parameters come from the query and the form together (Weibo accepts either); a
refused call raises ``_RefusedError`` carrying Weibo's JSON error shape
``{"request", "error_code", "error"}``; ``_authorize`` checks the token and the hourly
limits before anything else. Users and statuses are rendered as Weibo's v2 JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from guanxi.core.db import utcnow
from guanxi.sandbox.app import json_error, sandbox_of
from guanxi.sandbox.state import IssuedToken, SandboxPost, SandboxState

if TYPE_CHECKING:
    from guanxi.sandbox.weibo import WeiboSandbox

PLATFORM = "weibo"
PREFIX = "/weibo"
HOUR = 3600


def _error(request: str, code: int, message: str, status_code: int = 400) -> JSONResponse:
    return json_error(status_code, {"request": request, "error_code": code, "error": message})


class _RefusedError(Exception):
    """A request Weibo refuses; carries the response to send."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


async def _params(request: Request) -> dict[str, Any]:
    """Query and form parameters together (Weibo accepts either for most calls)."""
    values: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        async with request.form() as form:
            for key in form:
                items = [await _read(item) for item in form.getlist(key)]
                values[key] = items if len(items) > 1 else items[0]
    return values


@dataclass(frozen=True)
class _Upload:
    filename: str
    content_type: str
    data: bytes


async def _read(item: str | UploadFile) -> str | _Upload:
    # Uploads are read at once, so the form's temporary files are closed with it.
    if isinstance(item, str):
        return item
    return _Upload(item.filename or "pic", item.content_type or "", await item.read())


def _authorize(
    weibo: WeiboSandbox, request: Request, params: dict[str, Any], *, share: bool = False
) -> IssuedToken:
    """The valid token of the call, after the rate limits; raises ``_RefusedError``."""
    path = request.url.path.removeprefix(PREFIX)
    sandbox = sandbox_of(request)
    value = str(params.get("access_token", ""))
    header = request.headers.get("authorization", "")
    if not value and header.lower().startswith("oauth2 "):
        value = header[7:].strip()
    if not value:
        raise _RefusedError(_error(path, 21301, "auth faid!", 401))
    token = sandbox.state.token(PLATFORM, value)
    if token is None or token.revoked:
        raise _RefusedError(_error(path, 21332, "invalid_access_token", 401))
    if not token.valid(utcnow()):
        raise _RefusedError(_error(path, 21327, "expired_token", 401))
    limits, limiter = weibo.limits, sandbox.limiter
    if not limiter.hit(
        f"weibo:app:{token.client_id}", limit=limits.ip_requests_per_hour, window_s=HOUR
    ):
        raise _RefusedError(_error(path, 10022, "IP requests out of rate limit!", 403))
    user_key = f"weibo:user:{token.client_id}:{token.account_id}"
    if not limiter.hit(user_key, limit=limits.user_requests_per_hour, window_s=HOUR):
        raise _RefusedError(_error(path, 10023, "User requests out of rate limit!", 403))
    if share and not limiter.hit(
        f"weibo:share:{token.account_id}", limit=limits.user_shares_per_hour, window_s=HOUR
    ):
        raise _RefusedError(
            _error(path, 10024, "User requests for (statuses/share) out of rate limit!", 403)
        )
    return token


def _user_json(state: SandboxState, account_id: str) -> dict[str, Any]:
    account = state.accounts[(PLATFORM, account_id)]
    return {
        "id": int(account.account_id),
        "idstr": account.account_id,
        "screen_name": account.name,
        "name": account.name,
        "location": "",
        "description": "",
        "url": "",
        "profile_image_url": "",
        "domain": "",
        "verified": True,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
    }


def _status_json(state: SandboxState, post: SandboxPost) -> dict[str, Any]:
    created = post.created_at.astimezone(UTC) + timedelta(hours=8)  # Weibo answers in +0800
    body: dict[str, Any] = {
        "created_at": created.strftime("%a %b %d %H:%M:%S +0800 %Y"),
        "id": int(post.post_id),
        "idstr": post.post_id,
        "mid": post.post_id,
        "text": post.text,
        "source": post.extra.get("source", ""),
        "favorited": False,
        "truncated": False,
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 0,
        "user": _user_json(state, post.account_id),
    }
    if post.media:
        body["original_pic"] = post.extra.get("pic_url", "")
        body["pic_ids"] = list(post.media)
    if post.extra.get("card"):  # a video, headline article or live stream: its card's type
        body["page_info"] = {"type": post.extra["card"], "object_type": post.extra["card"]}
    from guanxi.sandbox.weibo_metrics import status_counts, user_counts  # noqa: PLC0415 - cycle: weibo_metrics imports this module

    body.update(status_counts(state, post))
    body["user"].update(user_counts(state, post.account_id))
    return body


def _find_post(state: SandboxState, post_id: str) -> SandboxPost | None:
    with state.lock:
        return next(
            (p for p in state.posts if p.platform == PLATFORM and p.post_id == post_id), None
        )


def _with_query(url: str, query: dict[str, Any]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)
