"""Language advice: what the audience reads, and whether the brand can write it.

Simplified Chinese for the mainland, Traditional for Hong Kong, Taiwan and Macau, both for
overseas Chinese; an English-only brand is warned, as the seed argues that content licensed
in English and not in Chinese is ineffective.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from guanxi.catalog.models import Origin, Platform
from guanxi.planner.brief import AudienceRegion, Brief, ContentLanguage
from guanxi.planner.explain import Explanation

# Places outside the mainland where Chinese is read in Traditional characters.
TRADITIONAL_CHINESE_PLACES = frozenset(
    {"taiwan", "republic of china", "macau", "macao", "台湾", "臺灣", "澳门", "澳門"}
)


class LanguageAdvice(BaseModel):
    """Which language to write in for the audience, and what the brand lacks."""

    model_config = ConfigDict(frozen=True)

    recommended: list[ContentLanguage]
    advice: list[Explanation]
    warnings: list[Explanation]


def _reads_traditional(brief: Brief) -> bool:
    if brief.region is AudienceRegion.HONG_KONG:
        return True
    country = (brief.country or "").strip().lower()
    return brief.region is AudienceRegion.OTHER_COUNTRY and country in TRADITIONAL_CHINESE_PLACES


def audience_languages(brief: Brief) -> list[ContentLanguage]:
    """What the audience reads: Simplified for the mainland, Traditional for Hong Kong,
    Taiwan and Macau, both for overseas Chinese, English elsewhere."""
    if _reads_traditional(brief):
        return [ContentLanguage.ZH_HANT]
    if brief.region is AudienceRegion.MAINLAND:
        return [ContentLanguage.ZH_HANS]
    if brief.region is AudienceRegion.OVERSEAS_CHINESE:
        return [ContentLanguage.ZH_HANS, ContentLanguage.ZH_HANT]
    return [ContentLanguage.EN]


def _chinese(languages: list[ContentLanguage]) -> list[ContentLanguage]:
    return [language for language in languages if language is not ContentLanguage.EN]


def language_gap(brief: Brief, needed: list[ContentLanguage]) -> Explanation | None:
    """The warning when the brand can produce none of ``needed`` (None when not said)."""
    if not brief.languages or set(brief.languages) & set(needed):
        return None
    needed_values = [language.value for language in needed]
    if brief.languages == [ContentLanguage.EN] and _chinese(needed):
        return Explanation(id="english_only", params={"languages": needed_values})
    return Explanation(id="missing_language", params={"languages": needed_values})


def advise_language(brief: Brief) -> LanguageAdvice:
    """The plan's language advice: what to write in, and what the brand cannot produce."""
    recommended = audience_languages(brief)
    if _reads_traditional(brief) and brief.region is AudienceRegion.OTHER_COUNTRY:
        advice = Explanation(id="write_traditional_place", params={"country": brief.country or ""})
    elif brief.region is AudienceRegion.OTHER_COUNTRY:
        advice = (
            Explanation(id="write_other_country", params={"country": brief.country})
            if brief.country
            else Explanation(id="write_other_country_unnamed")
        )
    else:
        advice = Explanation(id=f"write_{brief.region.value}")
    advice_list = [advice]
    if not brief.languages:
        advice_list.append(Explanation(id="languages_not_given"))
    elif set(brief.languages) & set(recommended):
        covered = [lang.value for lang in brief.languages if lang in recommended]
        advice_list.append(Explanation(id="languages_covered", params={"languages": covered}))
    gap = language_gap(brief, recommended)
    return LanguageAdvice(
        recommended=recommended, advice=advice_list, warnings=[gap] if gap else []
    )


def platform_languages(brief: Brief, platform: Platform) -> list[ContentLanguage]:
    """What to publish in on ``platform``: the audience's languages, plus English on a
    foreign platform outside the mainland, where English posts are read too."""
    languages = audience_languages(brief)
    if (
        platform.origin is Origin.FOREIGN
        and brief.region is not AudienceRegion.MAINLAND
        and ContentLanguage.EN not in languages
    ):
        languages = [*languages, ContentLanguage.EN]
    return languages
