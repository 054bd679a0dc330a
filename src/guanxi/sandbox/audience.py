"""The sandbox's audience: simulated fans who comment on, mention and message the accounts.

Fans react to what the demo accounts published and talk about the brand's world (wine,
food pairing, gifts, prices, delivery, praise and complaints, questions before buying, some
advertising, a small crisis that gets shared: ``audience_texts``). A seeded random
generator makes a sequence of rounds reproducible.

Two kinds of rounds: a paced round gives each account one item (a comment on one of its
recent posts, else a mention or a private message), at the pace a team can answer: a
background thread plays one every ``GUANXI_SANDBOX_AUDIENCE_PACE_S`` seconds while the
sandbox is served (``POST /_sandbox/audience/round?rounds=N`` plays N at once, spread over
the past, as the demo's start does). ``POST /_sandbox/audience/tick`` plays a burst on
demand (tests): a few comments on recent posts, sometimes a mention and a message.

The platform surfaces serve what lands here through their own APIs (``weibo_engage``,
``wechat_engage``, ``douyin_engage``); our replies are kept here too and shown on the
sandbox account pages.
"""

from __future__ import annotations

import html
import logging
import random
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI

from guanxi.core.db import utcnow
from guanxi.core.settings import Settings, load_settings
from guanxi.sandbox.audience_texts import Voice
from guanxi.sandbox.state import SandboxAccount, SandboxPost, SandboxState

log = logging.getLogger(__name__)

_GIVEN = "小大阿老一二三甜酸红白"
_NAMES = ("葡萄", "橡木桶", "微醺", "酒窖", "干红", "起泡", "小酌", "品鉴", "晚风", "猫猫", "吃货")
SOURCE = (
    "templates with slots about the demo brand's world (guanxi.sandbox.audience_texts), and "
    "one public Sina Weibo post about wine from dengxiuqi/weibo2018 (train.txt)"
)
_TAILS = ("爱好者", "君", "酱", "不睡觉", "在路上", "日记", "同学", "_88", "2018", "小号")
# Weibo verified_type: -1 an ordinary user, 0 a verified person (orange V), 3 media, 200 a
# paid member; most of the audience is ordinary.
_VERIFIED = (-1, -1, -1, -1, -1, -1, 0, 3, 200)
WECHAT = "wechat"
MENTION_SHARE = 0.3  # a Weibo account's paced items that are mentions, when it has posts
MESSAGE_SHARE = 0.5  # an Official Account's that are private messages, when it has articles
ENGAGING_PLATFORMS = frozenset({"weibo", "wechat", "douyin"})


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
    voice: Voice = field(default_factory=Voice)
    ticks: int = 0
    rounds: int = 0

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


def _text(engagement: Engagement, author: Fan, platform: str, *, message: bool = False) -> str:
    """What ``author`` says next on ``platform``."""
    said = engagement.voice.say(
        engagement.random, author=author.name, message=message, weibo=platform == "weibo"
    )
    return said.text


def _live_posts(state: SandboxState) -> list[SandboxPost]:
    return [
        p
        for p in state.posts
        if p.platform in ENGAGING_PLATFORMS and not p.deleted and p.status == "published"
    ]


def _comment(state: SandboxState, post: SandboxPost, at: datetime) -> FanComment:
    """A fan's comment on ``post``, added (under the state's lock)."""
    engagement = engagement_of(state)
    fan = _fan(engagement, post.platform)
    comment = FanComment(
        post.platform,
        post.account_id,
        post.post_id,
        state.next_id(),
        fan,
        _text(engagement, fan, post.platform),
        at,
    )
    engagement.comments.append(comment)
    return comment


def _mention(
    state: SandboxState, brand: SandboxAccount, posts: list[SandboxPost], at: datetime
) -> FanMention:
    """A fan's Weibo post that @-mentions ``brand`` (about one of its posts, if any)."""
    engagement = engagement_of(state)
    fan = _fan(engagement, "weibo")
    about = [p.post_id for p in posts if p.account_id == brand.account_id]
    mention = FanMention(
        "weibo",
        brand.account_id,
        state.next_id(),
        fan,
        f"@{brand.name} {_text(engagement, fan, 'weibo')}",
        at,
        engagement.random.choice(about) if about else "",
    )
    engagement.mentions.append(mention)
    return mention


def _message(state: SandboxState, account: SandboxAccount, at: datetime) -> FanMessage:
    """A fan's private message to a WeChat Official Account."""
    engagement = engagement_of(state)
    fan = _fan(engagement, WECHAT)
    message = FanMessage(
        WECHAT,
        account.account_id,
        state.next_id(),
        fan,
        _text(engagement, fan, WECHAT, message=True),
        at,
    )
    engagement.messages.append(message)
    return message


def _deliver(listeners: list[Callable[[FanMessage], None]], pushed: list[FanMessage]) -> None:
    """Hand new messages to the listeners (WeChat's push), outside the state's lock."""
    for message in pushed:
        for listener in listeners:
            try:
                listener(message)
            except Exception:  # a push that fails must not stop the audience
                log.exception("audience: delivering message %s failed", message.msg_id)


def tick(state: SandboxState, *, comments: int = 3) -> dict[str, int]:
    """A burst of the audience: comments on recent posts, maybe a mention and a message.

    Returns how many of each were added. No comments before something is published.
    """
    engagement = engagement_of(state)
    added = {"comments": 0, "mentions": 0, "messages": 0}
    pushed: list[FanMessage] = []
    now = utcnow()
    with state.lock:
        engagement.ticks += 1
        rng = engagement.random
        posts = sorted(_live_posts(state), key=lambda p: p.created_at)[-10:]
        if posts:
            for _ in range(comments):
                _comment(state, rng.choice(posts), now)
                added["comments"] += 1
        # Fans mention the brand whether or not it published anything lately.
        brands = sorted(
            (a for a in state.accounts.values() if a.platform == "weibo"),
            key=lambda a: a.account_id,
        )
        if brands and rng.random() < 0.6:
            _mention(state, brands[0], posts, now)
            added["mentions"] += 1
        wechat = [a for a in state.accounts.values() if a.platform == WECHAT]
        if wechat and rng.random() < 0.5:
            pushed.append(_message(state, rng.choice(wechat), now))
            added["messages"] += 1
        listeners = list(engagement.message_listeners)
    _deliver(listeners, pushed)
    return added


def paced_round(state: SandboxState, *, at: datetime | None = None) -> dict[str, int]:
    """One paced round: each account of an engaging platform gets one item.

    A comment on one of its recent posts when it has some (on Weibo now and then a mention
    instead, on WeChat a private message), else a mention (Weibo) or a private message
    (WeChat); a Douyin account without videos gets nothing. ``at`` dates the items (default now).
    """
    engagement = engagement_of(state)
    added = {"comments": 0, "mentions": 0, "messages": 0}
    pushed: list[FanMessage] = []
    moment = at or utcnow()
    with state.lock:
        engagement.rounds += 1
        rng = engagement.random
        live = _live_posts(state)
        accounts = sorted(
            (a for a in state.accounts.values() if a.platform in ENGAGING_PLATFORMS),
            key=lambda a: (a.platform, a.account_id),
        )
        for account in accounts:
            own = sorted(
                (
                    p
                    for p in live
                    if (p.platform, p.account_id) == (account.platform, account.account_id)
                ),
                key=lambda p: p.created_at,
            )[-5:]
            if account.platform == "weibo" and (not own or rng.random() < MENTION_SHARE):
                _mention(state, account, own, moment)
                added["mentions"] += 1
            elif account.platform == WECHAT and (not own or rng.random() < MESSAGE_SHARE):
                pushed.append(_message(state, account, moment))
                added["messages"] += 1
            elif own:
                _comment(state, rng.choice(own), moment)
                added["comments"] += 1
        listeners = list(engagement.message_listeners)
    _deliver(listeners, pushed)
    return added


def backfill(state: SandboxState, *, rounds: int, every_s: float) -> dict[str, int]:
    """``rounds`` paced rounds dated as if played every ``every_s`` seconds until now."""
    totals = {"comments": 0, "mentions": 0, "messages": 0}
    now = utcnow()
    for index in range(rounds):
        added = paced_round(state, at=now - timedelta(seconds=every_s * (rounds - 1 - index)))
        for key, count in added.items():
            totals[key] += count
    return totals


def pace_s() -> float:
    """Seconds between two paced rounds of the background audience (0 or less: no thread).

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

    @app.post("/_sandbox/audience/round")
    def rounds_now(rounds: int = 1) -> dict[str, int]:
        every_s = pace_s()
        if every_s <= 0:  # no background audience: date them as the default pace would
            every_s = float(Settings.model_fields["sandbox_audience_pace_s"].default)
        return backfill(state, rounds=max(0, min(rounds, 100)), every_s=every_s)

    @app.get("/_sandbox/audience")
    def audience_summary() -> dict[str, Any]:
        engagement = engagement_of(state)
        with state.lock:
            return {
                "ticks": engagement.ticks,
                "rounds": engagement.rounds,
                "comments": len(engagement.comments),
                "mentions": len(engagement.mentions),
                "messages": len(engagement.messages),
                "source": SOURCE,
            }

    def run(every_s: float) -> None:
        while not stop.wait(every_s):
            try:
                paced_round(state)
            except Exception:  # the audience is a demo aid: log, keep going
                log.exception("audience round failed")

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
