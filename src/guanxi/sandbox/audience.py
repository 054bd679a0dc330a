"""The sandbox's audience: simulated fans who comment on, mention and message the accounts.

Fans react to what the demo accounts published: each tick picks published posts and adds a
few comments (and sometimes a fan's post that @-mentions the account, or a private message
to the WeChat Official Account). Texts are Chinese posts from a small sample shipped with
the sandbox (``data/audience_zh.json``, derived from dengxiuqi/weibo2018 by
``scripts/derive_audience_sample.py``). A seeded random generator makes a sequence of
ticks reproducible; a background thread ticks at ``GUANXI_SANDBOX_AUDIENCE_PACE_S`` while the
sandbox is served, and ``POST /_sandbox/audience/tick`` ticks on demand (tests).

The platform surfaces serve what lands here through their own APIs (``weibo_engage``,
``wechat_engage``, ``douyin_engage``); our replies are kept here too and shown on the
sandbox account pages.
"""

from __future__ import annotations

import html
import json
import logging
import random
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from fastapi import FastAPI

from guanxi.core.db import utcnow
from guanxi.core.settings import load_settings
from guanxi.sandbox.state import SandboxPost, SandboxState

log = logging.getLogger(__name__)

_GIVEN = "小大阿老一二三甜酸红白"
_NAMES = ("葡萄", "橡木桶", "微醺", "酒窖", "干红", "起泡", "小酌", "品鉴", "晚风", "猫猫", "吃货")
_TAILS = ("爱好者", "君", "酱", "不睡觉", "在路上", "日记", "同学", "_88", "2018", "小号")
# Weibo verified_type: -1 an ordinary user, 0 a verified person (orange V), 3 media, 200 a
# paid member; most of the audience is ordinary.
_VERIFIED = (-1, -1, -1, -1, -1, -1, 0, 3, 200)
WECHAT = "wechat"
ENGAGING_PLATFORMS = frozenset({"weibo", "wechat", "douyin"})


@cache
def sample() -> dict[str, Any]:
    """The shipped sample of fan texts (positive, negative, topics) and its source."""
    text = resources.files("guanxi.sandbox").joinpath("data/audience_zh.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@dataclass(frozen=True)
class Fan:
    """A simulated member of the audience."""

    fan_id: str
    name: str
    followers: int
    verified_type: int


@dataclass
class FanComment:
    """A comment on a post: a fan's, or the account's reply (``by_account``)."""

    platform: str
    account_id: str
    post_id: str
    comment_id: str
    author: Fan
    text: str
    created_at: datetime
    reply_to_id: str = ""  # the comment this one answers
    by_account: bool = False
    deleted: bool = False


@dataclass
class FanMention:
    """A fan's post that @-mentions the account."""

    platform: str
    account_id: str
    mention_id: str
    author: Fan
    text: str
    created_at: datetime
    about_post_id: str = ""


@dataclass
class FanMessage:
    """A private message: from a fan to the account, or the account's answer (``outgoing``)."""

    platform: str
    account_id: str
    msg_id: str
    fan: Fan
    text: str
    created_at: datetime
    outgoing: bool = False
    msg_type: str = "text"


@dataclass
class Engagement:
    """Everything the audience and the account said to each other, per sandbox state."""

    comments: list[FanComment] = field(default_factory=list)
    mentions: list[FanMention] = field(default_factory=list)
    messages: list[FanMessage] = field(default_factory=list)
    # Called (outside the lock) with each new incoming message: WeChat pushes it.
    message_listeners: list[Callable[[FanMessage], None]] = field(default_factory=list)
    random: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311 - a simulation
    fans: dict[str, Fan] = field(default_factory=dict)
    ticks: int = 0

    def comments_on(self, platform: str, account_id: str) -> list[FanComment]:
        """The comments on an account's posts, oldest first (deleted ones left out)."""
        return [
            c
            for c in self.comments
            if c.platform == platform and c.account_id == account_id and not c.deleted
        ]

    def comment(self, platform: str, comment_id: str) -> FanComment | None:
        """The comment with this id on this platform."""
        return next(
            (c for c in self.comments if c.platform == platform and c.comment_id == comment_id),
            None,
        )


_ENGAGEMENTS: weakref.WeakKeyDictionary[SandboxState, Engagement] = weakref.WeakKeyDictionary()
_ENGAGEMENTS_LOCK = threading.Lock()


def engagement_of(state: SandboxState) -> Engagement:
    """The engagement kept alongside ``state`` (made on first use); guard it with state.lock."""
    with _ENGAGEMENTS_LOCK:
        found = _ENGAGEMENTS.get(state)
        if found is None:
            found = _ENGAGEMENTS[state] = Engagement()
        return found


def seed_audience(state: SandboxState, seed: int) -> None:
    """Make the audience's choices reproducible from ``seed``."""
    engagement = engagement_of(state)
    with state.lock:
        engagement.random.seed(seed)


def _fan(engagement: Engagement, platform: str) -> Fan:
    rng = engagement.random
    # A small crowd: the same fans come back, so a relationship book has something to merge.
    number = rng.randrange(40)
    key = f"{platform}:{number}"
    if key not in engagement.fans:
        name = rng.choice(_GIVEN) + rng.choice(_NAMES) + rng.choice(_TAILS)
        verified = rng.choice(_VERIFIED)
        followers = int(rng.paretovariate(1.2) * 80) * (20 if verified in {0, 3} else 1)
        prefix = {"weibo": "7", "wechat": "oFan", "douyin": "dy_fan_"}.get(platform, "fan")
        engagement.fans[key] = Fan(
            f"{prefix}{1_000_000_000 + number * 7919}", name, followers, verified
        )
    return engagement.fans[key]


def _text(engagement: Engagement, *, topical: bool = False) -> str:
    data = sample()
    rng = engagement.random
    if topical:  # posts on the topics of the day, for mentions
        return str(rng.choice(data["topics"]))
    pool = data["negative"] if rng.random() < 0.3 else data["positive"]
    return str(rng.choice(pool))


def _live_posts(state: SandboxState) -> list[SandboxPost]:
    return [
        p
        for p in state.posts
        if p.platform in ENGAGING_PLATFORMS and not p.deleted and p.status == "published"
    ]


def tick(state: SandboxState, *, comments: int = 3) -> dict[str, int]:
    """One round of the audience: comments on recent posts, a mention, a message.

    Returns how many of each were added. Nothing happens before something is published.
    """
    engagement = engagement_of(state)
    added = {"comments": 0, "mentions": 0, "messages": 0}
    pushed: list[FanMessage] = []
    with state.lock:
        engagement.ticks += 1
        rng = engagement.random
        posts = sorted(_live_posts(state), key=lambda p: p.created_at)[-10:]
        if posts:
            for _ in range(comments):
                post = rng.choice(posts)
                engagement.comments.append(
                    FanComment(
                        post.platform,
                        post.account_id,
                        post.post_id,
                        state.next_id(),
                        _fan(engagement, post.platform),
                        _text(engagement),
                        utcnow(),
                    )
                )
                added["comments"] += 1
        # Fans mention the brand whether or not it published anything lately.
        brands = sorted(
            (a for a in state.accounts.values() if a.platform == "weibo"),
            key=lambda a: a.account_id,
        )
        if brands and rng.random() < 0.6:
            brand = brands[0]
            about = [p.post_id for p in posts if p.account_id == brand.account_id]
            engagement.mentions.append(
                FanMention(
                    "weibo",
                    brand.account_id,
                    state.next_id(),
                    _fan(engagement, "weibo"),
                    f"@{brand.name} {_text(engagement, topical=rng.random() < 0.5)}",
                    utcnow(),
                    rng.choice(about) if about else "",
                )
            )
            added["mentions"] += 1
        wechat = [a for a in state.accounts.values() if a.platform == WECHAT]
        if wechat and rng.random() < 0.5:
            account = rng.choice(wechat)
            message = FanMessage(
                WECHAT,
                account.account_id,
                state.next_id(),
                _fan(engagement, WECHAT),
                _text(engagement),
                utcnow(),
            )
            engagement.messages.append(message)
            pushed.append(message)
            added["messages"] += 1
        listeners = list(engagement.message_listeners)
    for message in pushed:
        for listener in listeners:
            try:
                listener(message)
            except Exception:  # a push that fails must not stop the audience
                log.exception("audience: delivering message %s failed", message.msg_id)
    return added


def pace_s() -> float:
    """Seconds between two ticks of the background audience (0 or less: no thread).

    Read from the environment when the sandbox starts, not from the process's cached
    settings: a test may start a sandbox with a pace of its own."""
    return load_settings().sandbox_audience_pace_s


def install(app: FastAPI, state: SandboxState, *, seed: int = 0) -> None:
    """The audience's endpoints, and its thread while the app is served."""
    seed_audience(state, seed)
    stop = threading.Event()

    @app.post("/_sandbox/audience/tick")
    def tick_now(comments: int = 3) -> dict[str, int]:
        return tick(state, comments=max(0, min(comments, 50)))

    @app.get("/_sandbox/audience")
    def audience_summary() -> dict[str, Any]:
        engagement = engagement_of(state)
        with state.lock:
            return {
                "ticks": engagement.ticks,
                "comments": len(engagement.comments),
                "mentions": len(engagement.mentions),
                "messages": len(engagement.messages),
                "source": sample()["source"],
            }

    def run(every_s: float) -> None:
        while not stop.wait(every_s):
            try:
                tick(state)
            except Exception:  # the audience is a demo aid: log, keep going
                log.exception("audience tick failed")

    def start_audience() -> None:
        every_s = pace_s()
        if every_s > 0:
            threading.Thread(target=run, args=(every_s,), name="audience", daemon=True).start()

    def stop_audience() -> None:
        stop.set()

    # Started with the server (not in tests that call the app in-process).
    app.router.on_startup.append(start_audience)
    app.router.on_shutdown.append(stop_audience)


def account_section(state: SandboxState, platform: str, account_id: str) -> str:
    """HTML of the comments, mentions and messages of an account, with our replies."""
    engagement = engagement_of(state)
    with state.lock:
        comments = engagement.comments_on(platform, account_id)
        mentions = [
            m for m in engagement.mentions if m.platform == platform and m.account_id == account_id
        ]
        messages = [
            m for m in engagement.messages if m.platform == platform and m.account_id == account_id
        ]
    parts = ['<section id="audience"><h2>评论 · Comments</h2>']
    for comment in comments[-100:]:
        css = "comment reply" if comment.by_account else "comment"
        parts.append(
            f'<div class="{css}" data-comment-id="{html.escape(comment.comment_id)}" '
            f'data-post-id="{html.escape(comment.post_id)}">'
            f"<b>{html.escape(comment.author.name)}</b>"
            f"{' ↩ ' if comment.reply_to_id else ''}: {html.escape(comment.text)}</div>"
        )
    if not comments:
        parts.append("<p>No comments yet.</p>")
    if mentions:
        parts.append("<h2>提及 · Mentions</h2>")
        parts.extend(
            f'<div class="mention"><b>{html.escape(m.author.name)}</b>: {html.escape(m.text)}</div>'
            for m in mentions[-50:]
        )
    if messages:
        parts.append("<h2>私信 · Messages</h2>")
        parts.extend(
            f'<div class="message{" reply" if m.outgoing else ""}">'
            f"<b>{'→ ' if m.outgoing else ''}{html.escape(m.fan.name)}</b>: "
            f"{html.escape(m.text)}</div>"
            for m in messages[-50:]
        )
    parts.append("</section>")
    return "".join(parts)
