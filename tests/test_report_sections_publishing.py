"""Publishing's report section: posts published per platform against the period compared,
the share on time, the failures, one campaign's alone, in both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.errors import NotFoundError
from guanxi.core.report import Chart, ChartKind, Figure, Name, Number, ReportQuery, Unit
from guanxi.publishing.models import VariantState
from guanxi.publishing.report_sections import posts
from guanxi.report.words import translate
from tests.conftest import UserFactory, WorkspaceFactory
from tests.report_support import narrative
from tests.test_calendar import add_campaign, add_channel, add_variant

PUBLISHED = VariantState.PUBLISHED


def _query(workspace: Workspace, campaign_id: int | None = None) -> ReportQuery:
    return ReportQuery(
        workspace_id=workspace.id,
        start=date(2026, 3, 8),
        end=date(2026, 3, 14),
        compare_start=date(2026, 3, 1),
        compare_end=date(2026, 3, 7),
        campaign_id=campaign_id,
    )


def _at(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("brand", owner=make_user("owner@brand.example"))


def test_the_publishing_section_against_the_week_before(db: Session, workspace: Workspace) -> None:
    """Given, this week, three Weibo posts out (one late), one failed and a Douyin post of a
    campaign, and two Weibo posts the week before (and one the Saturday after, outside),
    then the section counts them per platform and says so in English and Chinese; the
    campaign's section counts its post alone."""
    weibo = add_channel(db, workspace, platform="weibo")
    douyin = add_channel(db, workspace, platform="douyin")
    spring = add_campaign(db, workspace, "Spring", "#c0392b")
    for day in (8, 9, 10):
        add_variant(db, weibo, at=_at(day), state=PUBLISHED, published=True)
    add_variant(db, weibo, at=_at(11), state=PUBLISHED, published=True).late = True
    add_variant(db, weibo, at=_at(8), state=PUBLISHED, published=False)  # no time: not counted
    add_variant(db, weibo, at=_at(12), state=VariantState.FAILED)
    add_variant(db, douyin, at=_at(13), state=PUBLISHED, published=True, campaign=spring)
    for day in (2, 5):
        add_variant(db, weibo, at=_at(day), state=PUBLISHED, published=True)
    # 2026-03-14 16:30 UTC is already March 15 in Shanghai.
    add_variant(
        db, weibo, at=datetime(2026, 3, 14, 16, 30, tzinfo=UTC), state=PUBLISHED, published=True
    )
    db.commit()

    section = posts(db, _query(workspace))
    campaign = posts(db, _query(workspace, spring.id))

    assert narrative(section, "en") == [
        "Posts published: 5, 150.0% more than in the period compared.",
        "80.0% of them went out on time (4).",
        "1 failed to publish: each post's page says why.",
    ]
    assert narrative(section, "zh_Hans") == [
        "发布帖子：5 条，比对比期多 150.0%。",
        "其中 80.0% 按时发出（4 条）。",
        "1 条发布失败：原因见各帖子页面。",
    ]
    figures = {b.key: b for b in section.blocks if isinstance(b, Figure)}
    assert (figures["published"].current, figures["published"].previous) == (Number(5), Number(2))
    assert figures["on_time"].current == Number(0.8, Unit.PERCENT)
    assert figures["on_time"].previous == Number(1.0, Unit.PERCENT)
    assert figures["failed"].current == Number(1)
    assert figures["failed"].higher_is_better is False
    [chart] = [b for b in section.blocks if isinstance(b, Chart)]
    assert chart.kind is ChartKind.BAR
    assert chart.categories == (Name("Douyin", "抖音"), Name("Sina Weibo", "新浪微博"))
    assert [s.values for s in chart.series] == [(1.0, 4.0), (0.0, 2.0)]
    assert narrative(campaign, "en") == [
        "These are the posts of the campaign “Spring”.",
        "Posts published: 1.",
        "100.0% of them went out on time (1).",
        "None failed to publish.",
    ]
    assert narrative(campaign, "zh_Hans")[-1] == "没有发布失败的帖子。"


def test_nothing_published_and_another_workspaces_campaign(
    db: Session,
    workspace: Workspace,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    rival = make_workspace("rival", owner=make_user("rival@brand.example"))
    theirs = add_campaign(db, rival, "Theirs", "#000000")
    db.commit()

    section = posts(db, _query(workspace))

    assert section.empty is not None
    assert translate(section.empty, "zh_Hans") == "本期没有发布帖子。"
    with pytest.raises(NotFoundError):
        posts(db, _query(workspace, theirs.id))
