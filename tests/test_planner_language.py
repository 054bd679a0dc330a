"""Language advice and the explanations' texts, on small hand-built catalogs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from guanxi.catalog.models import (
    Access,
    ApiLevel,
    Apis,
    Education,
    Origin,
    PlatformStatus,
    Reach,
    Region,
)
from guanxi.core import i18n
from guanxi.planner import language as language_module
from guanxi.planner import scoring
from guanxi.planner.brief import ContentLanguage
from guanxi.planner.explain import MESSAGES, Explanation, explain
from guanxi.planner.scoring import make_plan
from tests.test_planner_scoring import (
    AUDIENCE,
    ON,
    blocked_in_mainland,
    defunct_platform,
    figure,
    ids,
    make_brief,
    make_catalog,
    make_platform,
    merged_platform,
    score,
)


@pytest.fixture
def english() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


# --- language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "recommended"),
    [
        ({"region": "mainland"}, ["zh_Hans"]),
        ({"region": "hong_kong"}, ["zh_Hant"]),
        ({"region": "other_country", "country": "Taiwan"}, ["zh_Hant"]),
        ({"region": "other_country", "country": "台湾"}, ["zh_Hant"]),
        ({"region": "overseas_chinese"}, ["zh_Hans", "zh_Hant"]),
        ({"region": "other_country", "country": "Italy"}, ["en"]),
    ],
)
def test_language_advice_follows_the_script_the_audience_reads(
    overrides: dict[str, str], recommended: list[str]
) -> None:
    advice = language_module.advise_language(make_brief(**overrides))

    assert [language.value for language in advice.recommended] == recommended


def test_an_english_only_brand_is_warned_for_a_chinese_audience() -> None:
    """The seed: content licensed in English and not in Chinese is ineffective."""
    brief = make_brief(languages=["en"])

    plan = make_plan(brief, make_catalog(make_platform()), today=ON)

    assert plan.language_advice.warnings == [
        Explanation(id="english_only", params={"languages": ["zh_Hans"]})
    ]
    assert "english_only" in ids(plan.ranking[0].warnings)


def test_english_is_fine_on_a_foreign_platform_abroad() -> None:
    brief = make_brief(region="other_country", country="Italy", languages=["en"])

    result = score(brief, make_platform(origin=Origin.FOREIGN))

    assert result.language.params == {"languages": ["en"]}
    assert "english_only" not in ids(result.warnings)


def test_a_hong_kong_audience_needs_traditional_chinese() -> None:
    brief = make_brief(region="hong_kong", languages=["zh_Hans"])

    plan = make_plan(brief, make_catalog(make_platform(), blocked_in_mainland()), today=ON)

    assert plan.language_advice.advice[0].id == "write_hong_kong"
    assert plan.language_advice.warnings == [
        Explanation(id="missing_language", params={"languages": ["zh_Hant"]})
    ]
    facebook = next(r for r in plan.ranking if r.slug == "facebook")
    assert facebook.language.params == {"languages": ["zh_Hant", "en"]}


def test_without_languages_the_advice_asks_for_them_and_warns_of_nothing() -> None:
    plan = make_plan(make_brief(), make_catalog(make_platform()), today=ON)

    assert ids(plan.language_advice.advice) == ["write_mainland", "languages_not_given"]
    assert plan.language_advice.warnings == []
    assert not {"english_only", "missing_language"} & set(ids(plan.ranking[0].warnings))


def test_a_brand_writing_simplified_chinese_is_covered_for_the_mainland() -> None:
    brief = make_brief(languages=[ContentLanguage.EN, ContentLanguage.ZH_HANS])

    advice = language_module.advise_language(brief)

    assert advice.warnings == []
    assert advice.advice[1] == Explanation(
        id="languages_covered", params={"languages": ["zh_Hans"]}
    )


# --- explanations ---------------------------------------------------------------------------


def every_explanation(plan: scoring.PlanResult) -> list[Explanation]:
    found = list(plan.language_advice.advice) + list(plan.language_advice.warnings)
    for r in plan.ranking:
        found += [*r.reasons, *r.warnings, r.language]
    return found


def test_every_explanation_the_planner_gives_has_a_message(english: None) -> None:
    """Given briefs and platforms that exercise every branch, each id is in MESSAGES and
    renders without a missing value."""
    catalog = make_catalog(
        make_platform("plain", figures=[figure(500_000_000, date(2010, 1, 1))]),
        make_platform("bare", audience=None, goals=[], reach=[], apis=Apis()),
        make_platform("doubtful", reach=[Reach(region=Region.MAINLAND, access=Access.LIMITED)]),
        make_platform("rumour", reach=[Reach(region=Region.MAINLAND, access=Access.REPORTED_OPEN)]),
        make_platform(
            "graduates",
            audience=AUDIENCE.model_copy(update={"education": [Education.POSTGRADUATE]}),
        ),
        blocked_in_mainland(),
        merged_platform(),
        defunct_platform(),
        make_platform("fate", status=PlatformStatus.UNKNOWN, apis=Apis(publish=ApiLevel.LIMITED)),
        make_platform("future", launched=2030),
    )
    briefs = [
        make_brief(
            education="postgraduate", city_tiers=[1, 4], devices=["desktop"], languages=["en"]
        ),
        make_brief(region="hong_kong", languages=["zh_Hans"], goals=["video"]),
        make_brief(region="other_country", country="Taiwan"),
        make_brief(region="other_country", country="Italy", education="secondary"),
        make_brief(region="other_country", languages=["en", "zh_Hans"]),
        make_brief(region="overseas_chinese"),
    ]

    seen = set()
    for brief in briefs:
        for explanation in every_explanation(make_plan(brief, catalog, today=ON)):
            assert explanation.id in MESSAGES
            text = explain(explanation, catalog=catalog)
            assert "{" not in text
            seen.add(explanation.id)

    missing = set(MESSAGES) - seen
    assert missing == set(), "messages no test brief produced"


def test_explanations_show_labels_counts_and_platform_names(english: None) -> None:
    catalog = make_catalog(make_platform("youku", name_en="Youku", name_zh="优酷"))
    reach = Explanation(
        id="reach",
        params={
            "value": 500_000_000,
            "metric": "registered_accounts",
            "as_of": "2013-06-30",
            "source": "Seed",
            "percent": 90,
        },
    )
    merged = Explanation(id="merged", params={"date": "2012-03-12", "into": "youku"})

    assert explain(reach, catalog=catalog) == (
        "Reach: Registered accounts, 500 million, as of 2013-06-30 (source: Seed); "
        "90% of the reach scale."
    )
    assert explain(merged, catalog=catalog).startswith("Merged into Youku on 2012-03-12")
    i18n.set_language("zh_Hans")
    assert "5亿" in explain(reach, catalog=catalog)
    assert "优酷" in explain(merged, catalog=catalog)


def test_an_unknown_message_id_is_shown_rather_than_failing() -> None:
    assert explain(Explanation(id="gone_in_a_later_version", params={"x": 1})).startswith(
        "gone_in_a_later_version"
    )
