"""Report definitions, the files made from them, their share links, and the schemas the
pages and the API read and write them through.

A definition says what a report shows (its sections, in order, with the manager's comment
on each) and for which period; a run is one report made from it, kept as a file under the
data directory; a share link shows a definition's report read-only to someone without an
account, for a limited time.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guanxi.core import bounds
from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_, UserError

TITLE_MAX_LENGTH = 120
MAX_SECTIONS = 30
COMMENT_MAX_LENGTH = 2_000
SECTION_KEY_MAX_LENGTH = 80
# A custom period of at most two years: longer is a mistake, and each section reads it all.
MAX_PERIOD_DAYS = 731
SHARE_MAX_DAYS = 90

SectionKeyText = Annotated[str, Field(max_length=bounds.FIELD_MAX_LENGTH)]
CommentText = Annotated[str, Field(max_length=bounds.TEXT_MAX_LENGTH)]


class PeriodKind(StrEnum):
    """Which days a report covers, counted back from the day it is made."""

    LAST_WEEK = "last_week"  # Monday to Sunday, the week before this one
    LAST_MONTH = "last_month"
    LAST_QUARTER = "last_quarter"
    CUSTOM = "custom"  # the definition's own dates


class Comparison(StrEnum):
    """The period a report's figures are compared to."""

    PREVIOUS_PERIOD = "previous_period"
    SAME_PERIOD_LAST_YEAR = "same_period_last_year"
    NONE = "none"


class Languages(StrEnum):
    """The languages a report is made in ("both": one file each)."""

    EN = "en"
    ZH_HANS = "zh_Hans"
    BOTH = "both"

    def codes(self) -> tuple[str, ...]:
        """The report languages this choice means."""
        return ("en", "zh_Hans") if self is Languages.BOTH else (self.value,)


class ReportFormat(StrEnum):
    """The files a report is made as."""

    HTML = "html"
    PDF = "pdf"
    PPTX = "pptx"
    XLSX = "xlsx"


class RunStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"


PERIOD_LABELS: dict[PeriodKind, str] = {
    PeriodKind.LAST_WEEK: N_("Last week"),
    PeriodKind.LAST_MONTH: N_("Last month"),
    PeriodKind.LAST_QUARTER: N_("Last quarter"),
    PeriodKind.CUSTOM: N_("Custom dates"),
}
COMPARISON_LABELS: dict[Comparison, str] = {
    Comparison.PREVIOUS_PERIOD: N_("The period before"),
    Comparison.SAME_PERIOD_LAST_YEAR: N_("The same period last year"),
    Comparison.NONE: N_("No comparison"),
}
LANGUAGE_LABELS: dict[Languages, str] = {
    Languages.EN: N_("English"),
    Languages.ZH_HANS: N_("Simplified Chinese"),
    Languages.BOTH: N_("English and Chinese"),
}
FORMAT_TYPES: dict[ReportFormat, str] = {
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ReportDefinition(TimestampMixin, Base):
    """What a workspace's report shows, for which period, in which languages."""

    __tablename__ = "report_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    template: Mapped[str] = mapped_column(String(40))  # the template it was made from
    period_kind: Mapped[PeriodKind] = mapped_column(String(20))
    custom_start: Mapped[date | None] = mapped_column(Date, default=None)
    custom_end: Mapped[date | None] = mapped_column(Date, default=None)
    comparison: Mapped[Comparison] = mapped_column(String(30))
    languages: Mapped[Languages] = mapped_column(String(10))
    section_keys: Mapped[list[str]] = mapped_column(JSON)  # in the order shown
    comments: Mapped[dict[str, str]] = mapped_column(JSON)  # section key -> comment
    # A section without data is shown saying so (True) or left out (False).
    include_empty: Mapped[bool] = mapped_column(Boolean, default=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer, default=None)


class ReportRun(Base):
    """One report made from a definition: its period, language, format and file."""

    __tablename__ = "report_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("report_definitions.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    compare_start: Mapped[date | None] = mapped_column(Date, default=None)
    compare_end: Mapped[date | None] = mapped_column(Date, default=None)
    language: Mapped[str] = mapped_column(String(10))
    format: Mapped[ReportFormat] = mapped_column(String(10))
    status: Mapped[RunStatus] = mapped_column(String(10))
    error: Mapped[str] = mapped_column(Text, default="")
    # Relative to the data directory: reports/<workspace id>/<file>.
    file_path: Mapped[str] = mapped_column(String(300), default="")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    definition: Mapped[ReportDefinition] = relationship()


class ReportShare(Base):
    """A read-only link to a definition's report; only the token's digest is stored."""

    __tablename__ = "report_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("report_definitions.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    definition: Mapped[ReportDefinition] = relationship()

    def active(self, now: datetime) -> bool:
        """Whether the link still opens: not revoked, not expired."""
        return self.revoked_at is None and now < self.expires_at


# --- What a definition is made from ---------------------------------------------------------


class InvalidDefinitionError(UserError):
    """A definition that cannot be saved; the message says which field and what to do."""

    status_code = 422

    def __init__(self, field: str, key: str, **params: object) -> None:
        super().__init__(DEFINITION_MESSAGES.get(key, key), **params)
        self.field = field
        self.key = key


DEFINITION_MESSAGES = {
    "title_empty": N_("Give the report a title."),
    "title_length": N_("A report's title is at most {limit} characters."),
    "sections_empty": N_("Choose at least one section."),
    "sections_many": N_("A report has at most {limit} sections; leave some out."),
    "section_key": N_("A section key is at most {limit} characters."),
    "comment_length": N_("A section's comment is at most {limit} characters; shorten it."),
    "custom_dates": N_("Custom dates need a first and a last day."),
    "dates_order": N_("The last day comes before the first; swap them."),
    "period_length": N_("A report covers at most {limit} days; choose a shorter period."),
}


class DefinitionWrite(BaseModel):
    """A report definition as created or replaced (the page's form and the API's body)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(max_length=bounds.FIELD_MAX_LENGTH)
    template: str = Field("custom", max_length=40)
    period_kind: PeriodKind = PeriodKind.LAST_WEEK
    custom_start: date | None = None
    custom_end: date | None = None
    comparison: Comparison = Comparison.PREVIOUS_PERIOD
    languages: Languages = Languages.BOTH
    section_keys: list[SectionKeyText] = Field(max_length=bounds.LIST_MAX_LENGTH)
    comments: dict[SectionKeyText, CommentText] = Field(
        default_factory=dict, max_length=bounds.LIST_MAX_LENGTH
    )
    include_empty: bool = True
    campaign_id: bounds.DbInt | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return " ".join(value.split())

    @model_validator(mode="after")
    def _limits(self) -> DefinitionWrite:
        try:
            check_definition(self)
        except InvalidDefinitionError as exc:
            # A validation error as every body's: the API's 422 lists it with its field.
            context = {**exc.params, "field": exc.field}
            raise PydanticCustomError(exc.key, exc.message, context) from None
        return self


def check_definition(data: DefinitionWrite) -> None:
    """Raise InvalidDefinitionError for the first limit ``data`` breaks."""

    def refuse(field: str, key: str, **params: object) -> None:
        raise InvalidDefinitionError(field, key, **params)

    if not data.title:
        refuse("title", "title_empty")
    if len(data.title) > TITLE_MAX_LENGTH:
        refuse("title", "title_length", limit=TITLE_MAX_LENGTH)
    if not data.section_keys:
        refuse("section_keys", "sections_empty")
    if len(data.section_keys) > MAX_SECTIONS:
        refuse("section_keys", "sections_many", limit=MAX_SECTIONS)
    if any(len(key) > SECTION_KEY_MAX_LENGTH for key in [*data.section_keys, *data.comments]):
        refuse("section_keys", "section_key", limit=SECTION_KEY_MAX_LENGTH)
    if any(len(comment) > COMMENT_MAX_LENGTH for comment in data.comments.values()):
        refuse("comments", "comment_length", limit=COMMENT_MAX_LENGTH)
    if data.period_kind is PeriodKind.CUSTOM:
        if data.custom_start is None or data.custom_end is None:
            refuse("custom_start", "custom_dates")
        elif data.custom_end < data.custom_start:
            refuse("custom_end", "dates_order")
        elif (data.custom_end - data.custom_start).days + 1 > MAX_PERIOD_DAYS:
            refuse("custom_end", "period_length", limit=MAX_PERIOD_DAYS)


class DefinitionRead(BaseModel):
    """A report definition as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    template: str
    period_kind: PeriodKind
    custom_start: date | None
    custom_end: date | None
    comparison: Comparison
    languages: Languages
    section_keys: list[str]
    comments: dict[str, str]
    include_empty: bool
    campaign_id: int | None
    created_at: datetime
    updated_at: datetime


class RunCreate(BaseModel):
    """Make a report now: the definition's current period unless dates are given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: ReportFormat = ReportFormat.HTML
    language: Languages = Languages.EN
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _one_language(self) -> RunCreate:
        if self.language is Languages.BOTH:
            msg = "a run is made in one language: en or zh_Hans"
            raise ValueError(msg)
        if (self.start is None) != (self.end is None):
            msg = "give both start and end, or neither"
            raise ValueError(msg)
        return self


class RunRead(BaseModel):
    """A report made from a definition, and where its file is."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    definition_id: int
    start: date
    end: date
    compare_start: date | None
    compare_end: date | None
    language: str
    format: ReportFormat
    status: RunStatus
    error: str
    file_size: int
    sha256: str
    created_at: datetime
    download: str = ""

    @classmethod
    def of(cls, run: ReportRun, *, slug: str) -> RunRead:
        """``run`` with the API address of its file."""
        read = cls.model_validate(run)
        address = f"/api/v1/w/{slug}/reports/runs/{run.id}/file"
        return read.model_copy(update={"download": address if run.file_path else ""})


def definition_values(definition: ReportDefinition) -> dict[str, Any]:
    """A definition's fields as ``DefinitionWrite`` takes them (to change one field)."""
    return {
        "title": definition.title,
        "template": definition.template,
        "period_kind": definition.period_kind,
        "custom_start": definition.custom_start,
        "custom_end": definition.custom_end,
        "comparison": definition.comparison,
        "languages": definition.languages,
        "section_keys": list(definition.section_keys),
        "comments": dict(definition.comments),
        "include_empty": definition.include_empty,
        "campaign_id": definition.campaign_id,
    }
