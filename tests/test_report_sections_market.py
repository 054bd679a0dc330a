"""The market's report section: a tracked app's reach in the top 10 against the period
compared, that reach day by day, and the period's movers, in both languages."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from guanxi.core.report import Chart, Figure, Name, Number, ReportQuery, Table
from guanxi.core.report_text import translate
from guanxi.market.report_sections import ranks
from guanxi.market.service import track_app
from tests.conftest import UserFactory, WorkspaceFactory
from tests.market_support import chart, dataset_with, small_market
from tests.report_support import narrative

ITALY = Name("Italy", "意大利")


def test_the_market_section_against_the_week_before(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given WeChat second in Italy and not charted in Argentina on March 7 and 8, then
    first in both on March 14, the week from the 8th reads its reach (2 countries against
    1) and WeChat as the biggest riser."""
    workspace = make_workspace("brand", owner=make_user("owner@brand.example"))
    before = ["line", "wechat", "whatsapp"]
    dataset_with(
        db,
        workspace,
        [
            chart("IT", date(2026, 3, 7), before),
            chart("AR", date(2026, 3, 7), ["line", "whatsapp"]),
            chart("IT", date(2026, 3, 8), before),
            chart("AR", date(2026, 3, 8), ["line", "whatsapp"]),
            chart("IT", date(2026, 3, 14), ["wechat", "line", "whatsapp"]),
            chart("AR", date(2026, 3, 14), ["wechat", "line", "whatsapp"]),
        ],
    )
    track_app(db, workspace=workspace, app_key="wechat", name="WeChat")
    db.commit()

    section = ranks(
        db,
        ReportQuery(
            workspace_id=workspace.id,
            start=date(2026, 3, 8),
            end=date(2026, 3, 14),
            compare_start=date(2026, 3, 1),
            compare_end=date(2026, 3, 7),
        ),
    )

    assert narrative(section, "en") == [
        "Chart: Google Play, Top free.",
        "WeChat was in the top 10 in 2 countries on 2026-03-14, against 1 on 2026-03-07.",
        "The biggest riser was Wechat in Italy, from #2 to #1.",
    ]
    assert narrative(section, "zh_Hans")[1:] == [
        "2026-03-14，WeChat 在 2 个国家进入前 10 名（2026-03-07 为 1 个）。",
        "升幅最大的是 Wechat 在意大利，从第 2 名升至第 1 名。",
    ]
    [figure] = [b for b in section.blocks if isinstance(b, Figure)]
    assert (figure.current, figure.previous) == (Number(2), Number(1))
    [reach] = [b for b in section.blocks if isinstance(b, Chart)]
    assert reach.categories == (date(2026, 3, 8), date(2026, 3, 14))
    assert reach.series[0].values == (1.0, 2.0)
    tables = {b.key: b for b in section.blocks if isinstance(b, Table)}
    assert tables["risers"].rows == (("Wechat", ITALY, 2, 1, 1),)
    assert [row[:2] for row in tables["fallers"].rows] == [
        ("Line", Name("Argentina", "阿根廷")),
        ("Line", ITALY),
        ("Whatsapp", Name("Argentina", "阿根廷")),
    ]


def test_without_charts_the_section_says_so(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("brand", owner=make_user("owner@brand.example"))

    section = ranks(
        db, ReportQuery(workspace_id=workspace.id, start=date(2026, 3, 8), end=date(2026, 3, 14))
    )

    assert section.empty is not None
    assert translate(section.empty, "zh_Hans") == "本期没有记录应用商店榜单。"


def test_a_campaign_in_the_period_shows_its_estimated_effect(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given the small market (three countries, a WeChat campaign in Italy from July 27,
    2013), the week to July 27 has the campaign's figure, which says why no estimate could be
    made with two control countries, in both languages."""
    workspace = make_workspace("brand", owner=make_user("owner@brand.example"))
    small_market(db, workspace)

    section = ranks(
        db, ReportQuery(workspace_id=workspace.id, start=date(2013, 7, 21), end=date(2013, 7, 27))
    )

    [effect] = [b for b in section.blocks if isinstance(b, Figure) and b.key.startswith("effect.")]
    assert translate(effect.label, "en") == "Small push: places gained in the chart"
    assert effect.current == Number(None)
    assert effect.note is not None
    assert translate(effect.note, "en").startswith(
        "An estimate needs at least 8 control countries to compare with; there are 2."
    )
    assert translate(effect.note, "zh_Hans").startswith(
        "估算至少需要 8 个对照国家；目前只有 2 个。"
    )
