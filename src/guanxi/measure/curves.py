"""A post's figures over its life, against its account's usual post.

A post's curve is its snapshots: lifetime views and engagements at so many hours after
publishing. The account's median curve, at the same ages, is the median of its other posts'
figures at those ages, each read off that post's own snapshots by linear interpolation
between the two around the age (never beyond the last one: a post not yet that old, or not
measured since, has no figure there and is left out of that age's median).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.core.errors import N_, NotFoundError
from guanxi.measure.definitions import engagements
from guanxi.measure.models import MeasuredPost
from guanxi.measure.retention import KIND as RETAINED_SNAPSHOTS
from guanxi.measure.store import measure_store
from guanxi.measure.store.base import SnapshotFact
from guanxi.retention.service import detail_kept_from

MEDIAN_POSTS = 60  # the account's most recent posts the median curve is made of


@dataclass(frozen=True)
class CurvePoint:
    """A post's lifetime figures at ``hours`` after publishing (None: not reported)."""

    hours: float
    observed_at: datetime
    views: int | None
    engagements: int | None


@dataclass(frozen=True)
class MedianPoint:
    """The account's other posts at one age: the median of their figures, and how many
    posts each median is of."""

    hours: float
    views: float | None
    views_posts: int
    engagements: float | None
    engagements_posts: int


@dataclass(frozen=True)
class PostCurve:
    """A post, its channel, its curve and the account's median curve at the same ages."""

    post: MeasuredPost
    channel: Channel
    points: list[CurvePoint]
    median: list[MedianPoint]
    compared_posts: int  # the other posts the median is made of
    # Snapshots before this moment were deleted by the workspace's retention (None: none).
    detail_kept_from: datetime | None = None


def _hours(post: MeasuredPost, snapshot: SnapshotFact) -> float:
    moment = snapshot.as_of or snapshot.observed_at
    return max(0.0, (moment - post.published_at).total_seconds() / 3600)


def _points(post: MeasuredPost, snapshots: Sequence[SnapshotFact]) -> list[CurvePoint]:
    points = [
        CurvePoint(_hours(post, s), s.observed_at, s.value(Metric.VIEWS), engagements(_reported(s)))
        for s in snapshots
    ]
    return sorted(points, key=lambda p: p.hours)


def _reported(snapshot: SnapshotFact) -> dict[Metric, int]:
    found = {metric: snapshot.value(metric) for metric in Metric}
    return {metric: value for metric, value in found.items() if value is not None}


def _at(ages: list[float], values: list[int | None], hours: float) -> float | None:
    """A curve's value at ``hours``, interpolated between the snapshots around it; None
    before the first or after the last, or where one of the two reports nothing."""
    if not ages or hours > ages[-1] or hours < ages[0]:
        return None
    position = bisect_left(ages, hours)
    if ages[position] == hours:
        exact = values[position]
        return None if exact is None else float(exact)
    low, high = values[position - 1], values[position]
    if low is None or high is None:
        return None
    share = (hours - ages[position - 1]) / (ages[position] - ages[position - 1])
    return low + (high - low) * share


def post_curve(db: Session, *, workspace: Workspace, post_id: int) -> PostCurve:
    """The post's curve and its account's median curve; a NotFoundError for another
    workspace's post or none."""
    post = db.get(MeasuredPost, post_id)
    if post is None or post.workspace_id != workspace.id:
        raise NotFoundError(N_("No such measured post in this workspace."))
    channel = db.get(Channel, post.channel_id)
    if channel is None:  # a post's channel goes with it (ON DELETE CASCADE)
        raise NotFoundError(N_("No such measured post in this workspace."))
    store = measure_store(db)
    points = _points(post, store.snapshots(workspace.id, [post.id]).get(post.id, []))
    others = db.scalars(
        select(MeasuredPost)
        .where(
            MeasuredPost.channel_id == post.channel_id,
            MeasuredPost.id != post.id,
            MeasuredPost.snapshot_count > 0,
        )
        .order_by(MeasuredPost.published_at.desc())
        .limit(MEDIAN_POSTS)
    ).all()
    snapshots = store.snapshots(workspace.id, [other.id for other in others])
    curves = []
    for other in others:
        other_points = _points(other, snapshots.get(other.id, []))
        if other_points:
            curves.append(
                (
                    [p.hours for p in other_points],
                    [p.views for p in other_points],
                    [p.engagements for p in other_points],
                )
            )
    medians = []
    for point in points:
        views = [v for a, vs, _ in curves if (v := _at(a, vs, point.hours)) is not None]
        engaged = [v for a, _, es in curves if (v := _at(a, es, point.hours)) is not None]
        medians.append(
            MedianPoint(
                point.hours,
                median(views) if views else None,
                len(views),
                median(engaged) if engaged else None,
                len(engaged),
            )
        )
    kept_from = detail_kept_from(db, workspace_id=workspace.id, kind=RETAINED_SNAPSHOTS)
    return PostCurve(post, channel, points, medians, len(curves), kept_from)
