"""Listening's report section: the volume against the period compared, sentiment, share of
voice, kinds of source, journey stages, top posts and authors, alerts, in both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

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
from guanxi.listening.alerts.models import Alert, AlertRule
from guanxi.listening.insight.report_sections import mentions
from tests.conftest import UserFactory, WorkspaceFactory
from tests.report_support import narrative
from tests.test_listening_dashboards import World

WEIBO = Name("Sina Weibo", "新浪微博")


def test_the_listening_section_against_the_week_before(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given the dashboards' world (two mentions on November 20, three on the 21st, a brand
    and a competitor) and a volume alert on the 22nd, then the week from the 21st reads
    its figures against the week to the 20th in English and Chinese."""
    world = World(db, make_workspace("acme", owner=make_user("owner@acme.example")))
    rule = AlertRule(workspace_id=world.workspace.id, topic_id=world.star.id)
    db.add(rule)
    db.flush()
    fired = datetime(2026, 11, 22, 8, tzinfo=UTC)
    db.add(
        Alert(
            workspace_id=world.workspace.id,
            rule_id=rule.id,
            topic_id=world.star.id,
            metric="volume",
            fired_at=fired,
            window_start=fired - timedelta(hours=6),
            window_end=fired,
            baseline_value=1.0,
            current_value=5.0,
            current_mentions=5,
        )
    )
    db.commit()

    section = mentions(
        db,
        ReportQuery(
            workspace_id=world.workspace.id,
            start=date(2026, 11, 21),
            end=date(2026, 11, 27),
            compare_start=date(2026, 11, 14),
            compare_end=date(2026, 11, 20),
        ),
    )

    assert narrative(section, "en") == [
        "Mentions: 3, 50.0% more than in the period compared.",
        "66.7% of them were positive and 0.0% negative.",
        "Starbucks had 50.0% of the voice among the brands followed.",
    ]
    assert narrative(section, "zh_Hans") == [
        "提及：3 条，比对比期多 50.0%。",
        "其中 66.7% 为正面，0.0% 为负面。",
        "在关注的品牌中，Starbucks 的声量份额为 50.0%。",
    ]
    figures = {b.key: b for b in section.blocks if isinstance(b, Figure)}
    assert (figures["mentions"].current, figures["mentions"].previous) == (Number(3), Number(2))
    assert figures["negative_share"].previous == Number(0.5, Unit.PERCENT)
    assert figures["share_of_voice"].previous == Number(0.6667, Unit.PERCENT)
    assert (figures["alerts"].current, figures["alerts"].previous) == (Number(1), Number(0))
    charts = {b.key: b for b in section.blocks if isinstance(b, Chart)}
    assert charts["volume"].kind is ChartKind.LINE
    assert charts["volume"].series[0].values == (3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert charts["sentiment"].kind is ChartKind.PIE
    assert [translate(c, "zh_Hans") for c in charts["sentiment"].categories] == [  # type: ignore[arg-type]
        "正面",
        "中性",
        "负面",
    ]
    assert charts["sentiment"].series[0].values == (2.0, 1.0, 0.0)
    assert charts["share_of_voice"].categories == ("Starbucks", "Luckin")
    assert charts["source_kinds"].series[0].values == (3.0, 0.0, 0.0)
    assert charts["journey_stages"].series[0].values == (0.0, 0.0, 0.0, 1.0, 0.0)
    tables = {b.key: b for b in section.blocks if isinstance(b, Table)}
    assert [row[0] for row in tables["top_posts"].rows] == [
        "今天买了瑞幸",
        "Starbucks new cup",
        "天气不错",
    ]
    assert tables["top_authors"].rows == (("小王", WEIBO, 120, 1),)
    assert tables["alerts"].rows == (
        (date(2026, 11, 22), "Starbucks", Text("Volume of mentions"), 5),
    )


def test_a_quiet_period_says_so(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    world = World(db, make_workspace("acme", owner=make_user("owner@acme.example")))
    db.commit()

    section = mentions(
        db,
        ReportQuery(
            workspace_id=world.workspace.id, start=date(2026, 12, 1), end=date(2026, 12, 7)
        ),
    )

    assert section.blocks == ()
    assert section.empty is not None
    assert translate(section.empty, "zh_Hans") == "本期没有提及。"
