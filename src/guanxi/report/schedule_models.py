"""Report schedules and their deliveries: a definition's report e-mailed every week, month or
quarter, and the history of every report sent, with its files kept for a retention period.

A schedule fires at a local time in the workspace's time zone; its next run is stored in UTC
(``next_run_at``, None while paused). Each firing is a delivery: the files made for the
period just ended, the addresses they went to, the attempts and the last error.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core import bounds
from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_
from guanxi.report.models import Languages, ReportFormat

MAX_RECIPIENTS = 50
MAX_SCHEDULES_PER_REPORT = 10
EMAIL_MAX_LENGTH = 254


class Frequency(StrEnum):
    """How often a schedule sends its report; each covers the period just ended."""

    WEEKLY = "weekly"  # on a weekday; covers last week (Monday to Sunday)
    MONTHLY = "monthly"  # on a day of the month; covers last month
    QUARTERLY = "quarterly"  # on a day of January, April, July, October; last quarter


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"  # waiting for its first attempt or its next one
    SENT = "sent"
    FAILED = "failed"  # every attempt failed; the owner was told


FREQUENCY_LABELS: dict[Frequency, str] = {
    Frequency.WEEKLY: N_("Every week"),
    Frequency.MONTHLY: N_("Every month"),
    Frequency.QUARTERLY: N_("Every quarter"),
}
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
DELIVERY_LABELS: dict[DeliveryStatus, str] = {
    DeliveryStatus.PENDING: N_("Sending"),
    DeliveryStatus.SENT: N_("Sent"),
    DeliveryStatus.FAILED: N_("Failed"),
}


class ReportSchedule(TimestampMixin, Base):
    """When a definition's report is e-mailed, in which formats and languages, to whom."""

    __tablename__ = "report_schedules"
    __table_args__ = (Index("ix_report_schedules_due", "active", "next_run_at"),)

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
    frequency: Mapped[Frequency] = mapped_column(String(12))
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # Monday = 0; weekly only
    day_of_month: Mapped[int] = mapped_column(Integer, default=1)  # monthly and quarterly
    local_time: Mapped[time] = mapped_column(Time)
    formats: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[Languages] = mapped_column(String(10))
    user_ids: Mapped[list[int]] = mapped_column(JSON)
    outside_emails: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ReportDelivery(Base):
    """One firing of a schedule: the report made for a period and e-mailed, with its files
    (kept under the data directory until the retention period ends) and its attempts."""

    __tablename__ = "report_deliveries"
    __table_args__ = (Index("ix_report_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    definition_id: Mapped[int] = mapped_column(
        ForeignKey("report_definitions.id", ondelete="CASCADE"), index=True
    )
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_schedules.id", ondelete="SET NULL"), default=None
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    status: Mapped[DeliveryStatus] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Each file: name, format, language, path (relative to the data directory), size, sha256.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_size: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    sent_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    files_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    files_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def expired(self) -> bool:
        """Whether the retention period deleted the files."""
        return self.files_deleted_at is not None


# --- What a schedule is made from -------------------------------------------------------------

OutsideEmail = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH)]

SCHEDULE_MESSAGES = {
    "formats_empty": N_("Choose at least one file format."),
    "recipients_empty": N_("Choose at least one member or enter an e-mail address."),
    "recipients_many": N_("A schedule sends to at most {limit} people; remove some."),
    "weekday": N_("Choose a weekday from Monday to Sunday."),
    "day_of_month": N_(
        "Choose a day of the month from 1 to 31 (a later day than the month has sends on its "
        "last day)."
    ),
}


class ScheduleWrite(BaseModel):
    """A schedule as created or replaced (the page's form and the API's body)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frequency: Frequency = Frequency.WEEKLY
    weekday: int = Field(default=0, ge=0, le=6)
    day_of_month: int = Field(default=1, ge=1, le=31)
    local_time: time = time(9, 0)
    formats: list[ReportFormat] = Field(default=[ReportFormat.PDF], max_length=4)
    languages: Languages = Languages.BOTH
    user_ids: list[bounds.DbInt] = Field(default_factory=list, max_length=bounds.LIST_MAX_LENGTH)
    outside_emails: list[OutsideEmail] = Field(
        default_factory=list, max_length=bounds.LIST_MAX_LENGTH
    )
    active: bool = True

    @field_validator("weekday", "day_of_month", mode="before")
    @classmethod
    def _day_in_range(cls, value: object, info: ValidationInfo) -> object:
        # Before the bounds: the refusal says what the day means, not only its range.
        low, high = (0, 6) if info.field_name == "weekday" else (1, 31)
        if isinstance(value, int) and not low <= value <= high:
            key = info.field_name or "day_of_month"
            raise PydanticCustomError(key, SCHEDULE_MESSAGES[key], {})
        return value

    @field_validator("local_time")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        return value.replace(second=0, microsecond=0, tzinfo=None)

    @field_validator("outside_emails")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(address.strip().lower() for address in value))

    @model_validator(mode="after")
    def _limits(self) -> ScheduleWrite:
        def refuse(key: str, **params: object) -> None:
            raise PydanticCustomError(key, SCHEDULE_MESSAGES[key], dict(params))

        if not self.formats:
            refuse("formats_empty")
        count = len(set(self.user_ids)) + len(self.outside_emails)
        if count == 0:
            refuse("recipients_empty")
        if count > MAX_RECIPIENTS:
            refuse("recipients_many", limit=MAX_RECIPIENTS)
        return self


class ScheduleRead(BaseModel):
    """A schedule as the API shows it; ``next_run_at`` is in UTC."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    definition_id: int
    frequency: Frequency
    weekday: int
    day_of_month: int
    local_time: time
    formats: list[ReportFormat]
    languages: Languages
    user_ids: list[int]
    outside_emails: list[str]
    active: bool
    next_run_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DeliveryFileRead(BaseModel):
    """One file of a delivery and the API address that downloads it (empty once expired)."""

    name: str
    format: ReportFormat
    language: str
    size: int
    download: str


class DeliveryRead(BaseModel):
    """One report sent (or being sent) by a schedule."""

    id: int
    schedule_id: int | None
    due_at: datetime
    start: date
    end: date
    status: DeliveryStatus
    attempts: int
    error: str
    recipients: list[str]
    total_size: int
    sent_at: datetime | None
    expired: bool
    files: list[DeliveryFileRead]

    @classmethod
    def of(cls, delivery: ReportDelivery, *, slug: str) -> DeliveryRead:
        """``delivery`` with the API addresses of its files."""
        root = f"/api/v1/w/{slug}/reports/deliveries/{delivery.id}/files"
        return cls(
            id=delivery.id,
            schedule_id=delivery.schedule_id,
            due_at=delivery.due_at,
            start=delivery.start,
            end=delivery.end,
            status=delivery.status,
            attempts=delivery.attempts,
            error=delivery.last_error,
            recipients=list(delivery.recipients),
            total_size=delivery.total_size,
            sent_at=delivery.sent_at,
            expired=delivery.expired,
            files=[
                DeliveryFileRead(
                    name=file["name"],
                    format=file["format"],
                    language=file["language"],
                    size=file["size"],
                    download="" if delivery.expired else f"{root}/{index}",
                )
                for index, file in enumerate(delivery.files)
            ],
        )
