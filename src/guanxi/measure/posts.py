"""The posts a channel's run measures, and their snapshots on a decaying schedule.

A post is found in publishing's tables (published with guanxi: no call) or in the account's
own posts (``account_posts``, at most hourly), and is snapshotted at 1 h, 6 h, 24 h, 3 d,
7 d and 30 d after publishing, then every 30 days, in batches of the connector's
``post_batch``. A post about to be older than the platform's API reports on gets a last
snapshot just before; one the platform stops answering for is given up after a few tries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from guanxi.connectors.base import FetchedItem, FetchedKind, NotSupportedError
from guanxi.connectors.metrics import MetricsLimits, MetricsUnavailableError, PostFigures
from guanxi.core import values
from guanxi.core.upsert import insert_statement
from guanxi.measure import flows
from guanxi.measure.models import (
    FiguresKind,
    FoundBy,
    MeasuredPost,
    PostFormat,
    SnapshotPlan,
)
from guanxi.measure.runs import Run, T, aware, figure_columns, platform_today, unavailable
from guanxi.measure.store import measure_store
from guanxi.measure.store.base import SnapshotFact

log = logging.getLogger(__name__)

# After publishing, a post is snapshotted at these ages, then every MONTH.
SNAPSHOT_AGES = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)
MONTH = timedelta(days=30)
# A post about to be too old for the platform's API gets its last snapshot this long before.
LAST_CHANCE = timedelta(hours=6)
GONE_AFTER_MISSES = 3  # answers in a row that left a post out: the platform dropped it
TIMELINE_EVERY = timedelta(hours=1)
MAX_TIMELINE_PAGES = 5
# Snapshot calls per channel and run (a batch each): the posts due beyond wait for the next
# run, so a backlog never spends an hour's rate limit (Weibo: 150 calls an hour per user).
MAX_SNAPSHOT_CALLS = 10


def snapshot_ages() -> Iterator[timedelta]:
    """The ages at which a post is snapshotted: the fixed steps, then every month."""
    yield from SNAPSHOT_AGES
    age = SNAPSHOT_AGES[-1]
    while True:
        age += MONTH
        yield age


def next_snapshot_at(
    published_at: datetime, *, after: datetime | None, max_age: timedelta | None = None
) -> datetime | None:
    """When the post is next due: the first time of its schedule after ``after`` (its first
    when never snapshotted). A post the API stops reporting at ``max_age`` gets one last
    snapshot shortly before that age; None when it will not be due again."""
    for age in snapshot_ages():
        due = published_at + age
        if after is None or due > after:
            break
    if max_age is not None:
        last = published_at + max_age - LAST_CHANCE
        if due > last:
            return last if after is None or last > after else None
    return due


def discover_published(run: Run) -> None:
    """The posts guanxi published on the channel, measured from now on (no call)."""
    published = flows.unmeasured_published_posts(
        run.db, channel_id=run.channel.id, variant_fields=run.connector.variant_fields
    )
    for post in published:
        published_at = post.published_at or run.now
        row = {
            "workspace_id": run.channel.workspace_id,
            "channel_id": run.channel.id,
            "external_id": post.external_id[:200],
            "variant_id": post.variant_id,
            "published_at": published_at,
            "format": post.format,
            "text_excerpt": values.text(post.text, limit=280),
            "url": values.web_url(post.url),
            "found_by": FoundBy.PUBLISHED,
            "found_at": run.now,
            "plan": SnapshotPlan.ACTIVE,
            "next_snapshot_at": next_snapshot_at(published_at, after=None),
        }
        statement = insert_statement(run.db, MeasuredPost).values(row)
        # Already found in the timeline: it is now known as guanxi's, with its format.
        statement = statement.on_conflict_do_update(
            index_elements=["channel_id", "external_id"],
            set_={name: statement.excluded[name] for name in ("variant_id", "found_by", "format")},
        )
        run.db.execute(statement)
        run.report.posts_found += 1
    run.db.commit()


def discover_timeline(run: Run) -> None:
    """The account's own posts newer than the stored cursor, at most hourly."""
    state = run.state
    if state.posts_read_at is not None and run.now - state.posts_read_at < TIMELINE_EVERY:
        return
    try:
        for _ in range(MAX_TIMELINE_PAGES):
            page = run.call(
                lambda: run.metrics.account_posts(run.context, since=state.posts_cursor)
            )
            rows = [_timeline_row(run, item) for item in page.items]
            found = [row for row in rows if row is not None]
            if found:
                statement = insert_statement(run.db, MeasuredPost).values(found)
                run.db.execute(
                    statement.on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
                )
            run.report.posts_found += len(found)
            state.posts_cursor = (page.cursor or state.posts_cursor)[:400]
            if not page.has_more:
                break
    except (MetricsUnavailableError, NotSupportedError) as exc:
        today = platform_today(run.now)
        unavailable(run, FiguresKind.POSTS, today, today, exc)
    state.posts_read_at = run.now
    run.db.commit()


def _timeline_row(run: Run, item: FetchedItem) -> dict[str, Any] | None:
    if item.kind is not FetchedKind.POST or not item.external_id:
        return None
    try:
        published_at = values.moment(item.created_at, now=run.now)
    except values.InvalidValue as exc:
        log.warning("measured post %r left out: %s", item.external_id[:200], exc.problem)
        return None
    max_age = _max_age(run.limits)
    too_old = max_age is not None and run.now - published_at >= max_age
    return {
        "workspace_id": run.channel.workspace_id,
        "channel_id": run.channel.id,
        "external_id": item.external_id[:200],
        "variant_id": None,
        "published_at": published_at,
        "format": PostFormat(item.format.value) if item.format is not None else None,
        "text_excerpt": values.text(item.text, limit=280),
        "url": values.web_url(item.url),
        "found_by": FoundBy.TIMELINE,
        "found_at": run.now,
        "plan": SnapshotPlan.FINISHED if too_old else SnapshotPlan.ACTIVE,
        "next_snapshot_at": None if too_old else next_snapshot_at(published_at, after=None),
    }


def _max_age(limits: MetricsLimits) -> timedelta | None:
    return None if limits.post_max_age_days is None else timedelta(days=limits.post_max_age_days)


# --- Step 3: snapshots -------------------------------------------------------------------


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + max(1, size)]


def snapshot_posts(run: Run) -> None:
    """Snapshot the channel's posts that are due, a batch per call."""
    max_age = _max_age(run.limits)
    due = run.db.scalars(
        select(MeasuredPost)
        .where(
            MeasuredPost.channel_id == run.channel.id,
            MeasuredPost.plan == SnapshotPlan.ACTIVE,
            MeasuredPost.next_snapshot_at <= run.now,
        )
        .order_by(MeasuredPost.next_snapshot_at)
        .limit(MAX_SNAPSHOT_CALLS * max(1, run.limits.post_batch))
    ).all()
    posts = []
    for post in due:
        if max_age is not None and run.now - post.published_at >= max_age:
            post.plan, post.next_snapshot_at = SnapshotPlan.FINISHED, None
        else:
            posts.append(post)
    for batch in _batches(posts, run.limits.post_batch):
        ids = [post.external_id for post in batch]
        try:
            answer = run.call(partial(run.metrics.post_metrics, run.context, ids))
        except (MetricsUnavailableError, NotSupportedError) as exc:
            today = platform_today(run.now)
            unavailable(run, FiguresKind.POSTS, today, today, exc)
            for post in batch:
                post.next_snapshot_at = next_snapshot_at(
                    post.published_at, after=run.now, max_age=max_age
                )
                post.plan = SnapshotPlan.ACTIVE if post.next_snapshot_at else SnapshotPlan.FINISHED
            continue
        _store_snapshots(run, batch, answer, max_age=max_age)
    run.state.snapshots_taken_at = run.now if posts else run.state.snapshots_taken_at
    run.db.commit()


def _store_snapshots(
    run: Run,
    batch: Sequence[MeasuredPost],
    answer: Sequence[PostFigures],
    *,
    max_age: timedelta | None,
) -> None:
    by_id = {figures.external_id: figures for figures in answer}
    rows: list[SnapshotFact] = []
    for post in batch:
        figures = by_id.get(post.external_id)
        if figures is None:
            post.misses += 1
            if post.misses >= GONE_AFTER_MISSES:
                post.plan, post.next_snapshot_at = SnapshotPlan.GONE, None
                continue
        else:
            observed_at = aware(figures.observed_at)
            columns = figure_columns(figures.values)
            rows.append(
                SnapshotFact(
                    workspace_id=post.workspace_id,
                    post_id=post.id,
                    observed_at=observed_at,
                    as_of=aware(figures.as_of) if figures.as_of else None,
                    figures=columns,
                )
            )
            post.misses = 0
            if post.last_observed_at is None or observed_at >= post.last_observed_at:
                post.last_observed_at = observed_at
                for name, value in columns.items():
                    setattr(post, name, value)
        post.next_snapshot_at = next_snapshot_at(post.published_at, after=run.now, max_age=max_age)
        if post.next_snapshot_at is None:
            post.plan = SnapshotPlan.FINISHED
    if rows:
        # A moment already stored (a re-sent answer) keeps its figures and is not counted.
        counted = measure_store(run.db).write_snapshots(rows, replace=False)
        for post in batch:
            if post.id in counted:
                post.snapshot_count += 1
        run.report.snapshots += len(counted)
    run.db.commit()
