"""The sandbox's growth model: figures that grow as real ones do, the same for the same seed."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from guanxi.sandbox import metrics_model as model
from guanxi.sandbox.clock import SandboxClock

# 20:00 in Beijing on a Wednesday: an evening post.
EVENING = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
FOLLOWERS = 50_000


def figures_at(platform: str, post_id: str, hours: float, *, seed: int = 7) -> dict[str, int]:
    """A post's figures ``hours`` after it went out in the evening."""
    return model.post_figures(
        model.PROFILES[platform],
        seed,
        post_id,
        published_at=EVENING,
        at=EVENING + timedelta(hours=hours),
        followers=FOLLOWERS,
    )


@pytest.mark.parametrize("platform", sorted(model.PROFILES))
def test_every_cumulative_figure_only_grows(platform: str) -> None:
    """Given a post, when it is observed later and later, then no figure ever goes down."""
    for post_id in ("a", "b", "c", "4812345678901234"):
        before = figures_at(platform, post_id, 0)
        for hours in (0.5, 1, 2, 6, 12, 24, 48, 72, 168, 720, 8760):
            now = figures_at(platform, post_id, hours)
            assert set(now) == set(before)
            assert all(now[name] >= before[name] for name in now), (post_id, hours)
            before = now


@pytest.mark.parametrize("platform", sorted(model.PROFILES))
def test_views_rise_fast_then_decay(platform: str) -> None:
    """Each hour brings fewer views than the one before; most arrive within a few τ."""
    profile = model.PROFILES[platform]
    gains = [
        figures_at(platform, "post", hours + 1)["views"]
        - figures_at(platform, "post", hours)["views"]
        for hours in range(24)
    ]
    assert all(later <= earlier for earlier, later in itertools.pairwise(gains))
    assert gains[0] > gains[-1]
    total = model.post_total_views(profile, 7, "post", EVENING, FOLLOWERS)
    # 1 − exp(−t/τ): 63% at τ, 95% at 3τ.
    at_tau = figures_at(platform, "post", profile.tau_hours)["views"]
    assert at_tau == pytest.approx(0.632 * total, rel=0.01, abs=1)
    assert figures_at(platform, "post", 3 * profile.tau_hours)["views"] >= 0.94 * total


def test_nothing_before_publishing() -> None:
    """Given a post not yet out, then it has no views and no engagement."""
    assert set(figures_at("weibo", "post", -1).values()) == {0}
    assert model.risen(timedelta(0), 3.0) == 0.0


def test_the_same_seed_gives_the_same_numbers() -> None:
    """Same seed and post: the same figures; another seed or post: others."""
    assert figures_at("douyin", "x", 30, seed=3) == figures_at("douyin", "x", 30, seed=3)
    assert figures_at("douyin", "x", 30, seed=3) != figures_at("douyin", "x", 30, seed=4)
    assert figures_at("douyin", "x", 30, seed=3) != figures_at("douyin", "y", 30, seed=3)
    profile = model.PROFILES["wechat"]
    day = date(2026, 10, 1)
    assert model.follower_history(profile, 1, "acct", day) == model.follower_history(
        profile, 1, "acct", day
    )
    assert model.follower_day(profile, 1, "acct", day) != model.follower_day(
        profile, 2, "acct", day
    )


def test_the_hour_and_weekday_of_publishing_weigh_on_the_total() -> None:
    """The same post does better at 20:00 than at 04:00 (Beijing), on Saturday than Monday."""
    profile = model.PROFILES["weibo"]
    evening = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)  # 20:00 Beijing
    night = datetime(2026, 11, 10, 20, 0, tzinfo=UTC)  # 04:00 Beijing, the same Wednesday
    ratio = model.post_total_views(profile, 0, "p", evening, FOLLOWERS) / model.post_total_views(
        profile, 0, "p", night, FOLLOWERS
    )
    assert ratio == pytest.approx(model.HOUR_EFFECT[20] / model.HOUR_EFFECT[4])
    assert ratio > 5
    saturday = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    assert model.timing_effect(saturday) > model.timing_effect(monday)


def test_platforms_differ() -> None:
    """A Douyin video is played far more than a Weibo post is read; each platform reports
    its own engagements (在看 only on WeChat)."""
    plays = sum(figures_at("douyin", f"p{n}", 72)["views"] for n in range(50))
    reads = sum(figures_at("weibo", f"p{n}", 72)["views"] for n in range(50))
    assert plays > 10 * reads
    assert "wows" in figures_at("wechat", "p", 72)
    assert "wows" not in figures_at("weibo", "p", 72)


def test_engagements_are_fractions_of_views() -> None:
    """Likes are about the platform's rate of views, over many posts."""
    profile = model.PROFILES["douyin"]
    posts = [figures_at("douyin", f"p{n}", 200) for n in range(300)]
    rate = sum(p["likes"] for p in posts) / sum(p["views"] for p in posts)
    assert rate == pytest.approx(dict(profile.rates)["likes"], rel=0.25)
    assert all(p["likes"] <= p["views"] for p in posts)


def test_followers_grow_with_a_little_churn() -> None:
    """Over two years followers grow; most days some leave; each day adds up."""
    profile = model.PROFILES["weibo"]
    born = model.birth_day(0, "weibo", "brand")
    assert model.HISTORY_FROM <= born <= model.HISTORY_FROM + timedelta(days=90)
    history = model.follower_history(profile, 0, "brand", born + timedelta(days=730))
    assert len(history) == 731
    assert history[0].followers == profile.initial_followers
    assert history[-1].followers > 1.5 * history[0].followers
    assert sum(1 for day in history[1:] if day.lost > 0) > 0.8 * 730
    for before, after in itertools.pairwise(history):
        assert after.followers == before.followers + after.new - after.lost
        assert after.day == before.day + timedelta(days=1)
    weekends = [d.new for d in history if d.day.weekday() >= 5]
    weekdays = [d.new for d in history if d.day.weekday() < 5]
    assert sum(weekends) / len(weekends) > sum(weekdays) / len(weekdays)
    assert model.follower_day(profile, 0, "brand", born - timedelta(days=1)) is None
    assert model.follower_day(profile, 0, "brand", born + timedelta(days=10)) == history[10]


def test_split_adds_up() -> None:
    """A total shared among sources adds up exactly, and follows the shares roughly."""
    shares = [("search", 0.5), ("qr", 0.3), ("other", 0.2)]
    for total in (0, 1, 7, 1000):
        parts = model.split(total, shares, 0, "day", total)
        assert sum(parts.values()) == total
        assert set(parts) == {"search", "qr", "other"}
    big = model.split(100_000, shares, 0, "big")
    assert big["search"] == max(big.values())
    for name, share in shares:
        assert share / 2 < big[name] / 100_000 < share * 2


def test_publish_times_of_older_posts() -> None:
    """About ``per_week`` posts a week, in busy hours, all before ``until``, reproducible."""
    until = datetime(2026, 12, 1, tzinfo=UTC)
    times = model.publish_times(0, "acct", until=until, days=140, per_week=5)
    assert times == model.publish_times(0, "acct", until=until, days=140, per_week=5)
    assert times == sorted(times)
    assert 80 <= len(times) <= 120
    assert all(t < until for t in times)
    assert {t.astimezone(model.BEIJING).hour for t in times} <= set(model.BUSY_HOURS)


def test_the_clock_can_be_fixed_moved_and_reset() -> None:
    """Tests say what "now" is: a fixed moment, or the real time moved."""
    clock = SandboxClock()
    moment = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    clock.set(now=moment)
    assert clock.now() == moment
    clock.set(offset=timedelta(days=3))
    assert clock.now() - datetime.now(UTC) > timedelta(days=2, hours=23)
    clock.reset()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(ValueError, match="aware"):
        clock.set(now=datetime(2026, 1, 1))  # naive: refused
