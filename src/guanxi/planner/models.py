"""Saved channel plans, and the schemas a plan is created and read through.

The brief lives in ``planner.brief``, the ranking's own schemas in ``planner.scoring``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.catalog.models import Goal
from guanxi.core import bounds
from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.planner.brief import (
    BRIEF_MESSAGES,
    PLAN_NAME_MAX_LENGTH,
    AudienceRegion,
    Brief,
    ContentLanguage,
    InvalidBriefError,
    brief_problems,
)
from guanxi.planner.explain import ParamValue
from guanxi.planner.scoring import Components, Gate


class Plan(Base):
    """A planner run saved in a workspace: the brief as given and the ranking it produced."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(120))
    brief: Mapped[dict[str, Any]] = mapped_column(JSON)
    recommendations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The catalog's version when the plan was made: figures change, a saved plan does not.
    catalog_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- API schemas: a plan as read, its explanations carrying their text ---------------------


class PlanCreate(BaseModel):
    """A brief to run and save under a name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        max_length=bounds.FIELD_MAX_LENGTH,
        description=f"At most {PLAN_NAME_MAX_LENGTH} characters.",
    )
    brief: Brief

    @field_validator("name")
    @classmethod
    def _sensible_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise PydanticCustomError("name_empty", BRIEF_MESSAGES["name_empty"])
        if len(value) > PLAN_NAME_MAX_LENGTH:
            raise PydanticCustomError(
                "name_length", BRIEF_MESSAGES["name_length"], {"limit": PLAN_NAME_MAX_LENGTH}
            )
        return value


def parse_plan_create(raw: object) -> PlanCreate:
    """Validate ``raw`` as a named brief to save, or raise InvalidBriefError."""
    try:
        return PlanCreate.model_validate(raw)
    except ValidationError as exc:
        raise InvalidBriefError(brief_problems(exc)) from exc


class ExplanationRead(BaseModel):
    """A reason or warning: its message id and values, and its text in the reader's language."""

    id: str
    params: dict[str, ParamValue]
    text: str


class RecommendationRead(BaseModel):
    """One platform of a plan's ranking, explained."""

    rank: int
    slug: str
    name: str  # in the reader's language
    name_en: str
    name_zh: str
    score: float = Field(ge=0, le=100)
    gate: Gate
    components: Components
    reasons: list[ExplanationRead]
    warnings: list[ExplanationRead]
    language: ExplanationRead


class LanguageAdviceRead(BaseModel):
    """What to write in for the audience, and what the brand lacks."""

    recommended: list[ContentLanguage]
    advice: list[ExplanationRead]
    warnings: list[ExplanationRead]


class PlanSummary(BaseModel):
    """A saved plan as the list shows it."""

    id: int
    name: str
    created_at: datetime
    plan_date: date
    region: AudienceRegion
    goals: list[Goal]
    catalog_version: str
    top: list[str]  # the best usable platforms' names, in the reader's language


class PlanRead(PlanSummary):
    """A saved plan with its brief, language advice and whole ranking."""

    brief: Brief
    language_advice: LanguageAdviceRead
    ranking: list[RecommendationRead]
