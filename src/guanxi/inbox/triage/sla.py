"""Priority and response targets: what to answer first, and when an answer is late.

Priority (0 to 3) comes from sentiment, the author's influence and crisis words in the text,
with the reasons kept. Targets (first response, resolution) are minutes, counted either
around the clock or in business hours of the workspace's time zone: business hours are
walked day by day in local time and converted to UTC per day, so a target across a
daylight-saving change or a weekend is still right.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from guanxi.core.errors import N_, UserError
from guanxi.core.upsert import upsert
from guanxi.inbox.people.influence import influence, reach_score
from guanxi.inbox.triage.models import SlaPolicy

DEFAULT_CRISIS_WORDS = (
    "投诉",
    "曝光",
    "维权",
    "起诉",
    "律师",
    "315",
    "消协",
    "食物中毒",
    "爆炸",
    "起火",
    "召回",
    "退款",
    "骗子",
    "欺诈",
)
MAX_PRIORITY = 3
MAX_TARGET_MINUTES = 60 * 24 * 30


@dataclass(frozen=True)
class SlaTargets:
    """A workspace's targets as plain data (``SlaPolicy`` plus the workspace's zone)."""

    first_response_minutes: int = 60
    resolution_minutes: int = 24 * 60
    business_hours_only: bool = False
    day_start_minute: int = 9 * 60
    day_end_minute: int = 18 * 60
    business_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    timezone: str = "Asia/Shanghai"


@lru_cache(maxsize=4096)
def _day_window(
    timezone: str, day: date, start_minute: int, end_minute: int
) -> tuple[datetime, datetime]:
    """The business window of one local day, in UTC (the inbox list asks the same few days
    for each of its 50 items)."""
    zone = ZoneInfo(timezone)
    # Local wall-clock times: the zone gives each day its own UTC offset (DST).
    opens = datetime.combine(day, time()) + timedelta(minutes=start_minute)
    closes = datetime.combine(day, time()) + timedelta(minutes=end_minute)
    return opens.replace(tzinfo=zone).astimezone(UTC), closes.replace(tzinfo=zone).astimezone(UTC)


def _windows(targets: SlaTargets, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business windows, one per open local day, from the local day of ``start`` on."""
    day: date = start.astimezone(ZoneInfo(targets.timezone)).date()
    # Enough calendar days to hold the longest target when only one day a week is open.
    for _ in range(400):
        if day.weekday() in targets.business_days:
            yield _day_window(
                targets.timezone, day, targets.day_start_minute, targets.day_end_minute
            )
        day += timedelta(days=1)


def add_minutes(targets: SlaTargets, start: datetime, minutes: int) -> datetime:
    """The moment ``minutes`` of counted time after ``start`` (aware datetimes)."""
    if not targets.business_hours_only or not targets.business_days:
        return start + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    for opens, closes in _windows(targets, start):
        begin = max(opens, start)
        if begin >= closes:
            continue
        available = closes - begin
        if left <= available:
            return begin + left
        left -= available
    return start + timedelta(minutes=minutes)  # not reached with sane hours


def counted_minutes(targets: SlaTargets, start: datetime, end: datetime) -> float:
    """Counted time between ``start`` and ``end``, in minutes (0 when ``end`` is earlier)."""
    if end <= start:
        return 0.0
    if not targets.business_hours_only or not targets.business_days:
        return (end - start).total_seconds() / 60
    total = timedelta()
    for opens, closes in _windows(targets, start):
        if opens >= end:
            break
        begin, finish = max(opens, start), min(closes, end)
        if finish > begin:
            total += finish - begin
    return total.total_seconds() / 60


@dataclass(frozen=True)
class SlaState:
    """Where an item stands against the targets."""

    first_response_due: datetime
    resolution_due: datetime
    first_response_breached: bool
    resolution_breached: bool

    @property
    def breached(self) -> bool:
        """Whether any target was missed."""
        return self.first_response_breached or self.resolution_breached


class Timed(Protocol):
    """What the targets read of an item (an ``InboxItem``, or a line of the list)."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...


def sla_state(targets: SlaTargets, item: Timed, *, now: datetime) -> SlaState:
    """The item's due times and whether they were missed (answered late, or still open)."""
    first_due = add_minutes(targets, item.created_at, targets.first_response_minutes)
    resolution_due = add_minutes(targets, item.created_at, targets.resolution_minutes)
    responded = item.first_response_at or now
    resolved = item.resolved_at or now
    return SlaState(
        first_response_due=first_due,
        resolution_due=resolution_due,
        first_response_breached=responded > first_due,
        resolution_breached=resolved > resolution_due,
    )


def get_targets(db: Session, *, workspace_id: int, timezone: str) -> SlaTargets:
    """The workspace's targets (the defaults until someone saves them)."""
    policy = db.get(SlaPolicy, workspace_id)
    if policy is None:
        return SlaTargets(timezone=timezone)
    return SlaTargets(
        first_response_minutes=policy.first_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        business_hours_only=policy.business_hours_only,
        day_start_minute=policy.day_start_minute,
        day_end_minute=policy.day_end_minute,
        business_days=frozenset(policy.business_days),
        timezone=timezone,
    )


class InvalidTargetsError(UserError):
    """SLA settings that cannot work."""


def save_targets(
    db: Session,
    *,
    workspace_id: int,
    first_response_minutes: int,
    resolution_minutes: int,
    business_hours_only: bool,
    day_start_minute: int,
    day_end_minute: int,
    business_days: list[int],
    crisis_words: list[str],
) -> SlaPolicy:
    """Validate and store the workspace's targets."""
    for minutes in (first_response_minutes, resolution_minutes):
        if not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise InvalidTargetsError(
                N_("Targets are between 1 minute and {limit} minutes (30 days)."),
                limit=MAX_TARGET_MINUTES,
            )
    if resolution_minutes < first_response_minutes:
        raise InvalidTargetsError(
            N_("The resolution target must not be shorter than the first-response target.")
        )
    if not 0 <= day_start_minute < day_end_minute <= 24 * 60:
        raise InvalidTargetsError(N_("Business hours must end after they start, within a day."))
    days = sorted({day for day in business_days if 0 <= day <= 6})
    if business_hours_only and not days:
        raise InvalidTargetsError(N_("Choose at least one business day."))
    targets = {
        "first_response_minutes": first_response_minutes,
        "resolution_minutes": resolution_minutes,
        "business_hours_only": business_hours_only,
        "day_start_minute": day_start_minute,
        "day_end_minute": day_end_minute,
        "business_days": days,
        "crisis_words": [word.strip() for word in crisis_words if word.strip()][:500],
    }
    # One statement: two managers saving the first targets at once both succeed.
    upsert(
        db,
        SlaPolicy,
        {"workspace_id": workspace_id, **targets},
        unique=["workspace_id"],
        update=list(targets),
    )
    return db.get_one(SlaPolicy, workspace_id, populate_existing=True)


@dataclass(frozen=True)
class Priority:
    """A priority from 0 (low) to 3 (urgent) and why."""

    level: int
    reasons: tuple[str, ...] = field(default_factory=tuple)


def priority_level(
    *,
    text: str,
    sentiment: str | None,
    followers: int | None,
    verified_type: int | None,
    crisis_words: tuple[str, ...] = DEFAULT_CRISIS_WORDS,
) -> int:
    """``priority_for(...).level`` without the reasons (ingest works it out per item)."""
    level = 1 if sentiment == "negative" else 0
    if reach_score(followers=followers, verified_type=verified_type) >= 50:
        level += 1
    if any(word and word in text for word in crisis_words):
        level += 2
    return min(level, MAX_PRIORITY)


def priority_for(
    *,
    text: str,
    sentiment: str | None,
    followers: int | None,
    verified_type: int | None,
    crisis_words: tuple[str, ...] = DEFAULT_CRISIS_WORDS,
) -> Priority:
    """The priority of an item: +1 negative, +1 influential author (score ≥ 50), +2 crisis
    word; capped at 3. Reasons are message ids."""
    level = 0
    reasons = []
    if sentiment == "negative":
        level += 1
        reasons.append(N_("Negative sentiment"))
    if influence(followers=followers, verified_type=verified_type).score >= 50:
        level += 1
        reasons.append(N_("Influential author"))
    if any(word and word in text for word in crisis_words):
        level += 2
        reasons.append(N_("Crisis word"))
    return Priority(level=min(level, MAX_PRIORITY), reasons=tuple(reasons))
