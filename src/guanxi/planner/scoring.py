"""Scoring the catalog's platforms against a brief: explainable, deterministic, documented.

score = 100 × access × status × (WEIGHT_AUDIENCE·audience + WEIGHT_GOALS·goals
                                 + WEIGHT_REACH·reach + WEIGHT_API·api)

Each component lies in [0, 1]. ``access`` is the reachability factor of the audience's
region on the plan date; ``status`` discounts a platform whose fate since 2013 is unknown.
Two gates override the sum: a platform blocked in that region, and one that is defunct,
merged or not yet launched on the plan date, scores 0 and ranks after every usable
platform (blocked first, inactive last); ties are broken by slug. Every weight and
threshold below is a named constant, explained in docs/planner.md with a worked example.
Missing catalog data counts as unknown (UNKNOWN_FACTOR) and a reason says so.
"""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from guanxi.catalog.models import (
    Access,
    ApiLevel,
    Catalog,
    Education,
    Metric,
    Platform,
    PlatformStatus,
    Reach,
    Region,
    StatusChange,
    UserFigure,
)
from guanxi.core.errors import N_
from guanxi.planner.brief import CATALOG_REGION, Brief
from guanxi.planner.explain import Explanation, ParamValue
from guanxi.planner.language import (
    LanguageAdvice,
    advise_language,
    language_gap,
    platform_languages,
)

__all__ = ["Brief", "Explanation", "PlanResult", "Recommendation", "make_plan", "score_platform"]

# The weights of the four components; they sum to 1 so the score reads as a percentage.
# Audience first: the seed's whole argument is to go where the audience already is.
WEIGHT_AUDIENCE = 0.35
# What the platform is for (awareness, engagement, sales, video) against the brand's goals.
WEIGHT_GOALS = 0.30
# Size matters, but a big platform of the wrong audience should not win on size alone.
WEIGHT_REACH = 0.25
# A small bonus for an official publishing API: guanxi can publish there for the brand.
WEIGHT_API = 0.10

# What a fact the catalog does not know counts for: halfway, neither for nor against.
UNKNOWN_FACTOR = 0.5
# Credit for an education level next to one the platform's audience has (e.g. postgraduate
# audience, university platform): related readers, not the same ones.
EDUCATION_ADJACENT_CREDIT = 0.5
# Levels in order, to tell which are next to each other.
EDUCATION_ORDER = (Education.SECONDARY, Education.UNIVERSITY, Education.POSTGRADUATE)

# Reach is log-scaled between a floor and a full scale: each tenfold growth adds the same
# credit, so 500 million versus 400 million barely differs while 5 million versus
# 500 million does. Below a million users a platform is a niche at China's scale.
REACH_FLOOR = 1_000_000
# Full marks per metric, so unlike counts are normalised before they are compared: a
# billion accounts or monthly users is the top of any platform's reports; daily counts are
# a fraction of the accounts behind them, so their full scale is lower.
REACH_FULL_SCALE: dict[Metric, int] = {
    Metric.REGISTERED_ACCOUNTS: 1_000_000_000,
    Metric.ACTIVE_ACCOUNTS: 1_000_000_000,
    Metric.MONTHLY_ACTIVE_USERS: 1_000_000_000,
    Metric.DAILY_ACTIVE_USERS: 500_000_000,
    Metric.DAILY_UNIQUE_VISITORS: 100_000_000,
    Metric.INTERNATIONAL_USERS: 1_000_000_000,
    # A country's internet population, never a platform's figure: listed so every metric
    # has a scale, and skipped when a platform's figure is picked.
    Metric.INTERNET_USERS: 1_000_000_000,
}
# A figure older than this (before the plan date) gets a warning: look for a newer one.
STALE_FIGURE_YEARS = 5

# Credit for the publishing API: official is full, limited (partners only) is half.
API_PUBLISH_CREDIT: dict[ApiLevel, float] = {
    ApiLevel.OFFICIAL: 1.0,
    ApiLevel.LIMITED: 0.5,
    ApiLevel.NONE: 0.0,
}

# The reachability factor multiplies the whole sum. Blocked is the gate (0). Limited works
# with few users or a separate local version; "reported open" is unconfirmed (the 2013
# Shanghai FTZ report): each is worth half.
ACCESS_FACTOR: dict[Access, float] = {
    Access.OPEN: 1.0,
    Access.LIMITED: 0.5,
    Access.REPORTED_OPEN: 0.5,
    Access.BLOCKED: 0.0,
}
# A platform the catalog knows only as it was in 2013 (status "unknown") may have closed
# since: half the value, and a warning to check before relying on it.
STATUS_UNKNOWN_FACTOR = 0.5
# The seed articles' date: every platform they name was running then, so on a plan date up
# to this one (or up to the platform's newest user figure) an "unknown" status is no doubt.
SEED_DATE = date(2013, 10, 1)
# No reach entry for the region: the catalog records blocks explicitly, so an unknown
# region is more likely reachable than not, but unconfirmed.
ACCESS_UNKNOWN_FACTOR = 0.75

# Scores are shown from 0 to 100 with one decimal; ties at that precision go by slug.
SCORE_SCALE = 100
SCORE_DECIMALS = 1


class Gate(StrEnum):
    """Whether a platform can be used at all; a closed gate sets the score to 0."""

    OPEN = "open"
    UNREACHABLE = "unreachable"  # blocked in the audience's region on the plan date
    INACTIVE = "inactive"  # defunct, merged or not launched on the plan date


GATE_LABELS: dict[Gate, str] = {
    Gate.OPEN: N_("Usable"),
    Gate.UNREACHABLE: N_("Unreachable"),
    Gate.INACTIVE: N_("Inactive"),
}

# Usable platforms first, then the blocked ones, the inactive last.
GATE_ORDER = {Gate.OPEN: 0, Gate.UNREACHABLE: 1, Gate.INACTIVE: 2}


class Components(BaseModel):
    """The parts of a score, each in [0, 1]; ``access`` and ``status`` multiply the
    weighted sum of the other four."""

    model_config = ConfigDict(frozen=True)

    audience: float
    goals: float
    reach: float
    api: float
    access: float
    status: float


class Recommendation(BaseModel):
    """One platform's place in a plan, and why."""

    model_config = ConfigDict(frozen=True)

    rank: int
    slug: str
    name_en: str
    name_zh: str
    score: float
    gate: Gate
    components: Components
    reasons: list[Explanation]
    warnings: list[Explanation]
    language: Explanation


class PlanResult(BaseModel):
    """A brief run against a catalog on a date."""

    model_config = ConfigDict(frozen=True)

    brief: Brief
    plan_date: date
    catalog_version: str
    language_advice: LanguageAdvice
    ranking: list[Recommendation]


def _percent(value: float) -> int:
    return round(value * 100)


def _years_before(day: date, years: int) -> date:
    # 29 February has no twin in most years: fall back to the 28th.
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# --- audience -------------------------------------------------------------------------


def _age_factor(brief: Brief, platform: Platform) -> tuple[float, Explanation]:
    audience = platform.audience
    if audience is None:
        return UNKNOWN_FACTOR, Explanation(
            id="age_unknown", params={"percent": _percent(UNKNOWN_FACTOR)}
        )
    # Whole years, inclusive at both ends: 18-30 is 13 years of age.
    wanted = brief.age_max - brief.age_min + 1
    overlap = max(
        0, min(brief.age_max, audience.age_max) - max(brief.age_min, audience.age_min) + 1
    )
    factor = overlap / wanted
    return factor, Explanation(
        id="age_overlap",
        params={
            "platform_min": audience.age_min,
            "platform_max": audience.age_max,
            "brief_min": brief.age_min,
            "brief_max": brief.age_max,
            "percent": _percent(factor),
        },
    )


def _education_factor(education: Education, platform: Platform) -> tuple[float, Explanation]:
    levels = platform.audience.education if platform.audience else []
    if not levels:
        return UNKNOWN_FACTOR, Explanation(
            id="education_unknown",
            params={"education": education.value, "percent": _percent(UNKNOWN_FACTOR)},
        )
    params: dict[str, ParamValue] = {
        "education": education.value,
        "platform_education": [level.value for level in levels],
    }
    if education in levels:
        return 1.0, Explanation(id="education_match", params={**params, "percent": 100})
    position = EDUCATION_ORDER.index(education)
    if any(abs(EDUCATION_ORDER.index(level) - position) == 1 for level in levels):
        credit = EDUCATION_ADJACENT_CREDIT
        return credit, Explanation(
            id="education_near", params={**params, "percent": _percent(credit)}
        )
    return 0.0, Explanation(id="education_miss", params={**params, "percent": 0})


def _share_factor(kind: str, wanted: list[str], offered: list[str]) -> tuple[float, Explanation]:
    """The share of the brief's ``wanted`` values (tiers, devices) that the platform has."""
    if not offered:
        return UNKNOWN_FACTOR, Explanation(
            id=f"{kind}_unknown", params={kind: wanted, "percent": _percent(UNKNOWN_FACTOR)}
        )
    matched = [value for value in wanted if value in offered]
    factor = len(matched) / len(wanted)
    return factor, Explanation(
        id=kind,
        params={
            kind: wanted,
            f"matched_{kind}": matched,
            f"platform_{kind}": offered,
            "percent": _percent(factor),
        },
    )


def audience_fit(brief: Brief, platform: Platform) -> tuple[float, list[Explanation]]:
    """The mean of the audience facts the brief asks about (age always), with a reason each."""
    factors = [_age_factor(brief, platform)]
    audience = platform.audience
    if brief.education is not None:
        factors.append(_education_factor(brief.education, platform))
    if brief.city_tiers:
        offered_tiers = [str(tier) for tier in audience.city_tiers] if audience else []
        factors.append(_share_factor("tiers", [str(t) for t in brief.city_tiers], offered_tiers))
    if brief.devices:
        offered_devices = [device.value for device in audience.devices] if audience else []
        factors.append(_share_factor("devices", [d.value for d in brief.devices], offered_devices))
    value = sum(factor for factor, _ in factors) / len(factors)
    return value, [reason for _, reason in factors]


# --- goals, reach, API ------------------------------------------------------------------


def goal_fit(brief: Brief, platform: Platform) -> tuple[float, Explanation]:
    """The share of the brief's goals the platform is known to serve."""
    goals = [goal.value for goal in brief.goals]
    if not platform.goals:
        return UNKNOWN_FACTOR, Explanation(
            id="goals_unknown", params={"goals": goals, "percent": _percent(UNKNOWN_FACTOR)}
        )
    matched = [goal.value for goal in brief.goals if goal in platform.goals]
    factor = len(matched) / len(goals)
    if not matched:
        return 0.0, Explanation(id="goals_none", params={"goals": goals, "percent": 0})
    return factor, Explanation(
        id="goals",
        params={"goals": goals, "matched_goals": matched, "percent": _percent(factor)},
    )


def reach_factor(figure: UserFigure) -> float:
    """A figure on the log scale from REACH_FLOOR (0) to its metric's full scale (1)."""
    if figure.value <= REACH_FLOOR:
        return 0.0
    full = REACH_FULL_SCALE[figure.metric]
    scaled = math.log10(figure.value / REACH_FLOOR) / math.log10(full / REACH_FLOOR)
    return min(1.0, scaled)


def pick_figure(platform: Platform, region: Region, on: date) -> UserFigure | None:
    """The figure that stands for the platform's reach for an audience in ``region``.

    Only figures known on the plan date count. For an audience outside China a count of
    users outside China is preferred; inside, it is used only when nothing else exists.
    Otherwise the newest figure wins, the better-scaled one on the same date.
    """
    known = [
        figure
        for figure in platform.figures
        if figure.as_of <= on and figure.metric is not Metric.INTERNET_USERS
    ]
    abroad = [f for f in known if f.metric is Metric.INTERNATIONAL_USERS]
    if region is Region.OVERSEAS and abroad:
        return max(abroad, key=lambda f: (f.as_of, f.value))
    candidates = [f for f in known if f.metric is not Metric.INTERNATIONAL_USERS] or known
    return max(candidates, key=lambda f: (f.as_of, reach_factor(f)), default=None)


def reach_fit(
    platform: Platform, region: Region, on: date, catalog: Catalog
) -> tuple[float, Explanation, list[Explanation]]:
    """The reach component, its reason, and a warning when the figure is stale."""
    figure = pick_figure(platform, region, on)
    if figure is None:
        return (
            UNKNOWN_FACTOR,
            Explanation(id="reach_unknown", params={"percent": _percent(UNKNOWN_FACTOR)}),
            [],
        )
    factor = reach_factor(figure)
    source = catalog.sources.get(figure.source)
    reason = Explanation(
        id="reach",
        params={
            "value": figure.value,
            "metric": figure.metric.value,
            "as_of": figure.as_of.isoformat(),
            "source": source.title if source else figure.source,
            "percent": _percent(factor),
        },
    )
    warnings = []
    if figure.as_of < _years_before(on, STALE_FIGURE_YEARS):
        warnings.append(
            Explanation(
                id="stale_figure",
                params={"as_of": figure.as_of.isoformat(), "years": STALE_FIGURE_YEARS},
            )
        )
    return factor, reason, warnings


def api_fit(platform: Platform) -> tuple[float, Explanation, list[Explanation]]:
    """Credit for an official publishing API; without one, publishing is manual."""
    level = platform.apis.publish
    credit = API_PUBLISH_CREDIT[level]
    reason = Explanation(id=f"api_{level.value}", params={"percent": _percent(credit)})
    warnings = [Explanation(id="manual_publishing")] if level is ApiLevel.NONE else []
    return credit, reason, warnings


# --- gates ------------------------------------------------------------------------------


def status_on(platform: Platform, on: date) -> tuple[PlatformStatus, StatusChange | None]:
    """The platform's status on ``on`` and the change that set it, from its dated history."""
    past = [change for change in platform.history if change.on <= on]
    if past:
        change = max(past, key=lambda c: c.on)
        return change.status, change
    if platform.history:
        # Every recorded change lies after the plan date: it still ran then.
        return PlatformStatus.ACTIVE, None
    return platform.status, None


def _fate_unknown(platform: Platform, on: date) -> bool:
    """Whether the catalog cannot tell that ``platform`` still ran on ``on``."""
    if status_on(platform, on)[0] is not PlatformStatus.UNKNOWN:
        return False
    known_until = max([SEED_DATE, *(figure.as_of for figure in platform.figures)])
    return on > known_until


def _status_gate(platform: Platform, on: date) -> Explanation | None:
    """The warning that closes the gate: not launched, defunct or merged on ``on``."""
    if platform.launched is not None and platform.launched > on.year:
        return Explanation(
            id="not_launched", params={"year": platform.launched, "date": on.isoformat()}
        )
    status, change = status_on(platform, on)
    # The catalog dates every closure (a history entry with a source), so ``change`` is set.
    if status in {PlatformStatus.ACTIVE, PlatformStatus.UNKNOWN} or change is None:
        return None
    if status is PlatformStatus.MERGED:
        return Explanation(
            id="merged", params={"date": change.on.isoformat(), "into": change.into or ""}
        )
    return Explanation(id="defunct", params={"date": change.on.isoformat()})


def _access(
    platform: Platform, region: Region, on: date
) -> tuple[float, Reach | None, list[Explanation]]:
    """The reachability factor, the reach entry in force, and its warnings."""
    reach = platform.reach_on(region, on)
    params: dict[str, ParamValue] = {"region": region.value, "date": on.isoformat()}
    if reach is None:
        factor = ACCESS_UNKNOWN_FACTOR
        return (
            factor,
            None,
            [Explanation(id="access_unknown", params={**params, "percent": _percent(factor)})],
        )
    factor = ACCESS_FACTOR[reach.access]
    params = {**params, "access": reach.access.value, "percent": _percent(factor)}
    if reach.access is Access.BLOCKED:
        warnings = [Explanation(id="unreachable", params=params)]
        exception = (
            platform.reach_on(Region.SHANGHAI_FTZ, on) if region is Region.MAINLAND else None
        )
        if exception is not None and exception.access is not Access.BLOCKED:
            warnings.append(
                Explanation(
                    id="ftz_exception",
                    params={
                        "access": exception.access.value,
                        "since": exception.since.isoformat() if exception.since else "",
                    },
                )
            )
        return factor, reach, warnings
    if reach.access is Access.REPORTED_OPEN:
        return factor, reach, [Explanation(id="reported_open_only", params=params)]
    if reach.access is Access.LIMITED:
        return factor, reach, [Explanation(id="limited_access", params=params)]
    return factor, reach, []


# --- the ranking ------------------------------------------------------------------------


def score_platform(
    brief: Brief, platform: Platform, *, catalog: Catalog, on: date
) -> Recommendation:
    """Score one platform for ``brief`` on ``on`` (rank 0: ``rank_platforms`` numbers them)."""
    region = CATALOG_REGION[brief.region]
    audience, audience_reasons = audience_fit(brief, platform)
    goals, goal_reason = goal_fit(brief, platform)
    reach, reach_reason, reach_warnings = reach_fit(platform, region, on, catalog)
    api, api_reason, api_warnings = api_fit(platform)
    access, reach_entry, access_warnings = _access(platform, region, on)

    warnings: list[Explanation] = []
    status_warning = _status_gate(platform, on)
    status = 1.0
    if status_warning is not None:
        gate = Gate.INACTIVE
        warnings.append(status_warning)
    elif reach_entry is not None and reach_entry.access is Access.BLOCKED:
        gate = Gate.UNREACHABLE
    else:
        gate = Gate.OPEN
    if gate is not Gate.INACTIVE and _fate_unknown(platform, on):
        status = STATUS_UNKNOWN_FACTOR
        warnings.append(Explanation(id="status_unknown", params={"percent": _percent(status)}))
    warnings += access_warnings + reach_warnings + api_warnings

    languages = platform_languages(brief, platform)
    gap = language_gap(brief, languages)
    if gap is not None:
        warnings.append(gap)

    weighted = (
        WEIGHT_AUDIENCE * audience + WEIGHT_GOALS * goals + WEIGHT_REACH * reach + WEIGHT_API * api
    )
    score = (
        round(SCORE_SCALE * access * status * weighted, SCORE_DECIMALS)
        if gate is Gate.OPEN
        else 0.0
    )
    reasons = [*audience_reasons, goal_reason, reach_reason, api_reason]
    # Reachability is worth saying only of a platform that runs on the plan date.
    if gate is not Gate.INACTIVE and reach_entry is not None and reach_entry.access is Access.OPEN:
        reasons.append(
            Explanation(id="access_open", params={"region": region.value, "date": on.isoformat()})
        )
    return Recommendation(
        rank=0,
        slug=platform.slug,
        name_en=platform.name_en,
        name_zh=platform.name_zh,
        score=score,
        gate=gate,
        components=Components(
            audience=audience, goals=goals, reach=reach, api=api, access=access, status=status
        ),
        reasons=reasons,
        warnings=warnings,
        # A closed platform gets no publishing advice: there is nothing to publish there.
        language=Explanation(
            id="platform_language", params={"languages": [lang.value for lang in languages]}
        )
        if gate is Gate.OPEN
        else Explanation(id="no_publishing"),
    )


def rank_platforms(brief: Brief, catalog: Catalog, *, on: date) -> list[Recommendation]:
    """Every catalog platform scored and ranked best first: usable ones by score, then the
    blocked, then the inactive; ties by slug."""
    scored = [score_platform(brief, p, catalog=catalog, on=on) for p in catalog.platforms]
    scored.sort(key=lambda r: (GATE_ORDER[r.gate], -r.score, r.slug))
    return [r.model_copy(update={"rank": index}) for index, r in enumerate(scored, start=1)]


def make_plan(brief: Brief, catalog: Catalog, *, today: date) -> PlanResult:
    """Run ``brief`` against ``catalog`` on its plan date (``today`` when it has none)."""
    on = brief.plan_date or today
    return PlanResult(
        brief=brief,
        plan_date=on,
        catalog_version=catalog.version,
        language_advice=advise_language(brief),
        ranking=rank_platforms(brief, catalog, on=on),
    )
