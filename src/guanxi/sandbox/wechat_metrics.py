"""The sandbox's WeChat data cube (数据统计): the account's and its articles' daily figures.

Every endpoint is ``POST /datacube/<name>`` with ``{"begin_date", "end_date"}``
(``YYYY-MM-DD``, Beijing days by the sandbox's clock). The end date is yesterday at the
latest and each endpoint takes at most ``SPANS[name]`` days a call; anything else is
refused as WeChat refuses it: 61500 "date format error" or 61501 "date range error". Calls
count against the account's daily and per-minute quotas like every other API
(``WechatSandbox.authorize``), and an account may be denied one (48001).

- ``getusersummary``: new and cancelled followers per day and ``user_source``;
- ``getusercumulate``: the total followers at the end of each day;
- ``getuserread``: article reads per day, shares and favourites, per read source
  (``user_source`` 99999999 is the total);
- ``getusershare``: shares per day and ``share_scene``;
- ``getarticleread``: one day's reads per article (``msgid`` = msg_data_id_index);
- ``getbizsummary``: per day, readers, sharers, 在看 (``zaikan_user``), likes, comments and
  favourites of everything the account published;
- ``getarticletotaldetail``: the articles published in the range, each with its figures
  from publishing to each day after (30 days at most).

Sandbox-only: ``POST /wechat/_sandbox/accounts/{app_id}/history`` with ``{"days",
"per_week"}`` gives the account articles published before guanxi knew it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from guanxi.sandbox import metrics
from guanxi.sandbox.app import json_error, sandbox_of
from guanxi.sandbox.metrics_model import BEIJING, split
from guanxi.sandbox.state import SandboxPost, SandboxState
from guanxi.sandbox.wechat_state import PLATFORM, PREFIX, PublishJob, RefusedError

if TYPE_CHECKING:
    from guanxi.sandbox.wechat_state import WechatSandbox

# The days each endpoint takes a call, as WeChat documents them for the older ones; the
# newer ones (getarticleread, getbizsummary, getarticletotaldetail) state none, so the
# sandbox takes a day for the daily one and a week for the others.
SPANS = {
    "getusersummary": 7,
    "getusercumulate": 7,
    "getuserread": 3,
    "getusershare": 7,
    "getarticleread": 1,
    "getbizsummary": 7,
    "getarticletotaldetail": 7,
}
ARTICLE_DAYS = 30  # getarticletotaldetail follows an article for 30 days
ALL_SOURCES = 99999999  # getuserread's user_source for the total
# user_source of new followers, and how many come from each (search and QR codes lead).
FOLLOWER_SOURCES = (
    ("0", 0.12),
    ("1", 0.30),
    ("17", 0.06),
    ("30", 0.18),
    ("57", 0.16),
    ("100", 0.06),
    ("149", 0.03),
    ("161", 0.05),
    ("200", 0.04),
)
# user_source of reads: 0 the chat (会话), 1 friends, 2 Moments, 4 the history page, 5 other,
# 6 看一看 (top stories), 7 搜一搜 (search).
READ_SOURCES = (
    ("0", 0.46),
    ("1", 0.12),
    ("2", 0.10),
    ("4", 0.08),
    ("5", 0.06),
    ("6", 0.08),
    ("7", 0.10),
)
SHARE_SCENES = (("1", 0.70), ("2", 0.25), ("255", 0.05))  # friends, Moments, other
READERS_PER_READ = 0.82  # people who read, per read (some read twice)
SECOND_ARTICLE_WEIGHT = 0.35  # the articles after the first of a group are read less
# History articles' publish ids: far above the counter's (about 2.2 × 10⁹), one per second.
HISTORY_PUBLISH_ID_BASE = 1_000_000_000_000
HISTORY_TITLES = (
    "夏日桃红指南",
    "读懂一张葡萄酒酒标",
    "新年份到港：门店品鉴会",
    "桃红配海鲜，清爽又解腻",
    "酒庄探访：葡萄园的秋收",
)


def _range(state: SandboxState, body: dict[str, Any], api: str) -> list[date]:
    """The days of a data cube call, checked as WeChat checks them."""
    begin = _day(body.get("begin_date"))
    end = _day(body.get("end_date"))
    if begin is None or end is None:
        raise RefusedError(61500, "date format error")
    if begin > end or end >= metrics.today(state) or (end - begin).days + 1 > SPANS[api]:
        raise RefusedError(61501, "date range error")
    return [begin + timedelta(days=n) for n in range((end - begin).days + 1)]


def _day(value: Any) -> date | None:
    text = str(value or "")
    return metrics.parse_day(text) if len(text) == 10 else None


def _account_days(
    state: SandboxState, app_id: str, days: list[date]
) -> Iterator[metrics.DayFigures]:
    for day in days:
        figures = metrics.account_day(state, PLATFORM, app_id, day)
        if figures is not None:
            yield figures


def _published(wechat: WechatSandbox, app_id: str) -> list[PublishJob]:
    with wechat.lock:
        return [
            job
            for job in wechat.jobs.values()
            if job.app_id == app_id and job.status == 0 and job.post is not None
        ]


def _article_figures(
    state: SandboxState, job: PublishJob, index: int, at: datetime
) -> dict[str, int]:
    assert job.post is not None  # only published jobs are measured
    if index == 1:
        return metrics.post_figures(state, job.post, at)
    return metrics.figures_of(
        state,
        PLATFORM,
        job.app_id,
        f"{job.publish_id}_{index}",
        job.post.created_at,
        at,
        weight=SECOND_ARTICLE_WEIGHT,
    )


def _user_summary(figures: metrics.DayFigures, seed: int, app_id: str) -> list[dict[str, Any]]:
    day = figures.day.isoformat()
    new = split(figures.new_followers, FOLLOWER_SOURCES, seed, app_id, day, "new")
    lost = split(figures.lost_followers, FOLLOWER_SOURCES, seed, app_id, day, "lost")
    return [
        {
            "ref_date": day,
            "user_source": int(source),
            "new_user": new[source],
            "cancel_user": lost[source],
        }
        for source, _ in FOLLOWER_SOURCES
        if source == "0" or new[source] or lost[source]
    ]


def _user_read(figures: metrics.DayFigures, seed: int, app_id: str) -> list[dict[str, Any]]:
    day = figures.day.isoformat()
    values = figures.figures
    reads = split(values.get("views", 0), READ_SOURCES, seed, app_id, day, "reads")
    shares = split(values.get("shares", 0), READ_SOURCES, seed, app_id, day, "shares")
    saves = split(values.get("saves", 0), READ_SOURCES, seed, app_id, day, "saves")
    rows = [
        _read_row(
            day,
            ALL_SOURCES,
            values.get("views", 0),
            values.get("shares", 0),
            values.get("saves", 0),
        )
    ]
    rows.extend(
        _read_row(day, int(source), reads[source], shares[source], saves[source])
        for source, _ in READ_SOURCES
    )
    return rows


def _read_row(day: str, source: int, reads: int, shares: int, saves: int) -> dict[str, Any]:
    return {
        "ref_date": day,
        "user_source": source,
        "int_page_read_user": round(reads * READERS_PER_READ),
        "int_page_read_count": reads,
        "ori_page_read_user": 0,
        "ori_page_read_count": 0,
        "share_user": round(shares * 0.9),
        "share_count": shares,
        "add_to_fav_user": saves,
        "add_to_fav_count": saves,
    }


def _biz_detail(values: dict[str, int], seed: int, *key: object) -> dict[str, Any]:
    reads = values.get("views", 0)
    by_source = split(reads, READ_SOURCES, seed, *key, "reads")
    return {
        "read_user": round(reads * READERS_PER_READ),
        "read_user_source": [
            {"user_source": int(source), "count": round(count * READERS_PER_READ)}
            for source, count in by_source.items()
        ],
        "share_user": round(values.get("shares", 0) * 0.9),
        "zaikan_user": values.get("wows", 0),
        "like_user": values.get("likes", 0),
        "comment_count": values.get("comments", 0),
        "collection_user": values.get("saves", 0),
    }


def _article_total_detail(
    state: SandboxState, job: PublishJob, index: int, published: date, yesterday: date
) -> dict[str, Any]:
    last = min(published + timedelta(days=ARTICLE_DAYS - 1), yesterday)
    details = []
    for number in range((last - published).days + 1):
        stat_day = published + timedelta(days=number)
        values = _article_figures(
            state, job, index, metrics.day_start(stat_day + timedelta(days=1))
        )
        detail = _biz_detail(values, metrics.world_of(state).seed, job.publish_id, index, stat_day)
        detail["read_user"] = values.get("views", 0)
        details.append({"stat_date": stat_day.isoformat(), **detail})
    return {
        "ref_date": published.isoformat(),
        "msgid": f"{job.msg_data_id}_{index}",
        "publish_type": 0,
        "detail_list": details,
    }


def register(router: APIRouter, wechat: WechatSandbox) -> None:  # noqa: PLR0915 - one closure per route
    """Add the data cube endpoints to the WeChat surface's router."""
    from guanxi.sandbox.wechat import _json_body, _refusals_answered  # noqa: PLC0415 - cycle: wechat imports this module

    async def call(request: Request, api: str) -> tuple[SandboxState, str, list[date]]:
        app_id = wechat.authorize(request, api)
        state = sandbox_of(request).state
        return state, app_id, _range(state, await _json_body(request), api)

    @router.post("/datacube/getusersummary")
    @_refusals_answered
    async def user_summary(request: Request) -> Any:
        state, app_id, days = await call(request, "getusersummary")
        seed = metrics.world_of(state).seed
        rows = [
            row
            for day in _account_days(state, app_id, days)
            for row in _user_summary(day, seed, app_id)
        ]
        return {"list": rows}

    @router.post("/datacube/getusercumulate")
    @_refusals_answered
    async def user_cumulate(request: Request) -> Any:
        state, app_id, days = await call(request, "getusercumulate")
        rows: list[dict[str, Any]] = []
        for day in days:
            found = metrics.follower_day(state, PLATFORM, app_id, day)
            if found is not None:
                rows.append({"ref_date": day.isoformat(), "cumulate_user": found.followers})
        return {"list": rows}

    @router.post("/datacube/getuserread")
    @_refusals_answered
    async def user_read(request: Request) -> Any:
        state, app_id, days = await call(request, "getuserread")
        seed = metrics.world_of(state).seed
        rows = [
            row
            for day in _account_days(state, app_id, days)
            for row in _user_read(day, seed, app_id)
        ]
        return {"list": rows}

    @router.post("/datacube/getusershare")
    @_refusals_answered
    async def user_share(request: Request) -> Any:
        state, app_id, days = await call(request, "getusershare")
        seed = metrics.world_of(state).seed
        rows: list[dict[str, Any]] = []
        for figures in _account_days(state, app_id, days):
            day = figures.day.isoformat()
            scenes = split(
                figures.figures.get("shares", 0), SHARE_SCENES, seed, app_id, day, "scene"
            )
            rows.extend(
                {
                    "ref_date": day,
                    "share_scene": int(scene),
                    "share_count": count,
                    "share_user": round(count * 0.9),
                }
                for scene, count in scenes.items()
                if count
            )
        return {"list": rows}

    @router.post("/datacube/getarticleread")
    @_refusals_answered
    async def article_read(request: Request) -> Any:
        state, app_id, days = await call(request, "getarticleread")
        seed = metrics.world_of(state).seed
        rows: list[dict[str, Any]] = []
        for day in days:
            start, end = metrics.day_start(day), metrics.day_start(day + timedelta(days=1))
            for job in _published(wechat, app_id):
                for index in range(1, len(job.articles) + 1):
                    read = _article_figures(state, job, index, end).get("views", 0)
                    read -= _article_figures(state, job, index, start).get("views", 0)
                    if read > 0:
                        by_source = split(read, READ_SOURCES, seed, job.publish_id, index, day)
                        rows.append(
                            {
                                "ref_date": day.isoformat(),
                                "msgid": f"{job.msg_data_id}_{index}",
                                "detail": {
                                    "read_user": read,
                                    "read_user_source": [
                                        {"user_source": int(source), "count": count}
                                        for source, count in by_source.items()
                                    ],
                                },
                            }
                        )
        return {"list": rows, "is_delay": False}

    @router.post("/datacube/getbizsummary")
    @_refusals_answered
    async def biz_summary(request: Request) -> Any:
        state, app_id, days = await call(request, "getbizsummary")
        seed = metrics.world_of(state).seed
        rows = [
            {
                "ref_date": figures.day.isoformat(),
                "detail": _biz_detail(figures.figures, seed, app_id, figures.day),
            }
            for figures in _account_days(state, app_id, days)
        ]
        return {"list": rows, "is_delay": False}

    @router.post("/datacube/getarticletotaldetail")
    @_refusals_answered
    async def article_total_detail(request: Request) -> Any:
        state, app_id, days = await call(request, "getarticletotaldetail")
        yesterday = metrics.today(state) - timedelta(days=1)
        rows: list[dict[str, Any]] = []
        for job in _published(wechat, app_id):
            assert job.post is not None  # _published keeps jobs with a post
            published = job.post.created_at.astimezone(BEIJING).date()
            if days[0] <= published <= days[-1]:
                rows.extend(
                    _article_total_detail(state, job, index, published, yesterday)
                    for index in range(1, len(job.articles) + 1)
                )
        return {"list": rows, "is_delay": False}

    @router.post("/_sandbox/accounts/{app_id}/history")
    async def add_history(request: Request, app_id: str) -> Response:
        body = await request.json()
        state = sandbox_of(request).state
        if app_id not in wechat.accounts:
            return json_error(404, {"detail": "no such sandbox account"})
        base = str(request.base_url).rstrip("/")
        added = add_history_articles(
            state,
            wechat,
            app_id,
            base,
            days=int(body.get("days", 180)),
            per_week=float(body.get("per_week", 3)),
        )
        return JSONResponse({"app_id": app_id, "added": added})


def add_history_articles(
    state: SandboxState,
    wechat: WechatSandbox,
    app_id: str,
    base_url: str,
    *,
    days: int,
    per_week: float,
) -> int:
    """Give the account articles it published before guanxi knew it (finished jobs)."""
    times = metrics.history_times(state, app_id, days=days, per_week=per_week)
    with wechat.lock:
        known = {job.article_id for job in wechat.jobs.values()}
    added = 0
    for number, moment in enumerate(times):
        digest = hashlib.sha256(f"{app_id}:{moment.isoformat()}".encode()).hexdigest()
        article_id = "h" + digest[:30]
        if article_id in known:
            continue
        added += 1
        # Keyed by the moment, not the id counter: the figures drawn by publish_id are then the
        # same in every sandbox process, whatever it did before (the demo's history relies on it).
        publish_id = str(HISTORY_PUBLISH_ID_BASE + int(moment.timestamp()))
        title = HISTORY_TITLES[number % len(HISTORY_TITLES)]
        article = {
            "title": title,
            "author": "",
            "digest": title,
            "content": f"<p>{title}</p>",
            "content_source_url": "",
            "thumb_media_id": "",
            "dropped_images": 0,
        }
        job = PublishJob(
            publish_id=publish_id,
            msg_data_id=wechat.next_id(),
            app_id=app_id,
            articles=[article],
            finish_at=0.0,
            outcome=0,
            status=0,
            article_id=article_id,
            urls=[f"{base_url}{PREFIX}/s/{article_id}?idx=1"],
        )
        job.post = state.add_post(
            SandboxPost(
                platform=PLATFORM,
                account_id=app_id,
                post_id=article_id,
                text=title,
                created_at=moment,
                title=title,
                extra={"publish_id": publish_id, "content": article["content"], "url": job.urls[0]},
            )
        )
        with wechat.lock:
            wechat.jobs[publish_id] = job
    return added
