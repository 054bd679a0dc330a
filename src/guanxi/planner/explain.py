"""Explanations: the planner's reasons and warnings as message ids with values, translated
only when shown, so a saved plan reads in whichever language its reader uses.

A parameter's key says how its value is shown: enum values (region, access, metric,
education, devices, goals, languages) become their translated labels, ``into`` a platform's
name, ``value`` a count in the reader's style (500 million, 5亿); lists are joined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from guanxi.catalog.models import (
    ACCESS_LABELS,
    DEVICE_LABELS,
    EDUCATION_LABELS,
    GOAL_LABELS,
    METRIC_LABELS,
    REGION_LABELS,
    Catalog,
)
from guanxi.core import i18n
from guanxi.core.errors import N_
from guanxi.planner.brief import LANGUAGE_LABELS

ParamValue = str | int | float | list[str]


class Explanation(BaseModel):
    """A translatable fact: a message id of ``MESSAGES`` and the values it shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    params: dict[str, ParamValue] = Field(default_factory=dict)


MESSAGES: dict[str, str] = {
    # Reasons: what matched, component by component.
    "age_overlap": N_(
        "Audience ages {platform_min}–{platform_max} overlap your {brief_min}–{brief_max} "
        "({percent}%)."
    ),
    "age_unknown": N_(
        "Age: the catalog has no audience profile for this platform; counted as unknown "
        "({percent}%)."
    ),
    "education_match": N_(
        "Education: {education} matches the platform's users ({platform_education}): {percent}%."
    ),
    "education_near": N_(
        "Education: {education} is next to the platform's users ({platform_education}): {percent}%."
    ),
    "education_miss": N_(
        "Education: {education} does not match the platform's users ({platform_education}): "
        "{percent}%."
    ),
    "education_unknown": N_(
        "Education: the catalog does not say how educated this platform's users are; counted "
        "as unknown ({percent}%)."
    ),
    "tiers": N_(
        "City tiers: yours {tiers}; the platform's users live in {platform_tiers}; matched: "
        "{matched_tiers} ({percent}%)."
    ),
    "tiers_unknown": N_(
        "City tiers: the catalog does not say where this platform's users live; counted as "
        "unknown ({percent}%)."
    ),
    "devices": N_(
        "Devices: yours {devices}; the platform's users are on {platform_devices}; matched: "
        "{matched_devices} ({percent}%)."
    ),
    "devices_unknown": N_(
        "Devices: the catalog does not say what this platform's users are on; counted as "
        "unknown ({percent}%)."
    ),
    "goals": N_("Goals: serves {matched_goals}; you asked for {goals} ({percent}%)."),
    "goals_none": N_("Goals: serves none of those you asked for, {goals} ({percent}%)."),
    "goals_unknown": N_(
        "Goals: the catalog does not say what this platform is good for; counted as unknown "
        "({percent}%)."
    ),
    "reach": N_(
        "Reach: {metric}, {value}, as of {as_of} (source: {source}); {percent}% of the reach scale."
    ),
    "reach_unknown": N_(
        "Reach: the catalog has no user figure for this platform up to the plan date; counted "
        "as unknown ({percent}%)."
    ),
    "api_official": N_("Publishing: an official API, so guanxi can publish for you ({percent}%)."),
    "api_limited": N_(
        "Publishing: the official API is for approved partners only or covers part of the use "
        "({percent}%)."
    ),
    "api_none": N_("Publishing: no official API ({percent}%)."),
    "access_open": N_("Reachable from {region} on {date}."),
    # Warnings: what closes a gate, lowers a score, or needs checking.
    "unreachable": N_(
        "Unreachable from {region} on {date} ({access}): only through a VPN. Score set to 0."
    ),
    "ftz_exception": N_(
        "Shanghai Free-Trade Zone: {access}, which helps an audience inside the zone only."
    ),
    "reported_open_only": N_(
        "Only reported reachable from {region} on {date}, not confirmed: score multiplied by "
        "{percent}%."
    ),
    "limited_access": N_(
        "Limited in {region} on {date} (few users there, or a separate local version): score "
        "multiplied by {percent}%."
    ),
    "access_unknown": N_(
        "The catalog does not say whether this platform can be reached from {region}: score "
        "multiplied by {percent}%."
    ),
    "not_launched": N_("Not launched yet on {date} (launched in {year}). Score set to 0."),
    "merged": N_("Merged into {into} on {date}: plan for {into} instead. Score set to 0."),
    "defunct": N_("Defunct since {date}. Score set to 0."),
    "status_unknown": N_(
        "The catalog knows this platform only as it was in 2013: check that it still runs. "
        "Score multiplied by {percent}%."
    ),
    "manual_publishing": N_("No official publishing API: manual publishing only."),
    "stale_figure": N_(
        "The newest user figure is from {as_of}, more than {years} years before the plan date: "
        "look for a newer one before relying on it."
    ),
    "english_only": N_(
        "English-only content: content licensed in English and not in Chinese is ineffective, "
        "as the seed articles argue. Produce {languages}."
    ),
    "missing_language": N_(
        "Your brand cannot produce {languages}, what this audience reads: plan for a "
        "translator or a local community manager."
    ),
    # Language advice for the whole plan, and for one platform.
    "write_mainland": N_(
        "Write in Simplified Chinese: mainland China reads Simplified characters."
    ),
    "write_hong_kong": N_("Write in Traditional Chinese: Hong Kong reads Traditional characters."),
    "write_overseas_chinese": N_(
        "Write in both scripts: Simplified for readers from the mainland, Singapore and "
        "Malaysia; Traditional for readers from Hong Kong and Taiwan."
    ),
    "write_traditional_place": N_(
        "Write in Traditional Chinese: {country} reads Traditional characters."
    ),
    "write_other_country": N_(
        "Write in the language your audience in {country} reads; English where nothing better "
        "is possible."
    ),
    "write_other_country_unnamed": N_(
        "Write in the language your audience reads; English where nothing better is possible."
    ),
    "languages_not_given": N_(
        "Say which languages your brand can produce content in, and the planner checks them "
        "against this advice."
    ),
    "languages_covered": N_("Your brand produces {languages}: covered."),
    "platform_language": N_("Publish here in {languages}."),
    "no_publishing": N_("Not a place to publish for this audience."),
}
# What an empty list shows as, e.g. the tiers matched when none is.
EMPTY_LIST = N_("none")


_E = TypeVar("_E", bound=StrEnum)


def _by_value(labels: Mapping[_E, str]) -> dict[str, str]:
    return {member.value: label for member, label in labels.items()}


# Which label table translates the values of a parameter, by the parameter's key.
LABELS_BY_PARAM: dict[str, dict[str, str]] = {
    "region": _by_value(REGION_LABELS),
    "access": _by_value(ACCESS_LABELS),
    "metric": _by_value(METRIC_LABELS),
    "education": _by_value(EDUCATION_LABELS),
    "platform_education": _by_value(EDUCATION_LABELS),
    "devices": _by_value(DEVICE_LABELS),
    "matched_devices": _by_value(DEVICE_LABELS),
    "platform_devices": _by_value(DEVICE_LABELS),
    "goals": _by_value(GOAL_LABELS),
    "matched_goals": _by_value(GOAL_LABELS),
    "languages": _by_value(LANGUAGE_LABELS),
}


def format_count(value: int, language: str) -> str:
    """A user count the way readers of ``language`` say it: 500 million, 5亿."""
    if language == "zh_Hans":
        # Chinese counts in 万 (10^4) and 亿 (10^8), as the platforms report themselves.
        if value >= 100_000_000:
            return f"{value / 100_000_000:.2f}".rstrip("0").rstrip(".") + "亿"
        if value >= 10_000:
            return f"{value / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
        return f"{value:,}"
    if value >= 1_000_000_000:
        return f"{value / 1_000_000_000:.2f}".rstrip("0").rstrip(".") + " billion"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + " million"
    return f"{value:,}"


def _shown(
    key: str, value: ParamValue, gettext: Callable[[str], str], names: Callable[[str], str]
) -> str:
    language = i18n.current_language()
    if isinstance(value, list):
        if not value:
            return gettext(EMPTY_LIST)
        separator = "、" if language == "zh_Hans" else ", "
        return separator.join(_shown(key, item, gettext, names) for item in value)
    if key == "into" and isinstance(value, str):
        return names(value)
    if key == "value" and isinstance(value, int):
        return format_count(value, language)
    labels = LABELS_BY_PARAM.get(key)
    if labels is not None and isinstance(value, str) and value in labels:
        return gettext(labels[value])
    return str(value)


def explain(explanation: Explanation, *, catalog: Catalog | None = None) -> str:
    """The explanation as a sentence in the current language.

    An id this version no longer knows (a plan saved by another version) shows as the id
    and its values rather than failing the page.
    """
    template = MESSAGES.get(explanation.id)
    if template is None:
        return f"{explanation.id} {explanation.params}"
    language = i18n.current_language()

    def names(slug: str) -> str:
        platform = catalog.get(slug) if catalog else None
        return platform.name(language) if platform else slug

    values = {
        key: _shown(key, value, i18n.gettext, names) for key, value in explanation.params.items()
    }
    return i18n.gettext(template).format(**values)
