"""The planner on the real catalog: facts robust to new data (and the seed's 2013 China)."""

from __future__ import annotations

from datetime import date

import pytest

from guanxi.catalog.models import PlatformStatus
from guanxi.catalog.service import get_catalog
from guanxi.core import i18n
from guanxi.planner.brief import Brief
from guanxi.planner.explain import explain
from guanxi.planner.scoring import Gate, PlanResult, Recommendation, make_plan

TODAY = date(2025, 6, 1)
SEED_DAY = date(2013, 10, 1)
BLOCKED_IN_MAINLAND = ("facebook", "twitter", "youtube")
MAINLAND_MAJORS = ("weibo", "wechat")


def mainland_brief(**overrides: object) -> Brief:
    fields: dict[str, object] = {
        "age_min": 18,
        "age_max": 30,
        "education": "university",
        "city_tiers": [1, 2],
        "region": "mainland",
        "goals": ["awareness"],
    }
    fields.update(overrides)
    return Brief.model_validate(fields)


def by_slug(plan: PlanResult) -> dict[str, Recommendation]:
    return {r.slug: r for r in plan.ranking}


@pytest.mark.parametrize("on", [TODAY, SEED_DAY])
@pytest.mark.parametrize("goals", [["awareness"], ["engagement"], ["video"], ["sales"]])
def test_blocked_foreign_platforms_never_outrank_weibo_or_wechat_for_the_mainland(
    on: date, goals: list[str]
) -> None:
    plan = make_plan(mainland_brief(goals=goals), get_catalog(), today=on)
    ranked = by_slug(plan)

    for blocked in BLOCKED_IN_MAINLAND:
        assert ranked[blocked].gate is Gate.UNREACHABLE
        assert ranked[blocked].score == 0
        assert ranked[blocked].warnings[0].id == "unreachable"
        for major in MAINLAND_MAJORS:
            assert ranked[blocked].rank > ranked[major].rank


def test_the_seeds_ftz_report_is_mentioned_for_facebook_and_twitter() -> None:
    ranked = by_slug(make_plan(mainland_brief(), get_catalog(), today=SEED_DAY))

    for slug in ("facebook", "twitter"):
        assert "ftz_exception" in [w.id for w in ranked[slug].warnings]


def test_closed_platforms_carry_a_warning_and_rank_last() -> None:
    catalog = get_catalog()
    closed = {
        p.slug
        for p in catalog.platforms
        if p.status in {PlatformStatus.MERGED, PlatformStatus.DEFUNCT}
    }
    plan = make_plan(mainland_brief(), catalog, today=TODAY)

    assert "tudou" in closed
    tail = plan.ranking[-len(closed) :]
    assert {r.slug for r in tail} == closed
    for r in tail:
        assert r.gate is Gate.INACTIVE
        assert r.score == 0
        assert r.warnings[0].id in {"merged", "defunct"}
    tudou = by_slug(plan)["tudou"]
    assert tudou.warnings[0].params["into"] == "youku"


def test_a_2013_plan_does_not_recommend_platforms_launched_later() -> None:
    ranked = by_slug(make_plan(mainland_brief(), get_catalog(), today=SEED_DAY))

    assert ranked["douyin"].gate is Gate.INACTIVE
    assert ranked["douyin"].warnings[0].id == "not_launched"


def test_hong_kong_reaches_facebook_and_reads_traditional_chinese() -> None:
    plan = make_plan(
        mainland_brief(region="hong_kong", languages=["en"]), get_catalog(), today=TODAY
    )

    assert by_slug(plan)["facebook"].gate is Gate.OPEN
    assert [lang.value for lang in plan.language_advice.recommended] == ["zh_Hant"]
    assert [w.id for w in plan.language_advice.warnings] == ["english_only"]


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"region": "overseas_chinese", "devices": ["mobile"]},
        {"region": "other_country", "country": "Italy", "goals": ["video", "sales"]},
    ],
)
def test_every_explanation_on_the_real_catalog_renders(
    language: str, overrides: dict[str, object]
) -> None:
    catalog = get_catalog()
    plan = make_plan(mainland_brief(**overrides), catalog, today=TODAY)
    i18n.set_language(language)
    try:
        for r in plan.ranking:
            for explanation in [*r.reasons, *r.warnings, r.language]:
                text = explain(explanation, catalog=catalog)
                assert text
                assert "{" not in text
    finally:
        i18n.set_language("en")
