"""Report schedules: when each fires, in the workspace's time zone, and the period it covers.

A schedule fires at a wall-clock time in the workspace's zone; the next firing is stored in
UTC. Two rules settle the days a clock changes (a time checked by tests with Europe/Paris,
America/New_York and Asia/Shanghai):

- a time the spring change skips (02:30 in Paris on the last Sunday of March) fires as long
  after the change as it was meant to be after its start: at 03:30, once;
- a time the autumn change repeats (01:30 in New York on the first Sunday of November) fires
  once, at its first occurrence (summer time).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, User, Workspace
from guanxi.accounts.service import record_audit
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.report.models import PeriodKind, ReportDefinition, ReportFormat
from guanxi.report.periods import ReportPeriod, report_period
from guanxi.report.schedule_models import (
    MAX_SCHEDULES_PER_REPORT,
    Frequency,
    ReportDelivery,
    ReportSchedule,
    ScheduleWrite,
)

SCHEDULE_NOT_FOUND = N_("This report has no schedule with this number.")
DELIVERY_NOT_FOUND = N_("No such sent report in this workspace.")
NOT_MEMBERS = N_(
    "Some chosen people are not members of this workspace any more; choose among its members."
)
TOO_MANY = N_("A report has at most {limit} schedules; change or delete one.")
QUARTER_MONTHS = (1, 4, 7, 10)
PERIOD_OF: dict[Frequency, PeriodKind] = {
    Frequency.WEEKLY: PeriodKind.LAST_WEEK,
    Frequency.MONTHLY: PeriodKind.LAST_MONTH,
    Frequency.QUARTERLY: PeriodKind.LAST_QUARTER,
}


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``zone``, in UTC (the module's rules for the days the
    clocks change: fold 0 is the first occurrence, and a skipped time lands after the gap)."""
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _months_from(year: int, month: int) -> list[tuple[int, int]]:
    """This month and the next twelve, as (year, month)."""
    index = year * 12 + month - 1
    return [((index + n) // 12, (index + n) % 12 + 1) for n in range(13)]


def next_run(
    *,
    frequency: Frequency,
    weekday: int,
    day_of_month: int,
    local_time: time,
    time_zone: str,
    after: datetime,
) -> datetime:
    """The first firing strictly after ``after`` (UTC), in UTC.

    A monthly or quarterly day past the month's end fires on its last day (the 31st fires on
    30 April and 28 or 29 February)."""
    zone = ZoneInfo(time_zone)
    today = after.astimezone(zone).date()
    if Frequency(frequency) is Frequency.WEEKLY:
        day = today + timedelta(days=(weekday - today.weekday()) % 7)
        while (instant := local_instant(day, local_time, zone)) <= after:
            day += timedelta(days=7)
        return instant
    for year, month in _months_from(today.year, today.month):
        if Frequency(frequency) is Frequency.QUARTERLY and month not in QUARTER_MONTHS:
            continue
        instant = local_instant(_clamped(year, month, day_of_month), local_time, zone)
        if instant > after:
            return instant
    msg = "a monthly or quarterly schedule fires within thirteen months"  # unreachable
    raise AssertionError(msg)


def schedule_next_run(schedule: ReportSchedule, *, time_zone: str, after: datetime) -> datetime:
    """``schedule``'s first firing after ``after``."""
    return next_run(
        frequency=Frequency(schedule.frequency),
        weekday=schedule.weekday,
        day_of_month=schedule.day_of_month,
        local_time=schedule.local_time,
        time_zone=time_zone,
        after=after,
    )


def run_period(
    frequency: Frequency, definition: ReportDefinition, *, due_at: datetime, time_zone: str
) -> ReportPeriod:
    """The period a firing at ``due_at`` covers: the week, month or quarter just ended in the
    workspace's zone, compared as the definition compares."""
    today = due_at.astimezone(ZoneInfo(time_zone)).date()
    return report_period(PERIOD_OF[Frequency(frequency)], definition.comparison, today=today)


# --- Saved, changed, paused, deleted ------------------------------------------------------------


def list_schedules(db: Session, *, definition: ReportDefinition) -> list[ReportSchedule]:
    """``definition``'s schedules, oldest first."""
    query = select(ReportSchedule).where(ReportSchedule.definition_id == definition.id)
    return list(db.scalars(query.order_by(ReportSchedule.id)))


def get_schedule(
    db: Session, *, workspace: Workspace, definition: ReportDefinition, schedule_id: int
) -> ReportSchedule:
    """``definition``'s schedule ``schedule_id``; NotFoundError for any other."""
    schedule = db.get(ReportSchedule, schedule_id)
    if (
        schedule is None
        or schedule.workspace_id != workspace.id
        or schedule.definition_id != definition.id
    ):
        raise NotFoundError(SCHEDULE_NOT_FOUND)
    return schedule


def _apply(
    db: Session,
    schedule: ReportSchedule,
    data: ScheduleWrite,
    *,
    workspace: Workspace,
    now: datetime,
) -> None:
    user_ids = list(dict.fromkeys(data.user_ids))
    members = set(
        db.scalars(
            select(Membership.user_id).where(
                Membership.workspace_id == workspace.id, Membership.user_id.in_(user_ids)
            )
        )
    )
    if members != set(user_ids):
        raise UserError(NOT_MEMBERS)
    schedule.frequency = data.frequency
    schedule.weekday = data.weekday
    schedule.day_of_month = data.day_of_month
    schedule.local_time = data.local_time
    schedule.formats = [f.value for f in dict.fromkeys(data.formats)]
    schedule.languages = data.languages
    schedule.user_ids = user_ids
    schedule.outside_emails = list(data.outside_emails)
    schedule.active = data.active
    schedule.next_run_at = (
        schedule_next_run(schedule, time_zone=workspace.timezone, after=now)
        if data.active
        else None
    )


def _summary(schedule: ReportSchedule) -> dict[str, object]:
    return {
        "frequency": schedule.frequency,
        "time": schedule.local_time.strftime("%H:%M"),
        "formats": list(schedule.formats),
        "recipients": len(schedule.user_ids) + len(schedule.outside_emails),
        "active": schedule.active,
    }


def create_schedule(
    db: Session,
    *,
    workspace: Workspace,
    definition: ReportDefinition,
    actor: User | None,
    data: ScheduleWrite,
    now: datetime,
) -> ReportSchedule:
    """Save a new schedule for ``definition``, its next run computed, audited."""
    if len(list_schedules(db, definition=definition)) >= MAX_SCHEDULES_PER_REPORT:
        raise UserError(TOO_MANY, limit=MAX_SCHEDULES_PER_REPORT)
    schedule = ReportSchedule(
        workspace_id=workspace.id,
        definition_id=definition.id,
        created_by_id=actor.id if actor else None,
    )
    _apply(db, schedule, data, workspace=workspace, now=now)
    db.add(schedule)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action="report.schedule",
        entity_type="report_schedule",
        entity_id=schedule.id,
        workspace=workspace,
        after={"definition": definition.id, **_summary(schedule)},
    )
    return schedule


def update_schedule(
    db: Session,
    *,
    workspace: Workspace,
    schedule: ReportSchedule,
    actor: User | None,
    data: ScheduleWrite,
    now: datetime,
) -> ReportSchedule:
    """Replace ``schedule``'s fields (pausing or resuming it too), audited."""
    before = _summary(schedule)
    _apply(db, schedule, data, workspace=workspace, now=now)
    db.flush()
    action = "report.schedule_change"
    if before["active"] != schedule.active:
        action = "report.schedule_resume" if schedule.active else "report.schedule_pause"
    record_audit(
        db,
        actor=actor,
        action=action,
        entity_type="report_schedule",
        entity_id=schedule.id,
        workspace=workspace,
        before=before,
        after=_summary(schedule),
    )
    return schedule


def set_active(
    db: Session,
    *,
    workspace: Workspace,
    schedule: ReportSchedule,
    actor: User | None,
    active: bool,
    now: datetime,
) -> ReportSchedule:
    """Pause or resume ``schedule`` (a resumed one fires next at its next time after now)."""
    data = ScheduleWrite(
        frequency=schedule.frequency,
        weekday=schedule.weekday,
        day_of_month=schedule.day_of_month,
        local_time=schedule.local_time,
        formats=[ReportFormat(f) for f in schedule.formats],
        languages=schedule.languages,
        user_ids=schedule.user_ids,
        outside_emails=schedule.outside_emails,
        active=active,
    )
    return update_schedule(
        db, workspace=workspace, schedule=schedule, actor=actor, data=data, now=now
    )


def delete_schedule(
    db: Session, *, workspace: Workspace, schedule: ReportSchedule, actor: User | None
) -> None:
    """Delete ``schedule``; the reports it sent stay in the history."""
    record_audit(
        db,
        actor=actor,
        action="report.unschedule",
        entity_type="report_schedule",
        entity_id=schedule.id,
        workspace=workspace,
        before=_summary(schedule),
    )
    db.delete(schedule)
    db.flush()


def list_deliveries(
    db: Session, *, definition: ReportDefinition, limit: int = 20
) -> list[ReportDelivery]:
    """``definition``'s latest deliveries, newest first."""
    query = select(ReportDelivery).where(ReportDelivery.definition_id == definition.id)
    return list(db.scalars(query.order_by(ReportDelivery.id.desc()).limit(limit)))


def get_delivery(db: Session, *, workspace: Workspace, delivery_id: int) -> ReportDelivery:
    """The workspace's delivery ``delivery_id``; NotFoundError for another's."""
    delivery = db.get(ReportDelivery, delivery_id)
    if delivery is None or delivery.workspace_id != workspace.id:
        raise NotFoundError(DELIVERY_NOT_FOUND)
    return delivery
