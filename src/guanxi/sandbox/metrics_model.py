"""How the sandbox's figures grow: pure functions of a seed, an account or post, and a time.

A post's views come in fast and then ever more slowly: its cumulative views at age ``t`` are
``total · (1 − exp(−t/τ))``, with ``τ`` and the expected total per follower depending on
the platform (a Douyin video is played far more often than a Weibo post is read). The
total also depends on when it went out (hour of the day and weekday, in Beijing time) and
on a log-normal draw keyed by ``(seed, post id)``; likes, comments, shares, saves and 在看
are fractions of the views, each with its own draw, so every cumulative figure only grows.

An account has a history from its birth day (about two years before today, so a backfill
finds something): followers start from a platform's typical number and each day some
follow (more on weekends) and a few leave (a share of the followers), so the total grows
towards an equilibrium with a little churn. Its older content keeps being read every day.

Nothing here reads a clock or keeps state between calls: the same arguments give the same
numbers, which is what makes the demo and the tests reproducible.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
# Accounts are born a few months after this day (so about two years before the end of 2026).
HISTORY_FROM = date(2024, 6, 1)
BIRTH_SPREAD_DAYS = 90

# How much an hour of the day (Beijing) weighs on a post's total: the commute, lunch and the
# evening are when people read; the night is quiet. Two rows of twelve hours, as written:
# fmt: off
HOUR_EFFECT: tuple[float, ...] = (
    0.55, 0.40, 0.30, 0.25, 0.25, 0.30, 0.45, 0.65, 0.85, 0.95, 1.00, 1.05,
    1.20, 1.10, 0.95, 0.95, 1.00, 1.05, 1.15, 1.30, 1.45, 1.50, 1.30, 0.85,
)
# fmt: on
WEEKDAY_EFFECT: tuple[float, ...] = (0.96, 0.98, 1.00, 1.00, 1.02, 1.08, 1.06)  # Monday first
BUSY_HOURS = (8, 10, 12, 19, 20, 21)  # when brands publish (Beijing)


@dataclass(frozen=True)
class PlatformProfile:
    """How figures behave on one platform (or for one account that differs from it)."""

    platform: str
    tau_hours: float  # 63% of a post's views arrive within this many hours
    reach: float  # a post's expected lifetime views per follower
    spread: float  # sigma of the log-normal draw on a post's total
    rates: tuple[tuple[str, float], ...]  # engagements per view, by metric name
    daily_view_rate: float  # views per follower per day of the account's older content
    initial_followers: int
    daily_new_followers: float
    daily_churn: float  # the share of followers who leave on a day


PROFILES: Mapping[str, PlatformProfile] = {
    "weibo": PlatformProfile(
        platform="weibo",
        tau_hours=3.0,
        reach=0.06,
        spread=0.8,
        rates=(("likes", 0.025), ("comments", 0.004), ("shares", 0.003)),
        daily_view_rate=0.01,
        initial_followers=12_000,
        daily_new_followers=40.0,
        daily_churn=0.0006,
    ),
    "wechat": PlatformProfile(
        platform="wechat",
        tau_hours=9.0,
        reach=0.09,
        spread=0.5,
        rates=(
            ("likes", 0.012),
            ("wows", 0.006),
            ("comments", 0.0025),
            ("shares", 0.02),
            ("saves", 0.008),
        ),
        daily_view_rate=0.004,
        initial_followers=8_000,
        daily_new_followers=22.0,
        daily_churn=0.0009,
    ),
    "douyin": PlatformProfile(
        platform="douyin",
        tau_hours=16.0,
        reach=1.6,
        spread=1.0,
        rates=(("likes", 0.045), ("comments", 0.003), ("shares", 0.004)),
        daily_view_rate=0.05,
        initial_followers=30_000,
        daily_new_followers=160.0,
        daily_churn=0.0012,
    ),
}


@dataclass(frozen=True)
class FollowerDay:
    """An account's followers on one day: the total at the end of it, who came, who left."""

    day: date
    followers: int
    new: int
    lost: int


# --- Seeded draws ---------------------------------------------------------------------------


def unit(seed: int, *key: object) -> float:
    """A number in [0, 1) that depends only on ``seed`` and ``key``."""
    text = "\x1f".join(str(part) for part in (seed, *key))
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def normal(seed: int, *key: object) -> float:
    """A standard normal draw that depends only on ``seed`` and ``key`` (Box-Muller)."""
    first = max(unit(seed, *key, "u1"), 1e-12)
    second = unit(seed, *key, "u2")
    return math.sqrt(-2.0 * math.log(first)) * math.cos(2.0 * math.pi * second)


# Pure functions of their arguments, drawn again and again (a post's draws at every moment
# its figures are read, an account's birth day for each of its posts): kept once drawn.
@lru_cache(maxsize=1 << 16)
def lognormal(sigma: float, seed: int, *key: object) -> float:
    """A log-normal factor with mean 1."""
    return math.exp(sigma * normal(seed, *key) - sigma * sigma / 2.0)


# --- Posts ----------------------------------------------------------------------------------


def timing_effect(published_at: datetime) -> float:
    """How the hour and weekday (Beijing) of publishing weigh on a post's total."""
    local = published_at.astimezone(BEIJING)
    return HOUR_EFFECT[local.hour] * WEEKDAY_EFFECT[local.weekday()]


def risen(age: timedelta, tau_hours: float) -> float:
    """The share of a post's lifetime views that arrived by ``age``: 1 − exp(−t/τ)."""
    hours = age.total_seconds() / 3600.0
    if hours <= 0:
        return 0.0
    return 1.0 - math.exp(-hours / tau_hours)


def post_total_views(
    profile: PlatformProfile, seed: int, post_id: str, published_at: datetime, followers: int
) -> float:
    """The views a post will have in the end (its curve tends to this)."""
    draw = lognormal(profile.spread, seed, profile.platform, post_id, "views")
    return followers * profile.reach * timing_effect(published_at) * draw


def post_figures(
    profile: PlatformProfile,
    seed: int,
    post_id: str,
    *,
    published_at: datetime,
    at: datetime,
    followers: int,
) -> dict[str, int]:
    """A post's cumulative figures at ``at``: views, and each engagement of the platform."""
    return dict(_post_figures(profile, seed, post_id, published_at, at, followers))


# An account's day reads each post at the day's start and end, the next day's start again.
@lru_cache(maxsize=1 << 14)
def _post_figures(
    profile: PlatformProfile,
    seed: int,
    post_id: str,
    published_at: datetime,
    at: datetime,
    followers: int,
) -> dict[str, int]:
    total = post_total_views(profile, seed, post_id, published_at, followers)
    views = total * risen(at - published_at, profile.tau_hours)
    figures = {"views": int(views)}
    for name, rate in profile.rates:
        figures[name] = int(views * rate * lognormal(0.35, seed, profile.platform, post_id, name))
    return figures


def publish_times(
    seed: int, account_id: str, *, until: datetime, days: int, per_week: float
) -> list[datetime]:
    """When an account published in the ``days`` before ``until``, oldest first: ``per_week``
    posts a week on average (at most three a day), in the day's busy hours."""
    rate = max(0.0, per_week) / 7.0
    times: list[datetime] = []
    last_day = until.astimezone(BEIJING).date()
    for back in range(days, 0, -1):
        day = last_day - timedelta(days=back)
        count = int(rate) + (1 if unit(seed, account_id, day, "posts") < rate - int(rate) else 0)
        for slot in range(min(count, 3)):
            hour = BUSY_HOURS[int(unit(seed, account_id, day, slot, "hour") * len(BUSY_HOURS))]
            minute = int(unit(seed, account_id, day, slot, "minute") * 60)
            moment = datetime.combine(day, time(hour, minute), tzinfo=BEIJING).astimezone(UTC)
            if moment < until:
                times.append(moment)
    return sorted(times)


# --- Accounts -------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def birth_day(seed: int, platform: str, account_id: str) -> date:
    """The day the account's history starts (some months after ``HISTORY_FROM``)."""
    offset = int(unit(seed, platform, account_id, "born") * BIRTH_SPREAD_DAYS)
    return HISTORY_FROM + timedelta(days=offset)


def _next_day(
    profile: PlatformProfile, seed: int, account_id: str, before: FollowerDay
) -> FollowerDay:
    day = before.day + timedelta(days=1)
    expected_new = profile.daily_new_followers * WEEKDAY_EFFECT[day.weekday()]
    new = round(expected_new * lognormal(0.3, seed, profile.platform, account_id, day, "new"))
    share = profile.daily_churn * 2.0 * unit(seed, profile.platform, account_id, day, "lost")
    lost = min(before.followers, round(before.followers * share))
    return FollowerDay(day, before.followers + new - lost, new, lost)


# Each day follows from the one before, so an account's days are kept as they are computed
# (a memo: the numbers are the same whether they come from here or are computed again).
_HISTORIES: dict[tuple[PlatformProfile, int, str], list[FollowerDay]] = {}
_HISTORIES_LOCK = threading.Lock()
_HISTORIES_KEPT = 256


def follower_history(
    profile: PlatformProfile, seed: int, account_id: str, until: date
) -> tuple[FollowerDay, ...]:
    """Every day's followers from the birth day (the profile's initial followers) to
    ``until``; empty before the birth day."""
    born = birth_day(seed, profile.platform, account_id)
    if until < born:
        return ()
    key = (profile, seed, account_id)
    with _HISTORIES_LOCK:
        days = _HISTORIES.get(key)
        if days is None:
            if len(_HISTORIES) >= _HISTORIES_KEPT:
                _HISTORIES.pop(next(iter(_HISTORIES)))
            days = _HISTORIES[key] = [FollowerDay(born, profile.initial_followers, 0, 0)]
        while days[-1].day < until:
            days.append(_next_day(profile, seed, account_id, days[-1]))
        return tuple(days[: (until - born).days + 1])


def follower_day(
    profile: PlatformProfile, seed: int, account_id: str, day: date
) -> FollowerDay | None:
    """The account's followers on ``day``; None before its history starts."""
    born = birth_day(seed, profile.platform, account_id)
    if day < born:
        return None
    key = (profile, seed, account_id)
    with _HISTORIES_LOCK:
        days = _HISTORIES.get(key)
        if days is not None and days[-1].day >= day:
            return days[(day - born).days]
    return follower_history(profile, seed, account_id, day)[-1]


def baseline_day(
    profile: PlatformProfile, seed: int, account_id: str, day: date, followers: int
) -> dict[str, int]:
    """A day's views and engagements of the account's older content (not its new posts)."""
    views = (
        followers
        * profile.daily_view_rate
        * WEEKDAY_EFFECT[day.weekday()]
        * lognormal(0.2, seed, profile.platform, account_id, day, "views")
    )
    figures = {"views": int(views)}
    for name, rate in profile.rates:
        draw = lognormal(0.2, seed, profile.platform, account_id, day, name)
        figures[name] = int(views * rate * draw)
    return figures


def split(
    total: int, shares: Sequence[tuple[str, float]], seed: int, *key: object
) -> dict[str, int]:
    """``total`` shared out among names by ``shares`` with a seeded wobble; the parts add up
    to ``total`` exactly (largest remainders get the rest)."""
    weights = [
        (name, share * lognormal(0.25, seed, *key, name)) for name, share in shares if share > 0
    ]
    whole = sum(weight for _, weight in weights)
    if total <= 0 or whole <= 0:
        return {name: 0 for name, _ in shares}
    exact = [(name, total * weight / whole) for name, weight in weights]
    parts = {name: int(value) for name, value in exact}
    rest = total - sum(parts.values())
    by_remainder = sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)
    for name, _ in by_remainder[:rest]:
        parts[name] += 1
    return {name: parts.get(name, 0) for name, _ in shares}
