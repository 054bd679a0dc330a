"""The report part of the demo workspace: a weekly community report and a monthly executive
summary, bilingual, with a comment from the community manager."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Workspace
from guanxi.core.db import utcnow
from guanxi.devtools.demo import DemoStep
from guanxi.devtools.demo.workspace import DEMO_PEOPLE
from guanxi.report import service as reports
from guanxi.report.models import ReportDefinition
from guanxi.report.periods import today_in

REPORT_AUTHOR = DEMO_PEOPLE[2]  # the community manager
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


DEMO = DemoStep(order=90, load=load_demo)
