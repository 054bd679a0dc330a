"""The analysis statistics on synthetic posts: a planted best time is found, none is claimed
where there is none, a confounded format is not taken for a time, and the intervals cover
the truth about as often as they say."""

from __future__ import annotations

import math
import random

from guanxi.measure.analysis.stats import (
    HOURS_OF_WEEK,
    MIN_MODEL_POSTS,
    Moments,
    Observation,
    fit_best_time,
    mean_interval,
    median_lift,
    moments_interval,
)

TUESDAY_20 = 1 * 24 + 20
FRIDAY_12 = 4 * 24 + 12
# The slots a brand posts at: 8:00, 12:00, 18:00 and 20:00, every day.
USUAL_SLOTS = [day * 24 + hour for day in range(7) for hour in (8, 12, 18, 20)]


def synthetic_posts(
    seed: int,
    *,
    count: int = 500,
    planted: dict[int, float] | None = None,
    video_slot: int | None = None,
) -> list[Observation]:
    """Posts at the usual slots with a lognormal rate around 3%; ``planted`` multiplies a
    slot's rate; the rate falls a little as followers grow; videos do 30% better, and when
    ``video_slot`` is given most of that slot's posts are videos."""
    rng = random.Random(seed)
    posts = []
    for index in range(count):
        slot = rng.choice(USUAL_SLOTS)
        followers = 10_000 + 40 * index
        is_video = rng.random() < (0.8 if slot == video_slot else 0.15)
        log_rate = math.log(0.03) + rng.gauss(0, 0.35) - 0.3 * math.log(followers / 10_000)
        log_rate += math.log(1.3) if is_video else 0.0
        log_rate += math.log((planted or {}).get(slot, 1.0))
        fmt = "video" if is_video else rng.choice(["image", "text"])
        posts.append(Observation(slot, math.exp(log_rate), fmt, followers))
    return posts


def test_a_planted_best_time_is_found() -> None:
    """Given posts whose Tuesday 20:00 does 50% better, When the model is fitted, Then that
    slot is the first suggestion, its interval covers +50%, and no other slot is claimed."""
    for seed in (2000, 2001, 2002):
        found = fit_best_time(synthetic_posts(seed, count=800, planted={TUESDAY_20: 1.5}))
        assert found.enough
        assert len(found.slots) == HOURS_OF_WEEK
        assert [s.slot for s in found.suggestions] == [TUESDAY_20]
        best = found.suggestions[0]
        assert best.weekday == 1
        assert best.hour == 20
        assert best.low is not None
        assert best.high is not None
        assert best.low < 0.5 < best.high
        assert set(found.adjusted_for) == {"format", "followers"}


def test_with_no_effect_no_slot_is_claimed() -> None:
    """Given posts whose time makes no difference, When fitted on ten samples, Then no
    slot is suggested in any, and most slots' intervals cover zero."""
    for seed in range(10):
        found = fit_best_time(synthetic_posts(100 + seed))
        assert found.suggestions == []
        known = [s for s in found.slots if s.effect is not None]
        covering = [s for s in known if s.low is not None and s.low <= 0 <= (s.high or 0)]
        assert len(covering) >= 0.85 * len(known)


def test_a_format_posted_at_one_time_is_not_taken_for_that_time() -> None:
    """Given videos (30% better) posted mostly on Fridays at 12:00 and no effect of time,
    When fitted with the format known, Then Friday 12:00 is not called better."""
    found = fit_best_time(synthetic_posts(7, video_slot=FRIDAY_12))
    assert FRIDAY_12 not in [s.slot for s in found.suggestions]


def test_slots_with_too_few_posts_are_marked_not_estimated() -> None:
    """A slot with fewer than three posts has its count and no effect."""
    posts = synthetic_posts(3)
    posts += [Observation(3 * 24 + 3, 0.2, "image", 20_000)]  # Thursday 03:00, once
    found = fit_best_time(posts)
    thursday_3 = found.slots[3 * 24 + 3]
    assert thursday_3.posts == 1
    assert thursday_3.effect is None
    assert not thursday_3.better
    assert found.slots[0].posts == 0
    assert found.slots[0].effect is None


def test_too_little_history_says_how_much_is_needed() -> None:
    found = fit_best_time(synthetic_posts(4, count=MIN_MODEL_POSTS - 1))
    assert not found.enough
    assert found.posts == MIN_MODEL_POSTS - 1
    assert found.needed == MIN_MODEL_POSTS
    assert found.slots == []
    assert found.suggestions == []


def test_mean_intervals_cover_the_true_mean_about_95_percent_of_the_time() -> None:
    """Normal samples of 10 and skewed (lognormal, like views) samples of 40."""
    rng = random.Random(11)
    normal = sum(
        mean_interval([rng.gauss(5, 2) for _ in range(10)]).covers(5.0) for _ in range(2000)
    )
    assert 0.93 <= normal / 2000 <= 0.97
    true_mean = math.exp(0.5 * 0.5**2)
    skewed = sum(
        mean_interval([rng.lognormvariate(0, 0.5) for _ in range(40)]).covers(true_mean)
        for _ in range(2000)
    )
    assert 0.91 <= skewed / 2000 <= 0.97


def test_a_small_group_has_a_mean_but_no_interval() -> None:
    small = mean_interval([0.01, 0.02, 0.03])
    assert small.count == 3
    assert small.mean is not None
    assert abs(small.mean - 0.02) < 1e-12
    assert small.low is None
    assert small.covers(0.5)
    assert mean_interval([]).mean is None
    floored = mean_interval([0.0, 0.0, 0.0, 0.0, 0.01, 0.2], floor=0.0)
    assert floored.low == 0.0


def test_an_interval_from_sums_is_the_interval_of_the_values() -> None:
    """The database counts sums; their interval is the values' own, for a group added up
    from parts, one left after taking a part away, equal values and too few values."""
    rng = random.Random(3)
    values = [rng.lognormvariate(-4, 1) for _ in range(300)]
    first, rest = Moments.of(values[:100]), Moments.of(values[100:])
    cases = [
        (Moments.merged([first, rest]), values),
        (Moments.of(values) - first, values[100:]),
        (first + rest, values),
        (Moments.of([0.02] * 8), [0.02] * 8),
        (Moments.of([0.01, 0.03]), [0.01, 0.03]),
        (Moments.of([]), []),
    ]
    for moments, expected in cases:
        found, reference = moments_interval(moments, floor=0.0), mean_interval(expected, floor=0.0)
        assert found.count == reference.count
        for mine, theirs in (
            (found.mean, reference.mean),
            (found.low, reference.low),
            (found.high, reference.high),
        ):
            assert (mine is None and theirs is None) or math.isclose(
                mine or 0.0, theirs or 0.0, rel_tol=1e-9, abs_tol=1e-12
            )
    assert Moments.of([1.0]) - Moments.of([1.0]) == Moments()


def test_a_real_lift_is_clear_and_none_is_not() -> None:
    """A group drawn at twice the baseline shows a clear lift near +100%; one drawn from the
    baseline's own distribution usually does not (about 5% of samples may)."""
    rng = random.Random(21)
    baseline = [rng.lognormvariate(math.log(1000), 0.5) for _ in range(60)]
    doubled = [rng.lognormvariate(math.log(2000), 0.5) for _ in range(20)]
    found = median_lift(doubled, baseline)
    assert found.clear
    assert found.low is not None
    assert found.high is not None
    assert found.low < 1.0 < found.high
    claimed = sum(
        median_lift(
            [rng.lognormvariate(math.log(1000), 0.5) for _ in range(20)], baseline, seed=seed
        ).clear
        for seed in range(100)
    )
    assert claimed <= 12  # the baseline is itself a sample: a little above the nominal 5%
    few = median_lift([1.0, 2.0], baseline)
    assert few.lift is not None
    assert few.low is None
    assert not few.clear
