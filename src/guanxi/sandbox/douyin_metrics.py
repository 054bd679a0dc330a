"""The sandbox's Douyin data (``/data/external/...``): a video's and an account's figures.

- ``GET /data/external/item/base/?open_id=&item_id=``: a video's totals
  (``total_play``, ``total_like``, ``total_comment``, ``total_share``, ``avg_play_duration``);
- ``GET /data/external/item/{like,comment,play,share}/?open_id=&item_id=&date_type=``: what
  it gained each day of the last 7, 15 or 30 days;
- ``GET /data/external/user/{fans,item,like,comment,share,profile}/?open_id=&date_type=``:
  the account's daily figures over the last 7, 15 or 30 days.

Douyin's data is counted once a day: the figures describe the days up to yesterday (Beijing,
by the sandbox's clock). Only videos created in the last 30 days have figures
(``ITEM_TOO_OLD`` otherwise), and only accounts with more than 100 fans have account data
(``FANS_TOO_FEW``); both codes are the sandbox's, as Douyin does not document them. The
answers use Douyin's envelope, its token check and the surface's per-minute limits.
Sandbox-only: ``POST /douyin/_sandbox/accounts/{open_id}/history`` with ``{"days",
"per_week"}`` gives the account videos published before guanxi knew it.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from guanxi.sandbox import metrics
from guanxi.sandbox.app import json_error, sandbox_of
from guanxi.sandbox.douyin import (
    INVALID_PARAMETER,
    PLATFORM,
    DouyinSandboxConfig,
    _authorizer,
    _ok,
    error_response,
)
from guanxi.sandbox.metrics_model import unit
from guanxi.sandbox.state import SandboxPost, SandboxState

ITEM_TOO_OLD = 2100015  # the sandbox's code: the video was created more than 30 days ago
FANS_TOO_FEW = 2100016  # the sandbox's code: the account has 100 fans or fewer
DATE_TYPES = frozenset({7, 15, 30})
ITEM_MAX_AGE = timedelta(days=30)
MIN_FANS = 100  # account data needs more than this many fans
ITEM_FIELDS = {"like": "likes", "comment": "comments", "play": "views", "share": "shares"}
USER_FIELDS = {
    "item": (("new_play", "views"),),
    "like": (("new_like", "likes"),),
    "comment": (("new_comment", "comments"),),
    "share": (("new_share", "shares"),),
}
HISTORY_TEXTS = (
    "普罗旺斯的夏天 #桃红葡萄酒 ",
    "三十秒读懂酒标 #葡萄酒知识 ",
    "开瓶小技巧 #生活小妙招 ",
    "桃红配海鲜 #美食搭配 ",
    "酒庄秋收日记 #vlog ",
)


def post_statistics(state: SandboxState, post: SandboxPost) -> dict[str, int]:
    """A video's counts as ``/video/list/`` and ``/video/data/`` show them (live)."""
    figures = metrics.post_figures(state, post)
    return {
        "comment_count": figures.get("comments", 0),
        "digg_count": figures.get("likes", 0),
        "play_count": figures.get("views", 0),
        "share_count": figures.get("shares", 0),
    }


def _date_type(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) in DATE_TYPES else None


def _last_days(state: SandboxState, count: int) -> list[date]:
    """The ``count`` days before today (Beijing), oldest first."""
    today = metrics.today(state)
    return [today - timedelta(days=back) for back in range(count, 0, -1)]


def register(router: APIRouter, config: DouyinSandboxConfig) -> None:  # noqa: PLR0915 - one closure per route
    """Add the data endpoints to the Douyin surface's router."""
    authorize = _authorizer(config)

    def video(state: SandboxState, open_id: str, item_id: str) -> SandboxPost | JSONResponse:
        with state.lock:
            post = next(
                (
                    p
                    for p in state.posts_of(PLATFORM, open_id)
                    if p.post_id == item_id and not p.deleted
                ),
                None,
            )
        if post is None:
            return error_response(INVALID_PARAMETER, detail="item_id 无效")
        if metrics.now(state) - post.created_at > ITEM_MAX_AGE:
            return error_response(ITEM_TOO_OLD, detail="仅支持查询 30 天内创建的视频")
        return post

    def enough_fans(state: SandboxState, open_id: str) -> JSONResponse | None:
        yesterday = metrics.follower_day(
            state, PLATFORM, open_id, metrics.today(state) - timedelta(days=1)
        )
        if yesterday is None or yesterday.followers <= MIN_FANS:
            return error_response(FANS_TOO_FEW, detail="粉丝数不足 100，暂无数据")
        return None

    @router.get("/data/external/item/base/")
    def item_base(request: Request, open_id: str = "", item_id: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        state = sandbox_of(request).state
        found = video(state, open_id, item_id)
        if isinstance(found, JSONResponse):
            return found
        # Counted once a day: the totals at the end of yesterday.
        figures = metrics.post_figures(state, found, metrics.day_start(metrics.today(state)))
        plays = figures.get("views", 0)
        return _ok(
            {
                "result": {
                    "total_play": plays,
                    "total_like": figures.get("likes", 0),
                    "total_comment": figures.get("comments", 0),
                    "total_share": figures.get("shares", 0),
                    "avg_play_duration": _play_duration(state, found) if plays else 0,
                }
            }
        )

    def item_daily(kind: str) -> None:
        @router.get(f"/data/external/item/{kind}/")
        def item_series(
            request: Request, open_id: str = "", item_id: str = "", date_type: str = ""
        ) -> JSONResponse:
            problem = authorize(request, open_id)
            if problem is not None:
                return problem
            count = _date_type(date_type)
            if count is None:
                return error_response(INVALID_PARAMETER, detail="date_type 仅支持 7/15/30")
            state = sandbox_of(request).state
            found = video(state, open_id, item_id)
            if isinstance(found, JSONResponse):
                return found
            name = ITEM_FIELDS[kind]
            rows = []
            for day in _last_days(state, count):
                start, end = metrics.day_start(day), metrics.day_start(day + timedelta(days=1))
                gained = metrics.post_figures(state, found, end).get(name, 0)
                gained -= metrics.post_figures(state, found, start).get(name, 0)
                rows.append({"date": day.isoformat(), kind: gained})
            return _ok({"result_list": rows})

    for kind in ITEM_FIELDS:
        item_daily(kind)

    @router.get("/data/external/user/fans/")
    def user_fans(request: Request, open_id: str = "", date_type: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        count = _date_type(date_type)
        if count is None:
            return error_response(INVALID_PARAMETER, detail="date_type 仅支持 7/15/30")
        state = sandbox_of(request).state
        problem = enough_fans(state, open_id)
        if problem is not None:
            return problem
        rows = []
        for day in _last_days(state, count):
            found = metrics.follower_day(state, PLATFORM, open_id, day)
            if found is not None:
                rows.append(
                    {"date": day.isoformat(), "total_fans": found.followers, "new_fans": found.new}
                )
        return _ok({"result_list": rows})

    def user_daily(kind: str) -> None:
        @router.get(f"/data/external/user/{kind}/")
        def user_series(request: Request, open_id: str = "", date_type: str = "") -> JSONResponse:
            problem = authorize(request, open_id)
            if problem is not None:
                return problem
            count = _date_type(date_type)
            if count is None:
                return error_response(INVALID_PARAMETER, detail="date_type 仅支持 7/15/30")
            state = sandbox_of(request).state
            problem = enough_fans(state, open_id)
            if problem is not None:
                return problem
            rows = []
            for day in _last_days(state, count):
                figures = metrics.account_day(state, PLATFORM, open_id, day)
                if figures is None:
                    continue
                row: dict[str, Any] = {"date": day.isoformat()}
                for field, name in USER_FIELDS[kind]:
                    row[field] = figures.figures.get(name, 0)
                if kind == "item":
                    row["new_issue"] = _published_on(state, open_id, day)
                    row["total_issue"] = _published_by(state, open_id, day)
                rows.append(row)
            return _ok({"result_list": rows})

    for kind in USER_FIELDS:
        user_daily(kind)

    @router.get("/data/external/user/profile/")
    def user_profile(request: Request, open_id: str = "", date_type: str = "") -> JSONResponse:
        problem = authorize(request, open_id)
        if problem is not None:
            return problem
        count = _date_type(date_type)
        if count is None:
            return error_response(INVALID_PARAMETER, detail="date_type 仅支持 7/15/30")
        state = sandbox_of(request).state
        problem = enough_fans(state, open_id)
        if problem is not None:
            return problem
        rows = []
        for day in _last_days(state, count):
            figures = metrics.account_day(state, PLATFORM, open_id, day)
            if figures is not None:
                visits = round(figures.figures.get("views", 0) * 0.02)
                rows.append({"date": day.isoformat(), "profile_uv": visits})
        return _ok({"result_list": rows})

    @router.post("/_sandbox/accounts/{open_id}/history")
    async def add_history(request: Request, open_id: str) -> JSONResponse:
        body = await request.json()
        state = sandbox_of(request).state
        if (PLATFORM, open_id) not in state.accounts:
            return json_error(404, {"detail": "no such sandbox account"})
        added = add_history_videos(
            state, open_id, days=int(body.get("days", 180)), per_week=float(body.get("per_week", 4))
        )
        return JSONResponse({"open_id": open_id, "added": added})


def _play_duration(state: SandboxState, post: SandboxPost) -> float:
    """How long a play of the video lasts on average (seconds): 8 to 18, per video."""
    return round(8 + 10 * unit(metrics.world_of(state).seed, post.post_id, "duration"), 1)


def _published_on(state: SandboxState, open_id: str, day: date) -> int:
    start, end = metrics.day_start(day), metrics.day_start(day + timedelta(days=1))
    with state.lock:
        return sum(1 for p in state.posts_of(PLATFORM, open_id) if start <= p.created_at < end)


def _published_by(state: SandboxState, open_id: str, day: date) -> int:
    end = metrics.day_start(day + timedelta(days=1))
    with state.lock:
        return sum(
            1 for p in state.posts_of(PLATFORM, open_id) if p.created_at < end and not p.deleted
        )


def add_history_videos(state: SandboxState, open_id: str, *, days: int, per_week: float) -> int:
    """Give the account public videos it published before guanxi knew it."""
    times = metrics.history_times(state, open_id, days=days, per_week=per_week)
    with state.lock:
        known = {p.post_id for p in state.posts if p.platform == PLATFORM}
    added = 0
    for number, moment in enumerate(times):
        digest = hashlib.sha256(f"{open_id}:{moment.isoformat()}".encode()).hexdigest()[:16]
        if f"@h{digest}" in known:
            continue
        added += 1
        state.add_post(
            SandboxPost(
                platform=PLATFORM,
                account_id=open_id,
                post_id=f"@h{digest}",
                text=HISTORY_TEXTS[number % len(HISTORY_TEXTS)],
                created_at=moment,
                status="published",
                extra={"source": "douyin app"},
            )
        )
    return added
