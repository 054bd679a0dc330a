"""The conversions report section: paid orders and revenue against the period compared,
attributed revenue (said to be attributed), ROAS on the costs entered, per campaign."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.convert.costs import CostInput, record_cost
from guanxi.convert.models import CostKind, CostTarget
from guanxi.convert.report_sections import revenue
from guanxi.core.report import Figure, Number, ReportQuery, Table, Text, Unit
from guanxi.core.report_text import translate
from tests.conftest import UserFactory, WorkspaceFactory
from tests.report_support import narrative
from tests.test_convert_attribution import _two_campaigns


def _query(workspace: Workspace, campaign_id: int | None = None) -> ReportQuery:
    return ReportQuery(
        workspace_id=workspace.id,
        start=date(2026, 11, 9),
        end=date(2026, 11, 15),
        compare_start=date(2026, 11, 2),
        compare_end=date(2026, 11, 8),
        campaign_id=campaign_id,
    )


def test_the_revenue_section_with_costs(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given three paid orders on Double 11 (¥300 through a Double 11 click, ¥100 through a
    Mid-Autumn promo code, ¥70 through nothing) and ¥100 spent on Double 11, then the
    section reads ¥470 of orders, ¥400 attributed (last touch), ROAS 4, per campaign."""
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    double, autumn = _two_campaigns(db, workspace)
    record_cost(
        db,
        workspace_id=workspace.id,
        cost=CostInput(
            target=CostTarget.CAMPAIGN,
            kind=CostKind.CAMPAIGN_BUDGET,
            amount_fen=10_000,
            starts_on=date(2026, 11, 9),
            ends_on=date(2026, 11, 15),
            campaign_id=double.id,
        ),
    )
    db.commit()

    section = revenue(db, _query(workspace))
    one = revenue(db, _query(workspace, autumn.id))

    assert narrative(section, "en") == [
        "Paid orders: 3, worth CN¥470.00.",
        "CN¥400.00 of it was attributed to a campaign, post or KOL (Last touch model).",
        "Return on ad spend: 4 on CN¥100.00 of costs.",
    ]
    assert narrative(section, "zh_Hans") == [
        "已付款订单：3 笔，金额 ¥470.00。",
        "其中 ¥400.00 归因于活动、帖子或 KOL（末次触点模型）。",
        "广告支出回报率：4，成本 ¥100.00。",
    ]
    figures = {b.key: b for b in section.blocks if isinstance(b, Figure)}
    assert figures["revenue"].current == Number(470.0, Unit.MONEY, "CNY")
    assert figures["revenue"].previous == Number(0.0, Unit.MONEY, "CNY")
    assert figures["attributed_revenue"].note is not None
    assert "not proof" in translate(figures["attributed_revenue"].note, "en")
    assert figures["roas"].current == Number(4.0)
    [table] = [b for b in section.blocks if isinstance(b, Table)]
    assert table.rows == (
        ("Double 11", 300.0, 1.0, 100.0, 3.0),
        ("中秋 Mid-Autumn", 100.0, 1.0, None, None),
    )
    [alone] = [b for b in one.blocks if isinstance(b, Table)]
    assert alone.rows == (("中秋 Mid-Autumn", 100.0, 1.0, None, None),)


def test_no_order_says_so(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))

    section = revenue(db, _query(workspace))

    assert section.empty == Text("No paid order in this period.")
    assert translate(section.empty, "zh_Hans") == "本期没有已付款订单。"
