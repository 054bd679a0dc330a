"""Analytics' report section: the own accounts' figures against the period compared, the
followers chart, the most read posts and the sentences that open it, in both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from guanxi.accounts.models import User, Workspace
from guanxi.connectors.metrics import Metric
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
from guanxi.measure.report_sections import accounts
from tests.conftest import UserFactory, WorkspaceFactory
from tests.report_support import narrative
from tests.test_measure_service import add_channel, add_days, add_post

WEIBO = Name("Sina Weibo", "新浪微博")


def _workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    owner: User = make_user("owner@brand.example")
    return make_workspace("brand", owner=owner)


def _query(workspace: Workspace) -> ReportQuery:
    return ReportQuery(
        workspace_id=workspace.id,
        start=date(2026, 3, 8),
        end=date(2026, 3, 14),
        compare_start=date(2026, 3, 1),
        compare_end=date(2026, 3, 7),
    )


def test_the_accounts_section_against_the_week_before(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given a Weibo account at 1,000 followers on March 7 and 1,100 on March 11 (no count
    after), two posts in the week read 6,000 times and one the week before read 4,000, then
    the section says so in English and in Chinese, with the figures, chart and table."""
    workspace = _workspace(make_user, make_workspace)
    weibo = add_channel(db, workspace, "Brand Weibo")
    add_days(
        db,
        weibo,
        date(2026, 3, 1),
        [{Metric.FOLLOWERS: 1000}] * 7 + [{Metric.FOLLOWERS: n} for n in (1025, 1050, 1075, 1100)],
    )
    add_post(db, weibo, "old", datetime(2026, 3, 3, 2, tzinfo=UTC), {Metric.VIEWS: 4000})
    add_post(
        db,
        weibo,
        "best",
        datetime(2026, 3, 9, 2, tzinfo=UTC),
        {Metric.VIEWS: 5000, Metric.LIKES: 100},
    )
    add_post(
        db,
        weibo,
        "next",
        datetime(2026, 3, 10, 2, tzinfo=UTC),
        {Metric.VIEWS: 1000, Metric.LIKES: 20},
    )
    db.commit()

    section = accounts(db, _query(workspace))

    assert section.key == "measure.accounts"
    assert section.empty is None
    assert narrative(section, "en") == [
        "Sina Weibo followers grew by 100 (10.0%) to 1,100.",
        (
            "The period's posts (2) were read 6,000 times, 50.0% more than in the period "
            "compared, and drew 120 engagements."
        ),
        "The most read post, “post best”, was read 5,000 times.",
    ]
    assert narrative(section, "zh_Hans") == [
        "新浪微博粉丝增加了 100（10.0%），达到 1,100。",
        "本期发布的帖子（2 条）阅读量为 6,000，比对比期多 50.0%，获得 120 次互动。",
        "阅读量最高的帖子“post best”被阅读 5,000 次。",
    ]
    figures = {b.key: b for b in section.blocks if isinstance(b, Figure)}
    assert figures["followers.weibo"].current == Number(1100)
    assert figures["followers.weibo"].previous == Number(1000)
    assert (figures["views"].current, figures["views"].previous) == (Number(6000), Number(4000))
    assert figures["engagements"].current == Number(120)
    assert figures["engagement_rate"].current == Number(0.02, Unit.PERCENT)
    [chart] = [b for b in section.blocks if isinstance(b, Chart)]
    assert chart.kind is ChartKind.LINE
    assert chart.categories[0] == date(2026, 3, 8)
    assert len(chart.categories) == 7
    [series] = chart.series
    assert series.values == (1025, 1050, 1075, 1100, 1100, 1100, 1100)
    assert translate(series.name, "zh_Hans") == "Brand Weibo（新浪微博）"
    tables = {b.key: b for b in section.blocks if isinstance(b, Table)}
    assert tables["per_platform"].rows == ((WEIBO, 1100, 100, 2, 6000, 120, 0.02),)
    assert tables["top_posts"].rows == (
        ("post best", WEIBO, date(2026, 3, 9), 5000, 100),
        ("post next", WEIBO, date(2026, 3, 10), 1000, 20),
    )


def test_a_fall_and_a_period_without_posts_are_said_plainly(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given followers falling from 1,000 to 950 and no post in the week, the sentences say
    the fall without a sign and that nothing was published; without a period to compare,
    the followers are stated alone."""
    workspace = _workspace(make_user, make_workspace)
    weibo = add_channel(db, workspace, "Brand Weibo")
    add_days(db, weibo, date(2026, 3, 7), [{Metric.FOLLOWERS: 1000}, {Metric.FOLLOWERS: 950}])
    db.commit()

    section = accounts(db, _query(workspace))
    alone = accounts(
        db, ReportQuery(workspace_id=workspace.id, start=date(2026, 3, 8), end=date(2026, 3, 14))
    )

    assert narrative(section, "en") == [
        "Sina Weibo followers fell by 50 (5.0%) to 950.",
        "No post was published in this period.",
    ]
    assert narrative(alone, "en")[0] == "Sina Weibo has 950 followers."
    assert narrative(alone, "zh_Hans")[0] == "新浪微博有 950 位粉丝。"
    tables = [b.key for b in section.blocks if isinstance(b, Table)]
    assert tables == ["per_platform"]  # no post: no empty table of them
    followers = next(b for b in alone.blocks if isinstance(b, Figure))
    assert followers.previous is None


def test_without_an_account_the_section_says_so(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = _workspace(make_user, make_workspace)

    section = accounts(db, _query(workspace))

    assert section.blocks == ()
    assert section.empty == Text("No account is connected, so there are no own figures to report.")
    assert translate(section.empty, "zh_Hans") == "尚未连接账号，没有我方账号数据可报告。"
