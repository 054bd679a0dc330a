"""The inbox's report section: items received per platform and kind against the period
compared, first-response and resolution times against the targets, per person, in both
languages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from guanxi.accounts.models import Role, User
from guanxi.channels.models import Channel
from guanxi.core.report import (
    Chart,
    ChartKind,
    Figure,
    Name,
    Number,
    ReportQuery,
    Table,
    Text,
    Unit,
)
from guanxi.core.report_text import translate
from guanxi.inbox.items.models import ItemKind
from guanxi.inbox.triage.report_sections import team
from guanxi.inbox.triage.sla import SlaTargets
from guanxi.inbox.triage.team_report import figures
from tests.conftest import UserFactory, WorkspaceFactory
from tests.inbox_ui_support import make_channel, make_item
from tests.report_support import narrative


def test_the_inbox_section_against_the_targets(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given the default targets (first answer in 1 h, resolution in 1 d) and, this week,
    four items: Li Na's answered in 30 min and 90 min and resolved in 2 h and 30 h, an
    unassigned mention answered in 10 min, Wang's Douyin message unanswered; and two items
    the week before, then the section reads those figures in English and Chinese."""
    li = make_user("li@brand.example", name="Li Na")
    wang = make_user("wang@brand.example", name="Wang")
    workspace = make_workspace("brand", owner=li, members={wang: Role.EDITOR})
    weibo, douyin = make_channel(db, workspace), make_channel(db, workspace, platform="douyin")

    def item(
        channel: Channel,
        day: int,
        answered: int | None,
        resolved: int | None,
        kind: ItemKind = ItemKind.COMMENT,
        assignee: User | None = None,
    ) -> None:
        created = datetime(2026, 3, day, 2, tzinfo=UTC)
        found = make_item(db, channel, "好喝", created_at=created, kind=kind)
        found.assignee_id = assignee.id if assignee else None
        if answered is not None:
            found.first_response_at = created + timedelta(minutes=answered)
        if resolved is not None:
            found.resolved_at = created + timedelta(minutes=resolved)

    item(weibo, 10, 30, 120, assignee=li)
    item(weibo, 10, 90, 30 * 60, assignee=li)
    item(weibo, 11, 10, None, kind=ItemKind.MENTION)
    item(douyin, 12, None, None, kind=ItemKind.MESSAGE, assignee=wang)
    item(weibo, 3, 5, 5)
    item(weibo, 4, None, None)
    db.commit()

    section = team(
        db,
        ReportQuery(
            workspace_id=workspace.id,
            start=date(2026, 3, 9),
            end=date(2026, 3, 15),
            compare_start=date(2026, 3, 2),
            compare_end=date(2026, 3, 8),
        ),
    )

    assert narrative(section, "en") == [
        "Comments, mentions and messages received: 4, 100.0% more than in the period compared.",
        "Half were first answered within 30 min; 50.0% within the target of 1 h.",
        "Resolved: 2, half of them within 2 h; 25.0% within the target of 1 d.",
    ]
    assert narrative(section, "zh_Hans") == [
        "收到评论、提及和私信：4 条，比对比期多 100.0%。",
        "一半在 30 分钟内得到首次回复；50.0% 在目标时限 1 小时内。",
        "已解决：2 条，其中一半在 2 小时内解决；25.0% 在目标时限 1 天内。",
    ]
    figures = {b.key: b for b in section.blocks if isinstance(b, Figure)}
    assert (figures["volume"].current, figures["volume"].previous) == (Number(4), Number(2))
    assert figures["first_response_p50"].current == Number(1800, Unit.DURATION)
    assert figures["first_response_p50"].previous == Number(300, Unit.DURATION)
    assert figures["first_response_p50"].higher_is_better is False
    assert figures["first_response_met"].current == Number(0.5, Unit.PERCENT)
    assert figures["resolution_met"].previous == Number(0.5, Unit.PERCENT)
    [chart] = [b for b in section.blocks if isinstance(b, Chart)]
    assert chart.kind is ChartKind.STACKED_BAR
    assert chart.categories == (Name("Sina Weibo", "新浪微博"), Name("Douyin", "抖音"))
    assert [(translate(s.name, "en"), s.values) for s in chart.series] == [
        ("Comment", (2.0, 0.0)),
        ("Mention", (1.0, 0.0)),
        ("Private message", (0.0, 1.0)),
    ]
    [table] = [b for b in section.blocks if isinstance(b, Table)]
    assert table.rows == (
        ("Li Na", 2, 2, 1800.0, 5400.0, 7200.0, 0.5),
        ("Wang", 1, 0, None, None, None, 0.0),
        (Text("Unassigned"), 1, 0, 600.0, 600.0, None, 1.0),
    )


def test_an_empty_inbox_says_so(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("brand", owner=make_user("li@brand.example"))
    make_item(db, make_channel(db, workspace), "早", created_at=datetime(2026, 3, 1, tzinfo=UTC))
    db.commit()

    section = team(
        db, ReportQuery(workspace_id=workspace.id, start=date(2026, 3, 9), end=date(2026, 3, 15))
    )

    assert section.empty is not None
    assert (
        translate(section.empty, "en") == "No comment, mention or message arrived in this period."
    )
    assert translate(section.empty, "zh_Hans") == "本期没有收到评论、提及或私信。"


def test_business_hours_count_only_the_open_hours() -> None:
    """Given targets in business hours (9:00-18:00 Shanghai, Monday to Friday, first answer
    in 60 min), an item of Friday 17:30 answered on Monday at 9:20 met the target (50 open
    minutes), one answered at 9:40 did not (70), and one answered in 5 minutes did."""
    targets = SlaTargets(business_hours_only=True)
    friday = datetime(2026, 3, 6, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
    monday = datetime(2026, 3, 9, 1, tzinfo=UTC)  # 9:00 in Shanghai

    found = figures(
        [
            (friday, monday + timedelta(minutes=20), None),
            (friday, monday + timedelta(minutes=40), None),
            (monday, monday + timedelta(minutes=5), None),
        ],
        targets,
    )

    assert found.first_response_met == 2
    assert figures([(friday, monday, None)]).first_response_met is None  # no targets given
