"""The sandbox's Weibo figures: post counts, reads, and an account's follower trends.

- ``statuses/count`` (GET, ``ids`` comma-separated, at most 100): ``[{"id", "comments",
  "reposts", "attitudes"}]`` for the posts that exist; others are left out.
- ``media_statuses/count_sp/biz`` (GET, ``ids``, at most 100): ``[{"id", "reads"}]`` of the
  account's own posts; only for accounts whose app has Weibo's commercial data API (the
  "biz" level), else error 10014.
- ``friendships/followers/trend_count`` (GET, ``uid``, ``start_date``, ``end_date``): the
  account's followers per day, the last 30 days at most, up to yesterday.
- ``users/behavior_trend/biz`` (GET, same parameters): followers, reads, reposts, comments
  and likes per day over the last 90 days; "biz" level only.

Dates are Beijing days by the sandbox's clock; a range the API does not allow is refused
with 10017 (a parameter's value is invalid), as Weibo refuses bad parameters. Calls count
against the surface's hourly limits (``guanxi.sandbox.weibo_calls._authorize``). Sandbox-only:
``PUT /weibo/_sandbox/accounts/{uid}/biz`` (``{"biz": true|false}``) and ``POST
/weibo/_sandbox/accounts/{uid}/history`` (``{"days", "per_week"}``: older posts).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from guanxi.sandbox import metrics
from guanxi.sandbox.app import json_error, sandbox_of
from guanxi.sandbox.state import SandboxPost, SandboxState
from guanxi.sandbox.weibo import DEMO_WEIBO_UID
from guanxi.sandbox.weibo_calls import (
    PLATFORM,
    _authorize,
    _error,
    _params,
    _RefusedError,
)

if TYPE_CHECKING:
    from guanxi.sandbox.weibo import WeiboSandbox

IDS_MAX = 100
TREND_DAYS = 30  # friendships/followers/trend_count
BIZ_TREND_DAYS = 90  # users/behavior_trend/biz
# History posts get ids below the counter's (4.8e15) that grow with time, as Weibo's do.
HISTORY_ID_BASE = 4_700_000_000_000_000
HISTORY_TEXTS = (
    "普罗旺斯的夏天，一杯桃红。",
    "周末小课堂：如何读懂一张葡萄酒酒标？",
    "新年份到港，欢迎来门店品鉴。",
    "配餐小贴士：桃红配海鲜，清爽又解腻。",
    "酒庄探访：葡萄园里的秋收时节。",
)


def status_counts(state: SandboxState, post: SandboxPost) -> dict[str, int]:
    """A status's counts as Weibo shows them on the status itself."""
    figures = metrics.post_figures(state, post)
    return {
        "reposts_count": figures.get("shares", 0),
        "comments_count": figures.get("comments", 0),
        "attitudes_count": figures.get("likes", 0),
    }


def user_counts(state: SandboxState, uid: str) -> dict[str, int]:
    """An account's counts as ``users/show`` gives them."""
    with state.lock:
        statuses = sum(
            1
            for p in state.posts
            if p.platform == PLATFORM and p.account_id == uid and not p.deleted
        )
    return {
        "followers_count": metrics.followers_now(state, PLATFORM, uid),
        "statuses_count": statuses,
    }


def _ids(path: str, params: dict[str, Any]) -> list[str]:
    raw = str(params.get("ids", "")).strip()
    if not raw:
        raise _RefusedError(_error(path, 10016, "Miss required parameter (ids), see doc"))
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > IDS_MAX or not all(part.isdigit() for part in ids):
        raise _RefusedError(
            _error(path, 10017, "Parameter (ids)'s value invalid, expect (at most 100 ids)")
        )
    return ids


def _range(state: SandboxState, path: str, params: dict[str, Any], days: int) -> tuple[date, date]:
    """The ``start_date``..``end_date`` of a trend call, checked against the API's window."""
    start = metrics.parse_day(params.get("start_date", ""))
    end = metrics.parse_day(params.get("end_date", ""))
    if start is None or end is None:
        message = "Parameter (start_date/end_date)'s value invalid, expect (yyyy-MM-dd)"
        raise _RefusedError(_error(path, 10017, message))
    today = metrics.today(state)
    if start > end or end >= today or start < today - timedelta(days=days):
        message = (
            "Parameter (start_date/end_date)'s value invalid, expect (a range within the "
            f"last {days} days, ending yesterday at the latest)"
        )
        raise _RefusedError(_error(path, 10017, message))
    return start, end


def _own_uid(path: str, params: dict[str, Any], account_id: str) -> str:
    uid = str(params.get("uid") or account_id)
    if uid != account_id:  # figures are the account's own business
        raise _RefusedError(_error(path, 10014, "Insufficient app permissions!", 403))
    return uid


def _posts(state: SandboxState, ids: list[str]) -> list[SandboxPost]:
    wanted = set(ids)
    with state.lock:
        found = {
            p.post_id: p
            for p in state.posts
            if p.platform == PLATFORM and p.post_id in wanted and not p.deleted
        }
    return [found[post_id] for post_id in ids if post_id in found]


def register(router: APIRouter, weibo: WeiboSandbox) -> None:  # noqa: PLR0915 - one closure per route
    """Add the figures endpoints to the Weibo surface's router."""
    biz: set[str] = {DEMO_WEIBO_UID}  # accounts whose app has the commercial data API

    def authorized(
        request: Request, params: dict[str, Any], path: str, *, needs_biz: bool = False
    ) -> str:
        token = _authorize(weibo, request, params)
        if needs_biz and token.account_id not in biz:
            raise _RefusedError(_error(path, 10014, "Insufficient app permissions!", 403))
        return token.account_id

    @router.get("/2/statuses/count.json")
    async def count(request: Request) -> Response:
        path = "/2/statuses/count.json"
        params = await _params(request)
        state = sandbox_of(request).state
        try:
            authorized(request, params, path)
            ids = _ids(path, params)
        except _RefusedError as refused:
            return refused.response
        rows = []
        for post in _posts(state, ids):
            counts = status_counts(state, post)
            rows.append(
                {
                    "id": int(post.post_id),
                    "idstr": post.post_id,
                    "comments": counts["comments_count"],
                    "reposts": counts["reposts_count"],
                    "attitudes": counts["attitudes_count"],
                }
            )
        return JSONResponse(rows)

    @router.get("/2/media_statuses/count_sp/biz.json")
    async def reads(request: Request) -> Response:
        path = "/2/media_statuses/count_sp/biz.json"
        params = await _params(request)
        state = sandbox_of(request).state
        try:
            account_id = authorized(request, params, path, needs_biz=True)
            ids = _ids(path, params)
        except _RefusedError as refused:
            return refused.response
        rows = [
            {
                "id": int(post.post_id),
                "idstr": post.post_id,
                "reads": metrics.post_figures(state, post).get("views", 0),
            }
            for post in _posts(state, ids)
            if post.account_id == account_id
        ]
        return JSONResponse(rows)

    @router.get("/2/friendships/followers/trend_count.json")
    async def trend_count(request: Request) -> Response:
        path = "/2/friendships/followers/trend_count.json"
        params = await _params(request)
        state = sandbox_of(request).state
        try:
            uid = _own_uid(path, params, authorized(request, params, path))
            start, end = _range(state, path, params, TREND_DAYS)
        except _RefusedError as refused:
            return refused.response
        trend = []
        for day in _days(start, end):
            found = metrics.follower_day(state, PLATFORM, uid, day)
            if found is not None:
                trend.append(
                    {
                        "date": day.isoformat(),
                        "followers_count": found.followers,
                        "incr": found.new,
                        "decr": found.lost,
                    }
                )
        return JSONResponse({"uid": int(uid), "trend": trend})

    @router.get("/2/users/behavior_trend/biz.json")
    async def behavior_trend(request: Request) -> Response:
        path = "/2/users/behavior_trend/biz.json"
        params = await _params(request)
        state = sandbox_of(request).state
        try:
            account_id = authorized(request, params, path, needs_biz=True)
            uid = _own_uid(path, params, account_id)
            start, end = _range(state, path, params, BIZ_TREND_DAYS)
        except _RefusedError as refused:
            return refused.response
        data = []
        for day in _days(start, end):
            found = metrics.account_day(state, PLATFORM, uid, day)
            if found is not None:
                data.append(
                    {
                        "date": day.isoformat(),
                        "followers_count": found.followers,
                        "followers_incr": found.new_followers,
                        "followers_decr": found.lost_followers,
                        "read_count": found.figures.get("views", 0),
                        "repost_count": found.figures.get("shares", 0),
                        "comment_count": found.figures.get("comments", 0),
                        "attitude_count": found.figures.get("likes", 0),
                    }
                )
        return JSONResponse({"uid": int(uid), "data": data})

    @router.put("/_sandbox/accounts/{uid}/biz")
    async def set_biz(request: Request, uid: str) -> Response:
        body = await request.json()
        if (PLATFORM, uid) not in sandbox_of(request).state.accounts:
            return json_error(404, {"detail": "no such sandbox account"})
        if body.get("biz"):
            biz.add(uid)
        else:
            biz.discard(uid)
        return JSONResponse({"uid": uid, "biz": uid in biz})

    @router.post("/_sandbox/accounts/{uid}/history")
    async def add_history(request: Request, uid: str) -> Response:
        body = await request.json()
        state = sandbox_of(request).state
        if (PLATFORM, uid) not in state.accounts:
            return json_error(404, {"detail": "no such sandbox account"})
        added = add_history_posts(
            state, uid, days=int(body.get("days", 180)), per_week=float(body.get("per_week", 5))
        )
        return JSONResponse({"uid": uid, "added": added})


HISTORY_CARDS = ("video", "article")


def add_history_posts(state: SandboxState, uid: str, *, days: int, per_week: float) -> int:
    """Give the account posts from before guanxi knew it (published outside guanxi)."""
    times = metrics.history_times(state, uid, days=days, per_week=per_week)
    added = 0
    with state.lock:
        known = {p.post_id for p in state.posts if p.platform == PLATFORM}
        for number, moment in enumerate(times):
            post_id = str(HISTORY_ID_BASE + int(moment.timestamp()) * 10 + number % 10)
            if post_id in known:
                continue
            text = HISTORY_TEXTS[number % len(HISTORY_TEXTS)]
            post = SandboxPost(PLATFORM, uid, post_id, text, moment, extra={"source": "weibo.com"})
            # Text, pictures, a video or a headline article in turn, as a brand's feed mixes.
            if number % 4 == 1:
                post.media = [f"{post_id}-pic"]
            elif number % 4 > 1:
                post.extra["card"] = HISTORY_CARDS[number % 4 - 2]
            state.add_post(post)
            added += 1
    return added


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
