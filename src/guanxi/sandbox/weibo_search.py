"""The sandbox's Weibo public timeline search, for listening pulls.

``GET /weibo/2/search/statuses.json?q=...&since_id=...&count=...`` answers like Weibo's v2
API: ``{"statuses": [...], "total_number": n}``, newest first, with the author of each
status under ``user`` (``verified_type``, ``followers_count``). ``q`` holds keywords that
must all appear; ``since_id`` returns only newer statuses, the oldest ``count`` of them, so a
client paging forward never skips one. Errors use Weibo's shape (``error_code``).

The public posts come from ``data/weibo_public_posts.jsonl``, a small sample derived from
the dengxiuqi/weibo2018 corpus (``train.txt`` and ``topics/``; see docs/listening.md), with
invented authors; the sandbox never reads files outside the package. The audience's posts
that @-mention an account are public too, as on Weibo: a search for the brand finds them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from guanxi.core.db import utcnow
from guanxi.sandbox.app import PlatformSurface, json_error, sandbox_of
from guanxi.sandbox.audience import engagement_of
from guanxi.sandbox.state import SandboxState

PLATFORM = "weibo"
PREFIX = "/weibo"
SEARCH_PATH = "/2/search/statuses.json"
MAX_COUNT = 50
DEFAULT_COUNT = 20
SAMPLE = "weibo_public_posts.jsonl"
SPACING = timedelta(minutes=37)  # sample posts are spread back in time at this pace

_FIRST = ("爱吃", "喜欢", "想去", "在读", "北漂", "沪上", "佛系", "熬夜", "早起", "追剧")
_SECOND = ("火锅的", "旅行的", "摄影的", "音乐的", "咖啡的", "读书的", "跑步的", "做饭的")
_THIRD = ("小猫", "阿杰", "大橙子", "小鹿", "老王", "糖糖", "豆豆", "木木")


@dataclass(frozen=True)
class PublicAuthor:
    """An invented Weibo user of the sample."""

    uid: str
    name: str
    verified_type: int
    followers: int


@dataclass(frozen=True)
class PublicStatus:
    """A public post the search can find."""

    mid: int
    text: str
    author: PublicAuthor
    created_at: datetime


def _author(index: int) -> PublicAuthor:
    # A few verified accounts among ordinary users: media (3), individuals (0), grassroots
    # experts (220) and companies (2), so pulls exercise every source kind.
    verified_type = {0: 3, 1: 0, 2: 220, 3: 2}.get(index % 10, -1)
    followers = {3: 2_500_000, 0: 80_000, 220: 150_000, 2: 40_000}.get(verified_type, 0)
    name = _FIRST[index % len(_FIRST)] + _SECOND[index % len(_SECOND)] + _THIRD[index % 7]
    return PublicAuthor(
        uid=str(7_100_000_000 + index * 7919),
        name=name,
        verified_type=verified_type,
        followers=followers or 50 + index * 37,
    )


@dataclass
class PublicFeed:
    """The public posts the search serves; tests may ``publish`` more."""

    statuses: list[PublicStatus] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_sample(cls, now: datetime | None = None) -> PublicFeed:
        """The shipped sample, the newest post at ``now`` and the others before it."""
        now = now or utcnow()
        text = resources.files("guanxi.sandbox").joinpath("data", SAMPLE).read_text("utf-8")
        items = sorted(
            (json.loads(line) for line in text.splitlines() if line.strip()),
            key=lambda item: int(item["mid"]),
        )
        statuses = [
            PublicStatus(
                mid=int(item["mid"]),
                text=str(item["text"]),
                author=_author(int(item["author"])),
                created_at=now - SPACING * (len(items) - rank),
            )
            for rank, item in enumerate(items, start=1)
        ]
        return cls(statuses=statuses)

    def publish(self, text: str, *, author_index: int = 0) -> PublicStatus:
        """A new public post, newer than every other."""
        with self.lock:
            mid = max((s.mid for s in self.statuses), default=4_000_000_000_000_000) + 1
            status = PublicStatus(mid, text, _author(author_index), utcnow())
            self.statuses.append(status)
        return status

    def search(
        self, query: str, *, since_id: int, count: int, also: list[PublicStatus] | None = None
    ) -> tuple[list[PublicStatus], int]:
        """The oldest ``count`` matches newer than ``since_id`` (among the feed's posts and
        ``also``) and how many matches there are."""
        terms = query.split()
        with self.lock:
            candidates = [*self.statuses, *(also or [])]
        matches = [
            s for s in candidates if s.mid > since_id and all(term in s.text for term in terms)
        ]
        matches.sort(key=lambda status: status.mid)
        return matches[:count], len(matches)


def fan_posts(state: SandboxState) -> list[PublicStatus]:
    """The audience's Weibo posts that @-mention an account, as public posts (their ids come
    from the sandbox's id sequence, above every id of the sample)."""
    engagement = engagement_of(state)
    with state.lock:
        mentions = [m for m in engagement.mentions if m.platform == PLATFORM]
    return [
        PublicStatus(
            mid=int(m.mention_id),
            text=m.text,
            author=PublicAuthor(
                m.author.fan_id, m.author.name, m.author.verified_type, m.author.followers
            ),
            created_at=m.created_at,
        )
        for m in mentions
    ]


def status_json(status: PublicStatus) -> dict[str, Any]:
    """A status as Weibo's v2 API writes it."""
    created = status.created_at.astimezone(UTC) + timedelta(hours=8)  # Weibo answers in +0800
    author = status.author
    return {
        "created_at": created.strftime("%a %b %d %H:%M:%S +0800 %Y"),
        "id": status.mid,
        "idstr": str(status.mid),
        "mid": str(status.mid),
        "text": status.text,
        "source": "",
        "reposts_count": status.mid % 17,
        "comments_count": status.mid % 29,
        "attitudes_count": status.mid % 113,
        "user": {
            "id": int(author.uid),
            "idstr": author.uid,
            "screen_name": author.name,
            "name": author.name,
            "followers_count": author.followers,
            "verified": author.verified_type >= 0,
            "verified_type": author.verified_type,
            "profile_url": f"u/{author.uid}",
        },
    }


def _error(path: str, code: int, message: str, status_code: int = 400) -> JSONResponse:
    return json_error(status_code, {"request": path, "error_code": code, "error": message})


def _router(feed: PublicFeed) -> APIRouter:
    router = APIRouter()

    @router.get(SEARCH_PATH)
    def search(
        request: Request,
        q: str = "",
        since_id: str = "0",
        count: str = str(DEFAULT_COUNT),
        access_token: str = "",
    ) -> Response:
        path = SEARCH_PATH
        header = request.headers.get("authorization", "")
        value = access_token or (header[7:].strip() if header.lower().startswith("oauth2 ") else "")
        if not value:
            return _error(path, 21301, "auth faid!", 401)
        state = sandbox_of(request).state
        token = state.token(PLATFORM, value)
        if token is None or token.revoked:
            return _error(path, 21332, "invalid_access_token", 401)
        if not token.valid(utcnow()):
            return _error(path, 21327, "expired_token", 401)
        if not q.strip():
            return _error(path, 10016, "Miss required parameter (q) , see doc for more info.")
        try:
            since, size = int(since_id or 0), int(count or DEFAULT_COUNT)
        except ValueError:
            return _error(path, 10017, "Parameter (since_id)'s value invalid, expect (int64)")
        statuses, total = feed.search(
            q, since_id=since, count=max(1, min(size, MAX_COUNT)), also=fan_posts(state)
        )
        body = {"statuses": [status_json(s) for s in reversed(statuses)], "total_number": total}
        return JSONResponse(body)

    return router


def weibo_search_surface(feed: PublicFeed | None = None) -> PlatformSurface:
    """The search surface, served beside the Weibo surface under ``/weibo``."""
    public = feed or PublicFeed.from_sample()
    return PlatformSurface(
        platform=PLATFORM,
        prefix=PREFIX,
        router=_router(public),
        server_error=lambda: _error("", 10009, "Too many pending tasks, system is busy", 503),
        rate_limited=lambda: _error("", 10023, "User requests out of rate limit!", 403),
    )
