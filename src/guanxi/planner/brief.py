"""The planner's input: a brief describing the target audience, the goals and the languages.

Validation is strict and every message is translatable: a rule the brief breaks raises a
``PydanticCustomError`` whose type names an entry of ``BRIEF_MESSAGES``; any other error
(a wrong type, an unknown choice) is explained by the field's entry in ``FIELD_HELP``.
``brief_problems`` turns a ``ValidationError`` into those messages, field by field.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from guanxi.catalog.models import Device, Education, Goal, Region
from guanxi.core import bounds
from guanxi.core.errors import N_, UserError

# Facebook, Twitter and YouTube take accounts from 13; a younger audience is out of scope.
AGE_YOUNGEST = 13
# Ages are whole years; above 100 no platform reports users.
AGE_OLDEST = 100
# City tiers as the catalog uses them: 1 = Beijing, Shanghai, ...; 4 = rural.
CITY_TIERS = (1, 2, 3, 4)
# Long enough for any country's name, short enough to show in a table.
COUNTRY_MAX_LENGTH = 60
# The saved plan's name column holds 120 characters.
PLAN_NAME_MAX_LENGTH = 120


class AudienceRegion(StrEnum):
    """Where the target audience lives."""

    MAINLAND = "mainland"
    HONG_KONG = "hong_kong"
    OVERSEAS_CHINESE = "overseas_chinese"
    OTHER_COUNTRY = "other_country"


AUDIENCE_REGION_LABELS: dict[AudienceRegion, str] = {
    AudienceRegion.MAINLAND: N_("Mainland China"),
    AudienceRegion.HONG_KONG: N_("Hong Kong"),
    AudienceRegion.OVERSEAS_CHINESE: N_("Overseas Chinese communities"),
    AudienceRegion.OTHER_COUNTRY: N_("Another country"),
}

# The catalog's reachability region an audience region is checked against.
CATALOG_REGION: dict[AudienceRegion, Region] = {
    AudienceRegion.MAINLAND: Region.MAINLAND,
    AudienceRegion.HONG_KONG: Region.HONG_KONG,
    AudienceRegion.OVERSEAS_CHINESE: Region.OVERSEAS,
    AudienceRegion.OTHER_COUNTRY: Region.OVERSEAS,
}


CITY_TIER_LABELS: dict[int, str] = {
    1: N_("Tier 1: Beijing, Shanghai, Guangzhou, Shenzhen"),
    2: N_("Tier 2: provincial capitals and large cities"),
    3: N_("Tier 3: smaller cities"),
    4: N_("Tier 4: towns and the countryside"),
}


class ContentLanguage(StrEnum):
    """A language (and script) a brand can write its content in."""

    EN = "en"
    ZH_HANS = "zh_Hans"
    ZH_HANT = "zh_Hant"


LANGUAGE_LABELS: dict[ContentLanguage, str] = {
    ContentLanguage.EN: N_("English"),
    ContentLanguage.ZH_HANS: N_("Simplified Chinese"),
    ContentLanguage.ZH_HANT: N_("Traditional Chinese"),
}

# Messages of the rules a brief can break; the key is the PydanticCustomError type.
BRIEF_MESSAGES: dict[str, str] = {
    "age_range": N_("Ages run from {youngest} to {oldest}. Enter a whole number in that range."),
    "age_order": N_(
        "The oldest age ({age_max}) is below the youngest ({age_min}). Swap the two ages."
    ),
    "tier_range": N_("City tiers are 1 to 4 (1 = Beijing, Shanghai, ...; 4 = rural)."),
    "goals_empty": N_("Choose at least one goal: awareness, engagement, sales or video."),
    "country_without_other": N_(
        "A country name goes with the region 'Another country' only. Clear it or change the region."
    ),
    "country_length": N_("Enter the country's name in at most {limit} characters."),
    "name_empty": N_("Give the plan a name."),
    "name_length": N_("Shorten the plan's name to at most {limit} characters."),
}

# What to do about any other error of a field: a wrong type, a choice that does not exist.
FIELD_HELP: dict[str, str] = {
    "age_min": N_("Enter the youngest age as a whole number from {youngest} to {oldest}."),
    "age_max": N_("Enter the oldest age as a whole number from {youngest} to {oldest}."),
    "education": N_("Choose secondary, university or postgraduate, or leave it empty."),
    "city_tiers": N_("City tiers are whole numbers from 1 to 4."),
    "region": N_("Choose a region: mainland, hong_kong, overseas_chinese or other_country."),
    "country": N_("Enter the country's name as text, or leave it empty."),
    "devices": N_("Devices are mobile, desktop or feature_phone."),
    "goals": N_("Choose at least one goal: awareness, engagement, sales or video."),
    "languages": N_("Languages are en, zh_Hans (Simplified Chinese) or zh_Hant (Traditional)."),
    "plan_date": N_("Enter the plan date as YYYY-MM-DD, or leave it empty for today."),
    "name": N_("Give the plan a name of at most {limit} characters."),
    "brief": N_("Send the brief as an object with the audience, goals and languages."),
}
# The values the FIELD_HELP messages may mention.
_HELP_PARAMS = {"youngest": AGE_YOUNGEST, "oldest": AGE_OLDEST, "limit": PLAN_NAME_MAX_LENGTH}
UNKNOWN_FIELD_MESSAGE = N_("Unknown field {field}: remove it.")
BRIEF_INVALID_MESSAGE = N_("The brief is not valid. Correct the fields marked and try again.")


_T = TypeVar("_T")


def _unique_in_order(values: list[_T], order: list[_T]) -> list[_T]:
    """``values`` without repeats, in the canonical ``order``."""
    return [value for value in order if value in values]


class Brief(BaseModel):
    """Who the brand wants to reach, what for, and in which languages it can write."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age_min: int = Field(description=f"Youngest age of the audience, {AGE_YOUNGEST}-{AGE_OLDEST}.")
    age_max: int = Field(description="Oldest age of the audience.")
    education: Education | None = Field(None, description="Highest education, if it matters.")
    city_tiers: list[int] = Field(
        default_factory=list,
        max_length=bounds.LIST_MAX_LENGTH,
        description="City tiers 1-4; empty: any.",
    )
    region: AudienceRegion = Field(description="Where the audience lives.")
    country: str | None = Field(
        None,
        max_length=bounds.FIELD_MAX_LENGTH,
        description="The country, with region other_country.",
    )
    devices: list[Device] = Field(
        default_factory=list, max_length=bounds.LIST_MAX_LENGTH, description="Devices; empty: any."
    )
    goals: list[Goal] = Field(
        max_length=bounds.LIST_MAX_LENGTH,
        description="At least one of awareness, engagement, sales, video.",
    )
    languages: list[ContentLanguage] = Field(
        default_factory=list,
        max_length=bounds.LIST_MAX_LENGTH,
        description="Languages the brand can produce; empty: not said.",
    )
    plan_date: date | None = Field(
        None, description="The day whose reachability and figures count; empty: today."
    )

    @field_validator("age_min", "age_max")
    @classmethod
    def _age_in_range(cls, value: int, info: ValidationInfo) -> int:
        if not AGE_YOUNGEST <= value <= AGE_OLDEST:
            raise PydanticCustomError(
                "age_range",
                BRIEF_MESSAGES["age_range"],
                {"youngest": AGE_YOUNGEST, "oldest": AGE_OLDEST},
            )
        age_min = info.data.get("age_min")
        if info.field_name == "age_max" and isinstance(age_min, int) and value < age_min:
            raise PydanticCustomError(
                "age_order", BRIEF_MESSAGES["age_order"], {"age_min": age_min, "age_max": value}
            )
        return value

    @field_validator("city_tiers")
    @classmethod
    def _known_tiers(cls, value: list[int]) -> list[int]:
        if any(tier not in CITY_TIERS for tier in value):
            raise PydanticCustomError("tier_range", BRIEF_MESSAGES["tier_range"])
        return sorted(set(value))

    @field_validator("country")
    @classmethod
    def _country_with_other_region(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = (value or "").strip() or None
        if value is None:
            return None
        if len(value) > COUNTRY_MAX_LENGTH:
            raise PydanticCustomError(
                "country_length", BRIEF_MESSAGES["country_length"], {"limit": COUNTRY_MAX_LENGTH}
            )
        if info.data.get("region") not in {AudienceRegion.OTHER_COUNTRY, None}:
            raise PydanticCustomError(
                "country_without_other", BRIEF_MESSAGES["country_without_other"]
            )
        return value

    @field_validator("devices")
    @classmethod
    def _devices_once(cls, value: list[Device]) -> list[Device]:
        return _unique_in_order(value, list(Device))

    @field_validator("goals")
    @classmethod
    def _at_least_one_goal(cls, value: list[Goal]) -> list[Goal]:
        if not value:
            raise PydanticCustomError("goals_empty", BRIEF_MESSAGES["goals_empty"])
        return _unique_in_order(value, list(Goal))

    @field_validator("languages")
    @classmethod
    def _languages_once(cls, value: list[ContentLanguage]) -> list[ContentLanguage]:
        return _unique_in_order(value, list(ContentLanguage))


class BriefProblem(BaseModel):
    """One thing wrong with a brief: the field, and a translatable message with parameters."""

    model_config = ConfigDict(frozen=True)

    field: str
    message: str
    params: dict[str, Any] = Field(default_factory=dict)


class InvalidBriefError(UserError):
    """A brief (or plan) that does not validate; ``problems`` says what, field by field."""

    status_code = 422

    def __init__(self, problems: list[BriefProblem]) -> None:
        super().__init__(BRIEF_INVALID_MESSAGE)
        self.problems = problems

    def field_messages(self, gettext: Any) -> dict[str, list[str]]:
        """Each field's messages in the language of ``gettext``, without repeats."""
        messages: dict[str, list[str]] = {}
        for problem in self.problems:
            text = gettext(problem.message)
            text = text.format(**problem.params) if problem.params else text
            field_messages = messages.setdefault(problem.field, [])
            if text not in field_messages:
                field_messages.append(text)
        return messages


def brief_problems(exc: ValidationError) -> list[BriefProblem]:
    """The translatable problems behind a ``ValidationError`` of a Brief or PlanCreate."""
    problems = []
    for error in exc.errors():
        # A PlanCreate nests the brief: report its fields by their own names.
        loc = [part for part in error["loc"] if part != "brief"] or ["brief"]
        field = str(loc[0])
        if error["type"] in BRIEF_MESSAGES:
            message, params = BRIEF_MESSAGES[error["type"]], dict(error.get("ctx") or {})
        elif error["type"] == "extra_forbidden":
            message, params = UNKNOWN_FIELD_MESSAGE, {"field": field}
        else:
            message, params = FIELD_HELP.get(field, FIELD_HELP["brief"]), _HELP_PARAMS
        problems.append(BriefProblem(field=field, message=message, params=params))
    return problems


def parse_brief(raw: object) -> Brief:
    """Validate ``raw`` (a mapping) as a Brief, or raise InvalidBriefError."""
    try:
        return Brief.model_validate(raw)
    except ValidationError as exc:
        raise InvalidBriefError(brief_problems(exc)) from exc
