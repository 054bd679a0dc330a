"""The analytics part of the demo workspace: 180 days of its accounts' history.

The figures are the sandbox's own: an in-memory sandbox with the same seed as the one
``guanxi up`` starts is given the accounts' older posts (the sandbox's history functions),
and its growth model gives every day's followers and figures and every post's snapshots on
the collector's schedule. When ``guanxi up`` gives the running sandbox the same older posts
(``sandbox_history_days``), what the collector then reads continues the same curves: the
same posts under the same ids, the same days with the same figures, so its upserts neither
duplicate nor contradict the demo's rows. The manual account (no API) gets a profile of its
own. Every row is flagged ``illustrative``; nothing is written twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import MetricsLimits
from guanxi.connectors.registry import connector_factories
from guanxi.core.db import utcnow
from guanxi.core.upsert import insert_statement
from guanxi.devtools.demo import DemoStep, post_tags
from guanxi.measure.models import (
    FoundBy,
    MeasuredPost,
    PostFormat,
    SnapshotPlan,
)
from guanxi.measure.posts import next_snapshot_at, snapshot_ages
from guanxi.measure.store import measure_store
from guanxi.measure.store.base import DayFact, SnapshotFact
from guanxi.sandbox import metrics
from guanxi.sandbox import metrics_model as model
from guanxi.sandbox.douyin_metrics import add_history_videos
from guanxi.sandbox.state import SandboxPost, SandboxState
from guanxi.sandbox.wechat_metrics import add_history_articles
from guanxi.sandbox.wechat_state import WechatSandbox
from guanxi.sandbox.weibo_metrics import add_history_posts

HISTORY_DAYS = 180
SANDBOX_SEED = 0  # `guanxi sandbox`'s default seed, the one `guanxi up` starts it with
SANDBOX_BASE_URL = "http://127.0.0.1:8100"  # where `guanxi up` serves the sandbox
ROWS_PER_STATEMENT = 500

# An account without an API (the manual one, Xiaohongshu): a profile of its own, since the
# sandbox has none; its figures are what a person would read off the app and type in.
MANUAL_PROFILE = model.PlatformProfile(
    platform="manual",
    tau_hours=20.0,
    reach=0.35,
    spread=0.9,
    rates=(("likes", 0.06), ("saves", 0.03), ("comments", 0.008), ("shares", 0.004)),
    daily_view_rate=0.02,
    initial_followers=3_000,
    daily_new_followers=18.0,
    daily_churn=0.0008,
)


@dataclass(frozen=True)
class HistoryPlan:
    """How one platform's demo account published, and what its posts are."""

    per_week: float  # the sandbox history endpoint's default for the platform
    format: PostFormat


PLANS: dict[str, HistoryPlan] = {
    "weibo": HistoryPlan(5.0, PostFormat.TEXT),
    "wechat": HistoryPlan(3.0, PostFormat.ARTICLE),
    "douyin": HistoryPlan(4.0, PostFormat.VIDEO),
}
# The platforms whose sandbox has history endpoints, with the path prefix they are served at.
HISTORY_PLATFORMS = {"weibo": "weibo", "wechat": "wechat", "douyin": "douyin"}
MANUAL_PLAN = HistoryPlan(3.0, PostFormat.IMAGE)
MANUAL_TEXTS = ("桃红酒野餐清单", "一瓶好酒的开瓶仪式", "普罗旺斯薰衣草季", "周末小聚配酒指南")


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Add 180 days of illustrative history to each of the workspace's accounts that has
    none; an account with illustrative days already is left as it is."""
    channels = list(db.scalars(select(Channel).where(Channel.workspace_id == workspace.id)))
    store = measure_store(db)
    todo = [channel for channel in channels if not store.has_days([channel.id], illustrative=True)]
    if not todo:
        return
    now = utcnow()
    state = sandbox_world(todo, now=now)
    for channel in todo:
        _store_history(db, channel=channel, state=state, now=now)
    db.flush()
    post_tags.publish_history(db, workspace_id=workspace.id, now=now)


def sandbox_world(channels: Sequence[Channel], *, now: datetime) -> SandboxState:
    """An in-memory sandbox at ``now`` whose accounts have the posts of the last
    ``HISTORY_DAYS`` days, as the running sandbox's history endpoints give them."""
    state = SandboxState()
    state.clock.set(now=now)
    metrics.world_of(state).seed = SANDBOX_SEED
    wechat = WechatSandbox()
    for channel in channels:
        account, plan = channel.external_id, PLANS.get(channel.platform)
        if channel.platform == "weibo":
            add_history_posts(state, account, days=HISTORY_DAYS, per_week=PLANS["weibo"].per_week)
        elif channel.platform == "wechat":
            add_history_articles(
                state,
                wechat,
                account,
                f"{SANDBOX_BASE_URL}/wechat",
                days=HISTORY_DAYS,
                per_week=PLANS["wechat"].per_week,
            )
        elif channel.platform == "douyin":
            add_history_videos(state, account, days=HISTORY_DAYS, per_week=PLANS["douyin"].per_week)
        elif plan is None:
            metrics.world_of(state).profiles[(channel.platform, account)] = MANUAL_PROFILE
            times = metrics.history_times(
                state, account, days=HISTORY_DAYS, per_week=MANUAL_PLAN.per_week
            )
            for number, moment in enumerate(times):
                state.add_post(
                    SandboxPost(
                        channel.platform,
                        account,
                        f"demo-{int(moment.timestamp())}",
                        MANUAL_TEXTS[number % len(MANUAL_TEXTS)],
                        moment,
                    )
                )
    return state


def sandbox_history_days(first_day: date, today: date) -> int:
    """The ``days`` to ask the running sandbox's history endpoints for on ``today`` so its
    older posts start on ``first_day``, the demo history's first day."""
    return max(1, (today - first_day).days)


def _store_history(db: Session, *, channel: Channel, state: SandboxState, now: datetime) -> None:
    platform, account = channel.platform, channel.external_id
    today = metrics.today(state)
    first = today - timedelta(days=HISTORY_DAYS)
    store = measure_store(db)
    # A day collected already keeps its figures: the history fills the days around it.
    collected = {fact.day for fact in store.days([channel.id], first, today)}
    days = []
    for offset in range(HISTORY_DAYS):
        figures = metrics.account_day(state, platform, account, first + timedelta(days=offset))
        if figures is not None and figures.day not in collected:
            days.append(
                DayFact(
                    workspace_id=channel.workspace_id,
                    channel_id=channel.id,
                    day=figures.day,
                    collected_at=now,
                    illustrative=True,
                    figures={
                        "followers": figures.followers,
                        "new_followers": figures.new_followers,
                        "lost_followers": figures.lost_followers,
                        **figures.figures,
                    },
                )
            )
    for start in range(0, len(days), ROWS_PER_STATEMENT):
        store.write_days(days[start : start + ROWS_PER_STATEMENT])
    plan = PLANS.get(platform, MANUAL_PLAN)
    limits: MetricsLimits | None = getattr(
        connector_factories().get(channel.connector), "metrics_limits", None
    )
    max_age = (
        timedelta(days=limits.post_max_age_days)
        if limits is not None and limits.post_max_age_days is not None
        else None
    )
    with state.lock:
        posts = [p for p in state.posts if p.platform == platform and p.account_id == account]
    for post in posts:
        _store_post(db, channel=channel, state=state, post=post, plan=plan, max_age=max_age)


def _store_post(
    db: Session,
    *,
    channel: Channel,
    state: SandboxState,
    post: SandboxPost,
    plan: HistoryPlan,
    max_age: timedelta | None,
) -> None:
    now = metrics.now(state)
    published = post.created_at.astimezone(UTC)
    moments = list(_snapshot_moments(published, now=now, max_age=max_age))
    snapshots = [(at, metrics.post_figures(state, post, at)) for at in moments]
    last_at, last = snapshots[-1] if snapshots else (None, {})
    following = next_snapshot_at(published, after=now, max_age=max_age)
    row: dict[str, Any] = {
        "workspace_id": channel.workspace_id,
        "channel_id": channel.id,
        "external_id": post.post_id,
        "published_at": published,
        "format": plan.format,
        "text_excerpt": (post.title or post.text)[:280],
        "url": str(post.extra.get("url", "")),
        "found_by": FoundBy.TIMELINE,
        "found_at": now,
        "illustrative": True,
        "plan": SnapshotPlan.ACTIVE if following else SnapshotPlan.FINISHED,
        "next_snapshot_at": following,
        "last_observed_at": last_at,
        "snapshot_count": len(snapshots),
        **last,
    }
    post_id = db.scalar(
        insert_statement(db, MeasuredPost)
        .values(row)
        .on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
        .returning(MeasuredPost.id)
    )
    if post_id is None or not snapshots:
        return  # measured already (the collector found it first): its snapshots are its own
    measure_store(db).write_snapshots(
        [
            SnapshotFact(
                workspace_id=channel.workspace_id,
                post_id=post_id,
                observed_at=at,
                figures=figures,
            )
            for at, figures in snapshots
        ],
        replace=False,
    )


def _snapshot_moments(
    published: datetime, *, now: datetime, max_age: timedelta | None
) -> Iterator[datetime]:
    """The collector's snapshot times of a post until ``now``, within the API's reach."""
    for age in snapshot_ages():
        if max_age is not None and age >= max_age:
            return
        moment = published + age
        if moment > now:
            return
        yield moment


def give_sandbox_history(db: Session, *, base_url: str, now: datetime | None = None) -> int:
    """Give the running sandbox at ``base_url`` the older posts of every account with a
    demo history, from that history's first day (so the same posts, under the same ids);
    returns how many posts it added. The sandbox's clock is taken to be ``now``."""
    today = (now or utcnow()).astimezone(model.BEIJING).date()
    channels = db.scalars(
        select(Channel).where(Channel.platform.in_(list(HISTORY_PLATFORMS)))
    ).all()
    added = 0
    for channel in channels:
        first = history_first_day(db, channel_id=channel.id)
        if first is None:
            continue
        response = httpx.post(
            f"{base_url}/{HISTORY_PLATFORMS[channel.platform]}/_sandbox/accounts/"
            f"{channel.external_id}/history",
            json={
                "days": sandbox_history_days(first, today),
                "per_week": PLANS[channel.platform].per_week,
            },
            timeout=30.0,
        )
        response.raise_for_status()
        added += int(response.json().get("added", 0))
    return added


def history_first_day(db: Session, *, channel_id: int) -> date | None:
    """The first day of a channel's illustrative history, None without one."""
    store = measure_store(db)
    span = store.spans([channel_id]).get(channel_id)
    if span is None:
        return None
    days = store.days([channel_id], span.first, span.last)
    return next((fact.day for fact in days if fact.illustrative), None)


DEMO = DemoStep(order=60, load=load_demo)
