"""The planner's scoring, component by component, on small hand-built catalogs.

These tests do not read the catalog's data files: each builds the platforms it needs, so a
change of data cannot hide a change of method.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest

from guanxi.catalog.models import (
    Access,
    ApiLevel,
    Apis,
    Audience,
    Catalog,
    Device,
    Education,
    Goal,
    Metric,
    Origin,
    Platform,
    PlatformKind,
    PlatformStatus,
    Reach,
    Region,
    Source,
    StatusChange,
    UserFigure,
)
from guanxi.planner import scoring
from guanxi.planner.brief import Brief
from guanxi.planner.explain import Explanation
from guanxi.planner.scoring import Gate, Recommendation, rank_platforms

ON = date(2024, 1, 1)

AUDIENCE = Audience(
    age_min=18,
    age_max=35,
    education=[Education.UNIVERSITY],
    city_tiers=[1, 2],
    devices=[Device.MOBILE],
    note_en="A test profile.",
    note_zh="测试画像。",
)


def make_platform(slug: str = "alpha", **overrides: Any) -> Platform:
    """A valid, active, Chinese platform open everywhere; ``overrides`` change any field."""
    fields: dict[str, Any] = {
        "slug": slug,
        "name_en": slug.title(),
        "name_zh": f"{slug}中文",
        "owner": "Test Owner",
        "launched": 2009,
        "kind": PlatformKind.MICROBLOG,
        "status": PlatformStatus.ACTIVE,
        "origin": Origin.CHINA,
        "summary_en": "A test platform.",
        "summary_zh": "测试平台。",
        "goals": [Goal.AWARENESS],
        "audience": AUDIENCE,
        "reach": [Reach(region=region, access=Access.OPEN) for region in Region],
        "apis": Apis(publish=ApiLevel.OFFICIAL),
        "figures": [],
    }
    fields.update(overrides)
    return Platform(**fields)


def figure(value: int, as_of: date = date(2023, 6, 30), **overrides: Any) -> UserFigure:
    """A user figure citing the test source."""
    fields: dict[str, Any] = {
        "metric": Metric.MONTHLY_ACTIVE_USERS,
        "value": value,
        "as_of": as_of,
        "source": "test",
    }
    fields.update(overrides)
    return UserFigure(**fields)


def make_catalog(*platforms: Platform) -> Catalog:
    """A catalog of ``platforms`` with the one source they cite."""
    return Catalog(
        version="test",
        platforms=list(platforms),
        sources={"test": Source(id="test", title="Test source", publisher="tests")},
    )


def make_brief(**overrides: Any) -> Brief:
    """A mainland brief for ages 18-30 and awareness; ``overrides`` change any field."""
    fields: dict[str, Any] = {"age_min": 18, "age_max": 30, "region": "mainland"}
    fields["goals"] = ["awareness"]
    fields.update(overrides)
    return Brief.model_validate(fields)


def score(brief: Brief, platform: Platform, on: date = ON) -> Recommendation:
    """The one recommendation for ``platform``."""
    return scoring.score_platform(brief, platform, catalog=make_catalog(platform), on=on)


def ids(explanations: list[Explanation]) -> list[str]:
    return [e.id for e in explanations]


def reason(recommendation: Recommendation, id_: str) -> Explanation:
    return next(r for r in recommendation.reasons if r.id == id_)


# --- audience -----------------------------------------------------------------------


def test_age_overlap_is_the_share_of_the_briefs_years_the_platform_covers() -> None:
    """Given a platform for 18-35 and a brief for 18-30, all 13 years are covered; for a
    platform of 18-24 only 7 of them are."""
    full = score(make_brief(), make_platform())
    part = score(make_brief(), make_platform(audience=AUDIENCE.model_copy(update={"age_max": 24})))
    none = score(make_brief(age_min=40, age_max=50), make_platform())

    assert reason(full, "age_overlap").params == {
        "platform_min": 18,
        "platform_max": 35,
        "brief_min": 18,
        "brief_max": 30,
        "percent": 100,
    }
    assert full.components.audience == 1.0
    assert part.components.audience == pytest.approx(7 / 13)
    assert reason(part, "age_overlap").params["percent"] == 54
    assert none.components.audience == 0.0


def test_a_platform_without_audience_profile_counts_as_unknown_and_says_so() -> None:
    result = score(make_brief(education="university", city_tiers=[1]), make_platform(audience=None))

    assert result.components.audience == scoring.UNKNOWN_FACTOR
    assert {"age_unknown", "education_unknown", "tiers_unknown"} <= set(ids(result.reasons))


@pytest.mark.parametrize(
    ("wanted", "offered", "expected", "reason_id"),
    [
        ("university", [Education.UNIVERSITY], 1.0, "education_match"),
        (
            "postgraduate",
            [Education.UNIVERSITY],
            scoring.EDUCATION_ADJACENT_CREDIT,
            "education_near",
        ),
        ("secondary", [Education.POSTGRADUATE], 0.0, "education_miss"),
        ("secondary", [], scoring.UNKNOWN_FACTOR, "education_unknown"),
    ],
)
def test_education_matches_is_next_to_or_misses(
    wanted: str, offered: list[Education], expected: float, reason_id: str
) -> None:
    """The audience fit averages age and education here (both asked), age being a full match."""
    platform = make_platform(audience=AUDIENCE.model_copy(update={"education": offered}))

    result = score(make_brief(education=wanted), platform)

    assert result.components.audience == pytest.approx((1.0 + expected) / 2)
    assert reason_id in ids(result.reasons)


def test_city_tiers_and_devices_count_the_share_matched() -> None:
    """Given tiers 1 and 3 asked and a platform in tiers 1-2, half match; one device of two."""
    result = score(make_brief(city_tiers=[1, 3], devices=["mobile", "desktop"]), make_platform())

    tiers = reason(result, "tiers")
    devices = reason(result, "devices")
    assert tiers.params["matched_tiers"] == ["1"]
    assert tiers.params["percent"] == 50
    assert devices.params["matched_devices"] == ["mobile"]
    assert result.components.audience == pytest.approx((1.0 + 0.5 + 0.5) / 3)


def test_criteria_the_brief_leaves_open_do_not_count() -> None:
    """Given a brief without education, tiers or devices, only age makes the audience fit."""
    platform = make_platform(audience=AUDIENCE.model_copy(update={"education": []}))

    result = score(make_brief(), platform)

    assert result.components.audience == 1.0
    assert not [i for i in ids(result.reasons) if i.startswith(("education", "tiers", "devices"))]


# --- goals, reach, API ----------------------------------------------------------------


def test_goal_fit_is_the_share_of_goals_served() -> None:
    platform = make_platform(goals=[Goal.AWARENESS, Goal.ENGAGEMENT])

    half = score(make_brief(goals=["awareness", "sales"]), platform)
    none = score(make_brief(goals=["video"]), platform)
    unknown = score(make_brief(), make_platform(goals=[]))

    assert half.components.goals == 0.5
    assert reason(half, "goals").params["matched_goals"] == ["awareness"]
    assert none.components.goals == 0.0
    assert "goals_none" in ids(none.reasons)
    assert unknown.components.goals == scoring.UNKNOWN_FACTOR


@pytest.mark.parametrize(
    ("value", "metric", "expected"),
    [
        (1_000_000_000, Metric.REGISTERED_ACCOUNTS, 1.0),
        (5_000_000_000, Metric.MONTHLY_ACTIVE_USERS, 1.0),
        (1_000_000, Metric.REGISTERED_ACCOUNTS, 0.0),
        (500_000, Metric.REGISTERED_ACCOUNTS, 0.0),
        (31_622_777, Metric.REGISTERED_ACCOUNTS, 0.5),
        # Daily counts are normalised by their own, lower full scale.
        (100_000_000, Metric.DAILY_UNIQUE_VISITORS, 1.0),
        (10_000_000, Metric.DAILY_UNIQUE_VISITORS, 0.5),
    ],
)
def test_reach_is_log_scaled_per_metric(value: int, metric: Metric, expected: float) -> None:
    assert scoring.reach_factor(figure(value, metric=metric)) == pytest.approx(expected, abs=1e-6)


def test_reach_reason_shows_the_figure_its_date_and_source() -> None:
    platform = make_platform(
        figures=[figure(500_000_000, date(2013, 6, 30), metric=Metric.REGISTERED_ACCOUNTS)]
    )

    result = score(make_brief(), platform)

    assert reason(result, "reach").params == {
        "value": 500_000_000,
        "metric": "registered_accounts",
        "as_of": "2013-06-30",
        "source": "Test source",
        "percent": 90,
    }


def test_the_newest_figure_known_on_the_plan_date_counts() -> None:
    """Given figures from 2013 and 2023, a 2014 plan uses 2013's and a 2024 plan 2023's."""
    old = figure(10_000_000, date(2013, 6, 30))
    new = figure(1_000_000_000, date(2023, 6, 30))
    platform = make_platform(figures=[old, new])

    assert scoring.pick_figure(platform, Region.MAINLAND, date(2014, 1, 1)) == old
    assert scoring.pick_figure(platform, Region.MAINLAND, ON) == new


def test_an_audience_abroad_is_measured_by_users_outside_china() -> None:
    home = figure(900_000_000)
    abroad = figure(100_000_000, metric=Metric.INTERNATIONAL_USERS)
    platform = make_platform(figures=[home, abroad])

    assert scoring.pick_figure(platform, Region.OVERSEAS, ON) == abroad
    assert scoring.pick_figure(platform, Region.MAINLAND, ON) == home


def test_a_figure_older_than_the_threshold_is_warned_about() -> None:
    platform = make_platform(figures=[figure(500_000_000, date(2013, 6, 30))])

    stale = score(make_brief(), platform, on=date(2024, 1, 1))
    fresh = score(make_brief(), platform, on=date(2014, 1, 1))

    assert "stale_figure" in ids(stale.warnings)
    assert "stale_figure" not in ids(fresh.warnings)


def test_no_figure_counts_as_unknown() -> None:
    result = score(make_brief(), make_platform(figures=[]))

    assert result.components.reach == scoring.UNKNOWN_FACTOR
    assert "reach_unknown" in ids(result.reasons)


@pytest.mark.parametrize(
    ("level", "credit", "manual"),
    [(ApiLevel.OFFICIAL, 1.0, False), (ApiLevel.LIMITED, 0.5, False), (ApiLevel.NONE, 0.0, True)],
)
def test_publishing_api_gives_a_small_credit(level: ApiLevel, credit: float, manual: bool) -> None:
    result = score(make_brief(), make_platform(apis=Apis(publish=level)))

    assert result.components.api == credit
    assert ("manual_publishing" in ids(result.warnings)) is manual


def test_the_score_is_the_documented_weighted_sum() -> None:
    """Given known components, the score is 100 × (0.35·a + 0.30·g + 0.25·r + 0.10·p)."""
    platform = make_platform(
        goals=[Goal.AWARENESS],
        figures=[figure(31_622_777, metric=Metric.REGISTERED_ACCOUNTS)],
        apis=Apis(publish=ApiLevel.LIMITED),
    )

    result = score(make_brief(goals=["awareness", "sales"]), platform)

    expected = 100 * (0.35 * 1.0 + 0.30 * 0.5 + 0.25 * 0.5 + 0.10 * 0.5)
    assert result.score == round(expected, 1) == 67.5
    assert math.isclose(
        scoring.WEIGHT_AUDIENCE + scoring.WEIGHT_GOALS + scoring.WEIGHT_REACH + scoring.WEIGHT_API,
        1.0,
    )


# --- gates and ranking ------------------------------------------------------------------


def blocked_in_mainland(**overrides: Any) -> Platform:
    reach = [
        Reach(region=Region.MAINLAND, access=Access.BLOCKED, since=date(2009, 7, 7)),
        Reach(region=Region.SHANGHAI_FTZ, access=Access.REPORTED_OPEN, since=date(2013, 9, 24)),
        Reach(region=Region.HONG_KONG, access=Access.OPEN),
        Reach(region=Region.OVERSEAS, access=Access.OPEN),
    ]
    return make_platform(
        "facebook", origin=Origin.FOREIGN, reach=reach, figures=[figure(3_000_000_000)], **overrides
    )


def test_a_blocked_platform_scores_zero_and_ranks_after_every_usable_one() -> None:
    """Given a huge platform blocked in the mainland and a small open one, the open one wins."""
    small = make_platform("small", figures=[figure(2_000_000)], goals=[Goal.SALES])
    catalog = make_catalog(blocked_in_mainland(), small)

    ranking = rank_platforms(make_brief(), catalog, on=ON)

    assert [r.slug for r in ranking] == ["small", "facebook"]
    facebook = ranking[1]
    assert facebook.score == 0.0
    assert facebook.gate is Gate.UNREACHABLE
    assert facebook.warnings[0].id == "unreachable"
    assert facebook.warnings[0].params["access"] == "blocked"
    assert "ftz_exception" in ids(facebook.warnings)
    # No publishing advice for a platform nobody can publish to for this audience.
    assert facebook.language.id == "no_publishing"
    assert ranking[0].language.id == "platform_language"


def test_a_block_only_applies_from_its_date_and_region() -> None:
    before = score(make_brief(), blocked_in_mainland(), on=date(2009, 3, 1))
    hong_kong = score(make_brief(region="hong_kong"), blocked_in_mainland())

    assert before.gate is Gate.OPEN
    assert "access_unknown" in ids(before.warnings)  # nothing recorded before 2009
    assert hong_kong.gate is Gate.OPEN
    assert hong_kong.score > 0


@pytest.mark.parametrize(
    ("access", "warning"),
    [(Access.REPORTED_OPEN, "reported_open_only"), (Access.LIMITED, "limited_access")],
)
def test_doubtful_access_multiplies_the_score(access: Access, warning: str) -> None:
    open_ = score(make_brief(), make_platform())
    doubtful = score(
        make_brief(), make_platform(reach=[Reach(region=Region.MAINLAND, access=access)])
    )

    assert doubtful.components.access == scoring.ACCESS_FACTOR[access]
    assert doubtful.score == pytest.approx(open_.score * scoring.ACCESS_FACTOR[access], abs=0.1)
    assert warning in ids(doubtful.warnings)


def test_unknown_access_is_discounted_and_warned() -> None:
    result = score(make_brief(), make_platform(reach=[]))

    assert result.components.access == scoring.ACCESS_UNKNOWN_FACTOR
    assert "access_unknown" in ids(result.warnings)


def merged_platform() -> Platform:
    return make_platform(
        "tudou",
        status=PlatformStatus.MERGED,
        history=[
            StatusChange(
                status=PlatformStatus.MERGED, on=date(2012, 3, 12), into="youku", source="test"
            )
        ],
    )


def defunct_platform() -> Platform:
    return make_platform(
        "gone",
        status=PlatformStatus.DEFUNCT,
        history=[StatusChange(status=PlatformStatus.DEFUNCT, on=date(2016, 1, 1), source="test")],
    )


def test_defunct_and_merged_platforms_score_zero_and_rank_last() -> None:
    """Usable first, then blocked, then inactive, whatever their fit."""
    catalog = make_catalog(
        defunct_platform(), merged_platform(), blocked_in_mainland(), make_platform("youku")
    )

    ranking = rank_platforms(make_brief(), catalog, on=ON)

    assert [r.slug for r in ranking] == ["youku", "facebook", "gone", "tudou"]
    assert [r.rank for r in ranking] == [1, 2, 3, 4]
    gone, tudou = ranking[2], ranking[3]
    assert gone.gate is Gate.INACTIVE
    assert gone.score == 0.0
    assert gone.warnings[0] == Explanation(id="defunct", params={"date": "2016-01-01"})
    assert tudou.warnings[0] == Explanation(
        id="merged", params={"date": "2012-03-12", "into": "youku"}
    )


def test_a_platform_still_ran_before_its_closure_and_not_before_its_launch() -> None:
    before_closure = score(make_brief(), defunct_platform(), on=date(2015, 1, 1))
    before_launch = score(make_brief(), make_platform(launched=2016), on=date(2013, 10, 1))

    assert before_closure.gate is Gate.OPEN
    assert before_launch.gate is Gate.INACTIVE
    assert before_launch.warnings[0] == Explanation(
        id="not_launched", params={"year": 2016, "date": "2013-10-01"}
    )


def test_a_platform_of_unknown_fate_is_discounted_after_the_seed_only() -> None:
    platform = make_platform(status=PlatformStatus.UNKNOWN)

    in_2013 = score(make_brief(), platform, on=scoring.SEED_DATE)
    today = score(make_brief(), platform, on=ON)

    assert in_2013.components.status == 1.0
    assert today.components.status == scoring.STATUS_UNKNOWN_FACTOR
    assert today.score == pytest.approx(in_2013.score * scoring.STATUS_UNKNOWN_FACTOR, abs=0.1)
    assert "status_unknown" in ids(today.warnings)


def test_ties_are_broken_by_slug_and_the_ranking_is_deterministic() -> None:
    catalog = make_catalog(make_platform("zeta"), make_platform("beta"), make_platform("mu"))

    first = rank_platforms(make_brief(), catalog, on=ON)
    again = rank_platforms(make_brief(), catalog, on=ON)

    assert [r.slug for r in first] == ["beta", "mu", "zeta"]
    assert first == again
    assert len({r.score for r in first}) == 1
