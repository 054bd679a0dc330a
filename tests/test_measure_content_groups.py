"""The content analysis counted by the database gives the figures of building every post
and grouping them in Python (the implementation it replaced, kept here as the reference),
on a generated workspace with the edge cases: posts without views (rated per follower on
their day, the account's count missing some days and zero on one), with zero views, with no
engagement figure, without a format, with padded and hashtagged texts at the length
buckets' edges, tagged through guanxi's posts (one post behind two measured ones, one whose
variant was deleted), several snapshots a day, a zone that changes to summer time
within the period, and posts of another workspace and outside the period."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.channels.models import Channel
from guanxi.measure.analysis import service
from guanxi.measure.analysis.models import ContentAnalysisRead, EstimateRead, GroupRead
from guanxi.measure.analysis.stats import mean_interval
from guanxi.measure.listing import post_figures
from guanxi.measure.models import (
    POST_FORMAT_LABELS,
    AccountDay,
    FoundBy,
    MeasuredPost,
    PostFiguresRead,
    PostFormat,
    PostSnapshot,
)
from guanxi.measure.rated import zone_offsets
from guanxi.publishing.models import Post, PostTag, Variant, VariantState
from tests.conftest import UserFactory, WorkspaceFactory

MARCH = date(2026, 3, 1)
END = date(2026, 3, 31)
PARIS = "Europe/Paris"  # summer time from 2026-03-29 01:00 UTC
TEXTS = (
    "",
    "   ",
    "新品上市",
    "\u3000#新品# 上市\n",
    "#lipstick and #口红 #新品#",
    "no hashtag, just a # sign",
    "\n",
    "x" * 49,
    "\t" + "x" * 49 + " ",
    "y" * 50,
    "z" * 139 + "\u3000",
    "w" * 140 + "\t",
    "#秋冬# " + "v" * 275,
)
TAGS = (["新品"], ["新品", "节日"], ["教程"], [])


# --- The reference: every post built, grouped in Python ----------------------------------


def reference_group(
    key: str, label: str, posts: Sequence[PostFiguresRead], average: float | None
) -> tuple[str, str, int, EstimateRead, EstimateRead, EstimateRead, bool]:
    rate = mean_interval(
        [p.engagement_rate for p in posts if p.engagement_rate is not None], floor=0.0
    )
    views = mean_interval([float(p.views) for p in posts if p.views is not None], floor=0.0)
    engaged = mean_interval(
        [float(p.engagements) for p in posts if p.engagements is not None], floor=0.0
    )
    return (
        key,
        label,
        len(posts),
        *(
            EstimateRead(count=e.count, mean=e.mean, low=e.low, high=e.high)
            for e in (rate, views, engaged)
        ),
        not rate.covers(average),
    )


def most_used(keys: list[list[str]], limit: int) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for found in keys:
        for key in found:
            counts[key] += 1
    return sorted(counts, key=lambda k: (-counts[k], k))[:limit]


def reference_analysis(
    db: Session, workspace: Workspace, channel_ids: list[int] | None
) -> dict[str, list[tuple[object, ...]]]:
    posts = post_figures(db, workspace=workspace, start=MARCH, end=END, channel_ids=channel_ids)
    overall = reference_group("all", "All posts", posts, None)
    average = overall[3].mean
    zone = ZoneInfo(workspace.timezone)
    local = {p.post_id: p.published_at.astimezone(zone) for p in posts}
    tags = {p.post_id: service.hashtags(p.text) for p in posts}

    def length(post: PostFiguresRead) -> list[str]:
        size = len(post.text.strip())
        return [next(key for limit, key, _ in service.LENGTH_BUCKETS if size < limit)]

    formats = {fmt.value: label for fmt, label in POST_FORMAT_LABELS.items()}
    formats["unknown"] = "Format not known"
    top_tags = most_used([p.tags for p in posts], service.TOP_TAGS)
    groupings: list[tuple[str, Callable[[PostFiguresRead], list[str]], dict[str, str]]] = [
        ("format", lambda p: [p.format.value if p.format else "unknown"], formats),
        ("length", length, {key: label for _, key, label in service.LENGTH_BUCKETS}),
        (
            "hashtag_use",
            lambda p: ["with" if tags[p.post_id] else "without"],
            {"with": "With hashtags", "without": "Without hashtags"},
        ),
        (
            "hashtags",
            lambda p: sorted(tags[p.post_id]),
            {t: t for t in most_used([sorted(t) for t in tags.values()], service.TOP_HASHTAGS)},
        ),
        ("tags", lambda p: p.tags or [""], {**{t: t for t in top_tags}, "": "No tag"}),
        (
            "hour",
            lambda p: [f"{local[p.post_id].hour:02d}"],
            {f"{h:02d}": f"{h:02d}:00" for h in range(24)},
        ),
        (
            "weekday",
            lambda p: [str(local[p.post_id].weekday())],
            {str(d): label for d, label in enumerate(service.WEEKDAY_LABELS)},
        ),
    ]
    found: dict[str, list[tuple[object, ...]]] = {"all": [overall]}
    for key, keys, labels in groupings:
        members: dict[str, list[PostFiguresRead]] = defaultdict(list)
        for post in posts:
            for group in keys(post):
                members[group].append(post)
        found[key] = [
            reference_group(group, labels[group], members[group], average)
            for group in labels
            if members.get(group)
        ]
    bases = {p.engagement_rate_basis for p in posts if p.engagement_rate_basis}
    rated = len([p for p in posts if p.engagement_rate is not None])
    found["summary"] = [(rated, len(bases) > 1)]
    return found


def as_compared(analysis: ContentAnalysisRead) -> dict[str, list[tuple[object, ...]]]:
    def row(group: GroupRead) -> tuple[object, ...]:
        return (
            group.key,
            group.label,
            group.posts,
            group.engagement_rate,
            group.views,
            group.engagements,
            group.differs,
        )

    found = {g.key: [row(group) for group in g.groups] for g in analysis.groupings}
    found["all"] = [row(analysis.overall)]
    found["summary"] = [(analysis.posts, analysis.mixed_bases)]
    return found


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def assert_same(
    found: dict[str, list[tuple[object, ...]]], expected: dict[str, list[tuple[object, ...]]]
) -> None:
    assert list(found) == list(expected) or set(found) == set(expected)
    for key, groups in expected.items():
        assert [g[:3] for g in found[key]] == [g[:3] for g in groups], key
        for mine, theirs in zip(found[key], groups, strict=True):
            assert mine[-1] == theirs[-1], (key, mine[0])
            for estimate, reference in zip(mine[3:6], theirs[3:6], strict=True):
                assert isinstance(estimate, EstimateRead)
                assert isinstance(reference, EstimateRead)
                assert estimate.count == reference.count, (key, mine[0])
                for field in ("mean", "low", "high"):
                    assert close(getattr(estimate, field), getattr(reference, field)), (
                        key,
                        mine[0],
                        field,
                    )


# --- The generated workspace -------------------------------------------------------------


@pytest.fixture
def owner(make_user: UserFactory) -> User:
    return make_user("owner@brand.example")


def channel_of(db: Session, workspace: Workspace, name: str, platform: str) -> Channel:
    channel = Channel(
        workspace_id=workspace.id,
        connector="manual",
        platform=platform,
        external_id=name,
        name=name,
    )
    db.add(channel)
    db.flush()
    return channel


def generate(db: Session, workspace: Workspace, other: Workspace) -> list[Channel]:
    rng = random.Random(14)
    viewed = channel_of(db, workspace, "weibo", "weibo")
    unviewed = channel_of(db, workspace, "wechat", "wechat")
    foreign = channel_of(db, other, "theirs", "weibo")
    for offset in range(-40, 31):
        if offset % 7 == 3:
            continue  # a day the account's figures were not collected
        followers = 0 if offset == 10 else 5_000 + 20 * offset
        db.add(
            AccountDay(
                channel_id=unviewed.id, day=MARCH + timedelta(days=offset), followers=followers
            )
        )
    start = datetime(2026, 2, 28, 20, tzinfo=UTC)  # some before the period in Paris
    number = 0
    for channel in (viewed, unviewed, foreign):
        for _ in range(90):
            number += 1
            published = start + timedelta(minutes=rng.randrange(33 * 24 * 60))
            views: int | None = None if channel is unviewed else rng.choice([0, *range(50, 5000)])
            likes = None if number % 17 == 0 else rng.randrange(0, 200)
            variant_id = None
            post_tags = TAGS[number % len(TAGS)]
            if post_tags or number % 11 == 0:
                post = Post(workspace_id=channel.workspace_id, title=f"p{number}")
                post.tag_rows = [
                    PostTag(workspace_id=channel.workspace_id, tag=t) for t in post_tags
                ]
                for copy in range(2 if number % 13 == 0 else 1):
                    post.variants.append(
                        Variant(
                            workspace_id=channel.workspace_id,
                            channel_id=channel.id,
                            state=VariantState.PUBLISHED,
                            idempotency_key=f"k{number}-{copy}",
                            external_id=f"t{number}-{copy}",
                        )
                    )
                db.add(post)
                db.flush()
                variant_id = post.variants[0].id
            measured = MeasuredPost(
                workspace_id=channel.workspace_id,
                channel_id=channel.id,
                external_id=f"m{number}",
                variant_id=variant_id,
                published_at=published,
                format=None if number % 9 == 0 else list(PostFormat)[number % len(PostFormat)],
                found_by=FoundBy.PUBLISHED if variant_id else FoundBy.TIMELINE,
                text_excerpt=TEXTS[number % len(TEXTS)],
                views=views,
                likes=likes,
                comments=None if likes is None else rng.randrange(0, 20),
                last_observed_at=published + timedelta(days=2),
            )
            db.add(measured)
            db.flush()
            for hours in (1, 6, 30):  # two snapshots on the first day
                db.add(
                    PostSnapshot(
                        post_id=measured.id,
                        observed_at=published + timedelta(hours=hours),
                        views=views,
                        likes=likes,
                    )
                )
            if number % 13 == 0 and variant_id is not None:
                # The second copy is measured too: the same post's tags count for both.
                db.add(
                    MeasuredPost(
                        workspace_id=channel.workspace_id,
                        channel_id=channel.id,
                        external_id=f"m{number}-copy",
                        variant_id=post.variants[1].id,
                        published_at=published + timedelta(minutes=5),
                        format=PostFormat.VIDEO,
                        found_by=FoundBy.PUBLISHED,
                        text_excerpt="#新品#",
                        views=views,
                        likes=likes,
                        last_observed_at=published + timedelta(days=2),
                    )
                )
            if number % 23 == 0 and variant_id is not None:
                db.delete(post.variants[0])  # deleted: the measured post stays, untagged
    db.flush()
    db.expire_all()
    return [viewed, unviewed]


def test_the_database_groups_as_building_every_post_did(
    db: Session, make_workspace: WorkspaceFactory, owner: User
) -> None:
    workspace = make_workspace("brand", owner=owner)
    workspace.timezone = PARIS
    other = make_workspace("other", owner=owner)
    viewed, _unviewed = generate(db, workspace, other)

    found = service.content_analysis(db, workspace=workspace, start=MARCH, end=END)
    expected = reference_analysis(db, workspace, None)
    assert found.mixed_bases
    assert {g.key for g in found.groupings if g.groups} == {
        "format",
        "length",
        "hashtag_use",
        "hashtags",
        "tags",
        "hour",
        "weekday",
    }
    assert_same(as_compared(found), expected)

    one = service.content_analysis(
        db, workspace=workspace, start=MARCH, end=END, channel_ids=[viewed.id]
    )
    assert_same(as_compared(one), reference_analysis(db, workspace, [viewed.id]))


def test_a_zones_offsets_over_a_period_change_to_the_second() -> None:
    """Paris goes to summer time at 01:00 UTC on 2026-03-29; Shanghai keeps +8."""
    begins, ends = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert zone_offsets(ZoneInfo(PARIS), begins, ends) == [
        (begins, 3600),
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 7200),
    ]
    assert zone_offsets(ZoneInfo("Asia/Shanghai"), begins, ends) == [(begins, 28800)]
