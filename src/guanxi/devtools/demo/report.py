"""The report part of the demo workspace: a weekly community report and a monthly executive
summary, bilingual, with a comment from the community manager; the weekly one is e-mailed
every Monday at 09:00 (Shanghai time) and has sent one report already (its files are made by
``make_demo_report_files``, which `guanxi demo` calls with the data directory)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Workspace
from guanxi.core.db import utcnow
from guanxi.core.settings import Settings
from guanxi.devtools.demo import DemoStep
from guanxi.devtools.demo.workspace import DEMO_PEOPLE
from guanxi.report import deliveries, schedules
from guanxi.report import service as reports
from guanxi.report.models import Languages, ReportDefinition, ReportFormat
from guanxi.report.periods import today_in
from guanxi.report.schedule_models import (
    DeliveryStatus,
    Frequency,
    ReportDelivery,
    ReportSchedule,
    ScheduleWrite,
)

REPORT_AUTHOR = DEMO_PEOPLE[2]  # the community manager
HEAD_OFFICE = "head.office@provence-wines.example"
DEMO_REPORTS = {
    "weekly": (
        "measure.accounts",
        (
            "Weibo carried the week; the tasting live stream on Douyin is next. "
            "微博贡献了本周大部分增长，下周重点是抖音品鉴直播。"
        ),
    ),
    "monthly": (
        "inbox.team",
        (
            "Replies stayed within the SLA through the Double 11 peak. "
            "双十一高峰期间回复仍在服务时限内。"
        ),
    ),
}


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Add the weekly and monthly reports once; reports from those templates already there
    are left as they are."""
    made = set(
        db.scalars(
            select(ReportDefinition.template).where(ReportDefinition.workspace_id == workspace.id)
        )
    )
    author = accounts.get_user_by_email(db, email=REPORT_AUTHOR.email)
    today = today_in(workspace.timezone, utcnow())
    for template, (section, comment) in DEMO_REPORTS.items():
        if template in made:
            continue
        data = reports.template_definition(template, language="en", today=today)
        data = data.model_copy(update={"comments": {section: comment}})
        reports.create_definition(db, workspace=workspace, actor=author, data=data)
    db.flush()
    weekly = db.scalars(
        select(ReportDefinition).where(
            ReportDefinition.workspace_id == workspace.id, ReportDefinition.template == "weekly"
        )
    ).first()
    if weekly is not None and not schedules.list_schedules(db, definition=weekly):
        _schedule_weekly(db, workspace=workspace, definition=weekly, now=utcnow())


def _schedule_weekly(
    db: Session, *, workspace: Workspace, definition: ReportDefinition, now: datetime
) -> None:
    """Every Monday at 09:00 to the owner and head office, and last Monday's report sent."""
    owner = accounts.get_user_by_email(db, email=DEMO_PEOPLE[0].email)
    data = ScheduleWrite(
        frequency=Frequency.WEEKLY,
        weekday=0,
        local_time=time(9, 0),
        formats=[ReportFormat.PDF, ReportFormat.XLSX],
        languages=Languages.BOTH,
        user_ids=[owner.id] if owner else [],
        outside_emails=[HEAD_OFFICE],
    )
    author = accounts.get_user_by_email(db, email=REPORT_AUTHOR.email)
    schedule = schedules.create_schedule(
        db, workspace=workspace, definition=definition, actor=author, data=data, now=now
    )
    if schedule.next_run_at is None:  # never: the schedule is active
        return
    due_at = schedule.next_run_at - timedelta(days=7)
    period = schedules.run_period(
        Frequency.WEEKLY, definition, due_at=due_at, time_zone=workspace.timezone
    )
    recipients = [*([owner.email] if owner else []), HEAD_OFFICE]
    sent = ReportDelivery(
        workspace_id=workspace.id,
        definition_id=definition.id,
        schedule_id=schedule.id,
        due_at=due_at,
        start=period.start,
        end=period.end,
        status=DeliveryStatus.SENT,
        attempts=1,
        next_attempt_at=None,
        recipients=recipients,
        sent_to=recipients,
        files=[],
        created_at=due_at,
        sent_at=due_at + timedelta(seconds=42),
    )
    db.add(sent)
    db.flush()


def make_demo_report_files(db: Session, *, workspace: Workspace, settings: Settings) -> int:
    """Make the files of the demo's sent reports that have none yet, under the data directory
    of ``settings`` (a step apart: the demo's other steps write no files); how many reports."""
    made = 0
    sent = select(ReportDelivery).where(
        ReportDelivery.workspace_id == workspace.id,
        ReportDelivery.status == DeliveryStatus.SENT,
    )
    for delivery in db.scalars(sent):
        schedule = db.get(ReportSchedule, delivery.schedule_id) if delivery.schedule_id else None
        if delivery.files or schedule is None:
            continue
        deliveries.make_files(db, delivery, schedule, settings=settings, now=utcnow())
        made += 1
    db.flush()
    return made


DEMO = DemoStep(order=90, load=load_demo)
