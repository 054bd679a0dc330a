"""The figures of the sandbox's accounts and posts: the growth model applied to what the
sandbox holds, at the time of the sandbox's clock.

The platform surfaces (``weibo_metrics``, ``wechat_metrics``, ``douyin_metrics``) serve these
figures in each platform's own shapes; this module only knows accounts, posts and days
(Beijing days, as the platforms count them). Admin endpoints let a test or the demo set the
clock and make one account behave differently (a Douyin account with too few fans, say).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException

from guanxi.sandbox import metrics_model as model
from guanxi.sandbox.state import SandboxPost, SandboxState

# What an admin request may change on an account's profile.
TUNABLE = frozenset(
    {"initial_followers", "daily_new_followers", "daily_churn", "reach", "daily_view_rate"}
)


@dataclass
class MetricsWorld:
    """The seed the figures are drawn with, and accounts that differ from their platform."""

    seed: int = 0
    profiles: dict[tuple[str, str], model.PlatformProfile] = field(default_factory=dict)


@dataclass(frozen=True)
class DayFigures:
    """An account's figures on one Beijing day, as the sandbox's platforms report them."""

    day: date
    followers: int
    new_followers: int
    lost_followers: int
    figures: dict[str, int]  # views and the platform's engagements during the day


_WORLDS: weakref.WeakKeyDictionary[SandboxState, MetricsWorld] = weakref.WeakKeyDictionary()
_WORLDS_LOCK = threading.Lock()


def world_of(state: SandboxState) -> MetricsWorld:
    """The metrics world kept alongside ``state`` (made on first use)."""
    with _WORLDS_LOCK:
        found = _WORLDS.get(state)
        if found is None:
            found = _WORLDS[state] = MetricsWorld()
        return found


def profile_of(state: SandboxState, platform: str, account_id: str) -> model.PlatformProfile:
    """How this account's figures behave: its platform's profile unless a test changed it."""
    tuned = world_of(state).profiles.get((platform, account_id))
    return tuned if tuned is not None else model.PROFILES[platform]


def tune(state: SandboxState, platform: str, account_id: str, **changes: Any) -> None:
    """Make one account differ from its platform (``TUNABLE`` fields of its profile)."""
    unknown = set(changes) - TUNABLE
    if unknown:
        msg = f"not tunable: {', '.join(sorted(unknown))}"
        raise ValueError(msg)
    profile = replace(profile_of(state, platform, account_id), **changes)
    world_of(state).profiles[(platform, account_id)] = profile


def now(state: SandboxState) -> datetime:
    """The sandbox's current time."""
    return state.clock.now()


def today(state: SandboxState) -> date:
    """The day it is in Beijing, by the sandbox's clock."""
    return now(state).astimezone(model.BEIJING).date()


def day_start(day: date) -> datetime:
    """Midnight at the start of a Beijing day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=model.BEIJING).astimezone(UTC)


def follower_day(
    state: SandboxState, platform: str, account_id: str, day: date
) -> model.FollowerDay | None:
    """The account's followers on ``day``; None before its history starts."""
    profile = profile_of(state, platform, account_id)
    return model.follower_day(profile, world_of(state).seed, account_id, day)


def followers_now(state: SandboxState, platform: str, account_id: str) -> int:
    """The account's followers at this moment: yesterday's, and today's so far."""
    moment = now(state)
    current = today(state)
    yesterday = follower_day(state, platform, account_id, current - timedelta(days=1))
    so_far = follower_day(state, platform, account_id, current)
    if so_far is None:
        return 0
    if yesterday is None:
        return so_far.followers
    elapsed = (moment - day_start(current)) / timedelta(days=1)
    return yesterday.followers + round((so_far.new - so_far.lost) * elapsed)


def _followers_at(state: SandboxState, platform: str, account_id: str, moment: datetime) -> int:
    day = moment.astimezone(model.BEIJING).date()
    found = follower_day(state, platform, account_id, day)
    return found.followers if found else profile_of(state, platform, account_id).initial_followers


def figures_of(
    state: SandboxState,
    platform: str,
    account_id: str,
    key: str,
    published_at: datetime,
    at: datetime,
    *,
    weight: float = 1.0,
) -> dict[str, int]:
    """The cumulative figures at ``at`` of what ``account_id`` published at ``published_at``
    (``key`` names it for the draws; ``weight`` scales its reach, e.g. for the second article
    of a WeChat group)."""
    profile = profile_of(state, platform, account_id)
    if weight != 1.0:
        profile = replace(profile, reach=profile.reach * weight)
    followers = _followers_at(state, platform, account_id, published_at)
    return model.post_figures(
        profile, world_of(state).seed, key, published_at=published_at, at=at, followers=followers
    )


def post_key(post: SandboxPost) -> str:
    """What a post's draws are keyed by: its id, or for WeChat the publish job's id (its
    article id is only known once the job ends)."""
    return str(post.extra.get("publish_id") or post.post_id)


def post_figures(
    state: SandboxState, post: SandboxPost, at: datetime | None = None
) -> dict[str, int]:
    """A published post's cumulative figures at ``at`` (the clock's now by default); zeros for
    a post that is not public."""
    moment = now(state) if at is None else at
    if post.status != "published":
        rates = profile_of(state, post.platform, post.account_id).rates
        return {"views": 0} | {name: 0 for name, _ in rates}
    return figures_of(
        state, post.platform, post.account_id, post_key(post), post.created_at, moment
    )


def account_day(
    state: SandboxState, platform: str, account_id: str, day: date
) -> DayFigures | None:
    """The account's figures on ``day``: its older content's daily views and engagements plus
    what its posts gained that day; None before its history starts."""
    followers = follower_day(state, platform, account_id, day)
    if followers is None:
        return None
    profile = profile_of(state, platform, account_id)
    seed = world_of(state).seed
    figures = model.baseline_day(profile, seed, account_id, day, followers.followers)
    start = day_start(day)
    end = min(day_start(day + timedelta(days=1)), max(now(state), start))
    with state.lock:
        posts = [
            p
            for p in state.posts
            if p.platform == platform
            and p.account_id == account_id
            and p.status == "published"
            and not p.deleted
            and p.created_at < end
        ]
    for post in posts:
        gained = post_figures(state, post, end)
        before = post_figures(state, post, start) if post.created_at < start else {}
        for name, value in gained.items():
            figures[name] = figures.get(name, 0) + value - before.get(name, 0)
    return DayFigures(day, followers.followers, followers.new, followers.lost, figures)


def history_times(
    state: SandboxState, account_id: str, *, days: int, per_week: float
) -> list[datetime]:
    """When an account published before the clock's now, for seeding its older posts."""
    return model.publish_times(
        world_of(state).seed, account_id, until=now(state), days=days, per_week=per_week
    )


def parse_day(value: object) -> date | None:
    """A ``YYYY-MM-DD`` day, or None when it is not one."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def install(app: FastAPI, state: SandboxState, *, seed: int = 0) -> None:
    """The clock and metrics admin endpoints; figures are drawn with ``seed``."""
    world_of(state).seed = seed

    @app.get("/_sandbox/clock")
    def clock() -> dict[str, Any]:
        return state.clock.describe()

    @app.put("/_sandbox/clock")
    def set_clock(body: dict[str, Any]) -> dict[str, Any]:
        try:
            fixed = datetime.fromisoformat(str(body["now"])) if body.get("now") else None
            offset = timedelta(seconds=float(body.get("offset_s") or 0))
            state.clock.set(now=fixed, offset=offset)
        except (TypeError, ValueError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return state.clock.describe()

    @app.delete("/_sandbox/clock")
    def reset_clock() -> dict[str, Any]:
        state.clock.reset()
        return state.clock.describe()

    @app.put("/_sandbox/metrics/accounts/{platform}/{account_id}")
    def tune_account(platform: str, account_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if (platform, account_id) not in state.accounts or platform not in model.PROFILES:
            raise HTTPException(status_code=404, detail="no such sandbox account")
        try:
            tune(state, platform, account_id, **body)
        except (TypeError, ValueError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return {"platform": platform, "account_id": account_id, **body}

    @app.get("/_sandbox/metrics/accounts/{platform}/{account_id}")
    def account_figures(platform: str, account_id: str, day: str = "") -> dict[str, Any]:
        if (platform, account_id) not in state.accounts or platform not in model.PROFILES:
            raise HTTPException(status_code=404, detail="no such sandbox account")
        wanted = parse_day(day) if day else today(state)
        if wanted is None:
            raise HTTPException(status_code=422, detail="day: YYYY-MM-DD")
        figures = account_day(state, platform, account_id, wanted)
        return {
            "platform": platform,
            "account_id": account_id,
            "day": wanted.isoformat(),
            "followers_now": followers_now(state, platform, account_id),
            "birth_day": model.birth_day(world_of(state).seed, platform, account_id).isoformat(),
            "figures": None
            if figures is None
            else {
                "followers": figures.followers,
                "new_followers": figures.new_followers,
                "lost_followers": figures.lost_followers,
                **figures.figures,
            },
        }
