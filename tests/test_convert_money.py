"""Costs and ROI: ROAS, cost per order and average order on hand-computed cases (zero cost
and zero orders shown as no number), costs entered, imported (bad rows reported, re-import
idempotent) and posted, KOLs and their promo codes, a campaign's funnel, and the workspace's
attribution defaults used by the report."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Workspace
from guanxi.convert import cost_import, costs, defaults, links, reports
from guanxi.convert.attribution.weights import AttributionModel
from guanxi.convert.models import (
    CostEntry,
    CostKind,
    CostTarget,
    Kol,
    LinkClick,
    Order,
    OrderStatus,
    PromoCode,
)
from guanxi.core.errors import UserError
from guanxi.core.settings import get_settings
from guanxi.publishing.models import Campaign
from tests.cli import PREFIX, run
from tests.conftest import csrf_token

ORDER_AT = datetime(2026, 11, 11, 4, tzinfo=UTC)  # noon in Shanghai
DAY = date(2026, 11, 11)


def _order(workspace_id: int, external_id: str, fen: int, **identifiers: str) -> Order:
    return Order(
        workspace_id=workspace_id,
        source="csv",
        external_id=external_id,
        status=OrderStatus.PAID,
        ordered_at=ORDER_AT,
        amount_fen=fen,
        **identifiers,
    )


def _click(link_id: int, workspace_id: int, click_id: str, days_before: int) -> LinkClick:
    at = ORDER_AT - timedelta(days=days_before)
    return LinkClick(
        click_id=click_id,
        link_id=link_id,
        workspace_id=workspace_id,
        clicked_at=at,
        hour=int(at.timestamp()) // 3600,
        visitor=click_id,
        platform="wechat",
        device="phone",
        counted=True,
    )


def _shop(db: Session, workspace_id: int) -> tuple[Campaign, Campaign, Kol]:
    """Double 11 with a link clicked 10 days before two orders (¥300 and ¥500), and a KOL
    with a code on Mid-Autumn carried by a ¥200 order; one ¥70 order carries nothing."""
    double = Campaign(workspace_id=workspace_id, name="Double 11")
    autumn = Campaign(workspace_id=workspace_id, name="中秋 Mid-Autumn")
    kol = Kol(workspace_id=workspace_id, name="Lina", platform="xiaohongshu", handle="5f1a")
    db.add_all([double, autumn, kol])
    db.flush()
    db.add(PromoCode(workspace_id=workspace_id, code="MOON", kol_id=kol.id, campaign_id=autumn.id))
    link = links.create_link(
        db,
        workspace_id=workspace_id,
        link=links.LinkInput(url="https://shop.example.cn", campaign_id=double.id),
        created_by_id=None,
    )
    db.add_all(
        [
            _click(link.id, workspace_id, "c1", 10),
            _order(workspace_id, "o1", 30_000, click_id="c1"),
            _order(workspace_id, "o2", 50_000, click_id="c1"),
            _order(workspace_id, "o3", 20_000, promo_code="MOON"),
            _order(workspace_id, "o4", 7_000),
        ]
    )
    db.commit()
    return double, autumn, kol


def _cost(
    target: CostTarget,
    kind: CostKind,
    fen: int,
    first: date,
    last: date | None = None,
    **reference: object,
) -> costs.CostInput:
    return costs.CostInput(
        target=target,
        kind=kind,
        amount_fen=fen,
        starts_on=first,
        ends_on=last,
        **reference,  # type: ignore[arg-type]
    )


# --- Figures by hand --------------------------------------------------------------------


def test_roas_cost_per_order_and_average_order_as_computed_by_hand() -> None:
    """Given ¥1,000 from 4 orders on a ¥250 cost, then ROAS 4, ¥62.50 per order, ¥250 an
    order; with no follower counted, cost per follower is no number."""
    line = reports.Line(key="1", name="x", revenue=1000.0, orders=4, cost=250.0)

    assert (line.roas, line.cost_per_order, line.average_order) == (4.0, 62.5, 250.0)
    assert line.cost_per_follower is None
    assert (
        reports.Line(
            key="1", name="x", revenue=900, orders=3, cost=300, followers=12
        ).cost_per_follower
        == 25.0
    )


def test_a_zero_cost_and_zero_orders_give_no_number_never_a_division() -> None:
    """Given a free KOL (cost 0) and a campaign with a cost but no order, when their figures
    are read, then ROAS and cost per order are None (shown "—"), and a cost with no revenue
    is a ROAS of 0 (a real answer: nothing came back)."""
    free = reports.Line(key="1", name="free", revenue=500.0, orders=2, cost=0.0)
    idle = reports.Line(key="2", name="idle", revenue=0.0, orders=0, cost=800.0)
    unknown = reports.Line(key="3", name="no cost", revenue=500.0, orders=2)

    assert (free.roas, free.cost_per_order) == (None, 0.0)
    assert (idle.roas, idle.cost_per_order, idle.average_order) == (0.0, None, None)
    assert (unknown.roas, unknown.cost_per_order, unknown.cost) == (None, None, None)


def test_a_cost_over_several_days_counts_for_the_days_inside_the_period() -> None:
    """Given a cost over ten days, when a period holds none, three or all of them, then
    its share is 0, 0.3 or 1."""
    assert costs.overlap_share(date(2026, 11, 1), date(2026, 11, 10), DAY, DAY) == 0
    assert costs.overlap_share(
        date(2026, 11, 1), date(2026, 11, 10), date(2026, 11, 8), date(2026, 11, 30)
    ) == pytest.approx(0.3)
    assert costs.overlap_share(DAY, DAY, DAY, DAY) == 1


def test_the_report_sets_costs_beside_revenue_per_campaign_kol_and_platform(
    db: Session, workspace: Workspace
) -> None:
    """Given Double 11 (¥800 from 2 orders) with a ¥400 budget spread over 4 days of which
    the report holds 2 (¥200), Lina's ¥100 fee (her ¥200 order), ¥50 on WeChat and an idle
    campaign's ¥300 budget; when the day is reported, then Double 11 has ROAS 4 and ¥100 per
    order, Lina ROAS 2, WeChat 16, the idle campaign ROAS 0; in all ¥650 of costs against
    ¥1,000 attributed."""
    double, _autumn, kol = _shop(db, workspace.id)
    idle = Campaign(workspace_id=workspace.id, name="Idle")
    db.add(idle)
    db.flush()
    for cost in (
        _cost(
            CostTarget.CAMPAIGN,
            CostKind.CAMPAIGN_BUDGET,
            40_000,
            DAY - timedelta(days=2),
            DAY + timedelta(days=1),
            campaign_id=double.id,
        ),
        _cost(CostTarget.KOL, CostKind.KOL_FEE, 10_000, DAY, kol_id=kol.id),
        _cost(CostTarget.PLATFORM, CostKind.AD_SPEND, 5_000, DAY, platform="wechat"),
        _cost(CostTarget.CAMPAIGN, CostKind.CAMPAIGN_BUDGET, 30_000, DAY, campaign_id=idle.id),
    ):
        costs.record_cost(db, workspace_id=workspace.id, cost=cost)
    db.commit()

    report = reports.revenue_report(
        db,
        workspace_id=workspace.id,
        first_day=DAY - timedelta(days=1),
        last_day=DAY,
        zone="Asia/Shanghai",
    )

    campaigns = {line.name: line for line in report.campaigns}
    assert (campaigns["Double 11"].cost, campaigns["Double 11"].roas) == (200.0, 4.0)
    assert campaigns["Double 11"].cost_per_order == 100.0
    assert (campaigns["Idle"].revenue, campaigns["Idle"].roas) == (0.0, 0.0)
    assert campaigns["Idle"].cost_per_order is None
    assert campaigns["中秋 Mid-Autumn"].cost is None
    assert campaigns["中秋 Mid-Autumn"].roas is None
    kol_line = next(line for line in report.kols if line.name == "Lina")
    assert (kol_line.cost, kol_line.roas, kol_line.cost_per_order) == (100.0, 2.0, 100.0)
    wechat = next(line for line in report.platforms if line.key == "wechat")
    assert (wechat.revenue, wechat.roas) == (800.0, 16.0)
    assert report.cost == 650.0
    assert (report.attributed_revenue, report.roas) == (1000.0, 1.54)
    assert report.cost_per_order == round(650 / 3, 2)


# --- Entering and importing costs ----------------------------------------------------------


@pytest.fixture
def workspace(signed_in: tuple[TestClient, Membership]) -> Workspace:
    return signed_in[1].workspace


COST_FILE = """for,name,kind,amount,from,to,note
campaign,double 11,campaign_budget,"12,000",2026-11-01,2026-11-11,Tmall
kol,Lina,kol_fee,3000,2026-11-05,,
platform,douyin,ad_spend,¥800.50,2026-11-10,2026-11-11,
campaign,No such campaign,ad_spend,100,2026-11-01,,
kol,Lina,bribe,100,2026-11-01,,
platform,douyin,ad_spend,lots,2026-11-01,,
campaign,Double 11,other,100,11/01/2026,,
platform,myspace,other,100,2026-11-01,,
campaign,Double 11,other,100,2026-11-05,2026-11-01,
"""


def test_a_cost_file_keeps_the_good_rows_and_says_what_to_fix_in_the_bad(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    """Given a file with three good rows and six bad ones, when it is imported twice, then
    the good rows are stored once (the second import updates them), and each bad row is
    reported with its line, column and fix."""
    _shop(db, workspace.id)
    path = tmp_path / "costs.csv"
    path.write_text(COST_FILE, encoding="utf-8")

    first = cost_import.import_costs(db, workspace_id=workspace.id, path=path, file_format="csv")
    db.commit()
    again = cost_import.import_costs(db, workspace_id=workspace.id, path=path, file_format="csv")
    db.commit()

    assert (first.added, first.updated) == (3, 0)
    assert (again.added, again.updated) == (0, 3)
    assert db.scalar(select(func.count(CostEntry.id))) == 3
    problems = {p.line: (p.column, p.text(str)) for p in first.problems}
    assert sorted(problems) == [5, 6, 7, 8, 9, 10]
    assert problems[5][0] == "name"
    assert "No campaign named" in problems[5][1]
    assert problems[6][0] == "kind"
    assert "campaign_budget" in problems[6][1]
    assert problems[7][0] == "amount"
    assert "not a number" in problems[7][1]
    assert problems[8][0] == "from"
    assert "YYYY-MM-DD" in problems[8][1]
    assert "not a platform guanxi knows" in problems[9][1]
    assert "swap the dates" in problems[10][1]
    douyin = db.scalar(select(CostEntry).where(CostEntry.platform == "douyin"))
    assert douyin is not None
    assert (douyin.amount_fen, douyin.natural_key) == (
        80_050,
        "platform:douyin|ad_spend|2026-11-10|2026-11-11",
    )


def test_a_file_without_the_columns_is_refused_naming_them(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    """Given an order export chosen by mistake, when it is imported as costs, then it is
    refused at once, naming the columns it lacks."""
    path = tmp_path / "orders.csv"
    path.write_text("order_id,amount\n1,2\n", encoding="utf-8")

    with pytest.raises(UserError, match="lacks the columns for, name, kind, from"):
        cost_import.import_costs(db, workspace_id=workspace.id, path=path, file_format="csv")


def test_the_costs_page_enters_imports_and_refuses_a_bad_amount(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given the costs page, when a writer enters a budget, a negative amount and then the
    file, then the budget is listed, the bad amount is refused with the form kept, and the
    import says what it added, updated and could not read."""
    client, membership = signed_in
    double, _autumn, _kol = _shop(db, membership.workspace_id)
    token = csrf_token(client)
    form = {
        "target": "campaign",
        "campaign_id": str(double.id),
        "kind": "campaign_budget",
        "starts_on": "2026-11-01",
        "ends_on": "2026-11-11",
        "csrf_token": token,
    }

    entered = client.post("/w/acme/costs", data={**form, "amount": "12000"}, follow_redirects=True)
    bad = client.post("/w/acme/costs", data={**form, "amount": "-5"})
    imported = client.post(
        "/w/acme/costs/import",
        data={"csrf_token": token},
        files={"file": ("costs.csv", COST_FILE.encode(), "text/csv")},
    )

    assert entered.status_code == 200
    assert "12,000.00" in entered.text
    assert bad.status_code == 400
    assert "between 0 and 10,000,000,000 yuan" in bad.text
    assert imported.status_code == 200
    # The page's own entry had the file's first natural key: the import updated it.
    assert "2 costs added, 1 updated, 6 rows not imported" in imported.text
    assert "No campaign named" in imported.text


def test_the_costs_api_is_idempotent_on_the_natural_key(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a cost posted through the API, when the same cost is posted with another
    amount, then it is updated (created false), not added; a cost in USD is refused."""
    client, membership = signed_in
    double, _autumn, _kol = _shop(db, membership.workspace_id)
    _token, plain = accounts.create_api_token(db, membership=membership, name="finance")
    db.commit()
    headers = {"authorization": f"Bearer {plain}"}
    body = {
        "target": "campaign",
        "campaign_id": double.id,
        "kind": "ad_spend",
        "amount": 99.5,
        "starts_on": "2026-11-11",
    }

    first = client.post("/api/v1/w/acme/costs", json=body, headers=headers)
    second = client.post("/api/v1/w/acme/costs", json={**body, "amount": 120}, headers=headers)
    listed = client.get("/api/v1/w/acme/costs", headers=headers)
    dollars = client.post("/api/v1/w/acme/costs", json={**body, "currency": "USD"}, headers=headers)

    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (second.json()["created"], second.json()["amount"]) == (False, 120.0)
    assert [row["amount"] for row in listed.json()] == [120.0]
    assert dollars.status_code == 400
    assert "convert USD to yuan first" in dollars.text


# --- KOLs and promo codes ---------------------------------------------------------------


def test_kols_and_codes_through_the_api_with_codes_unique_whatever_their_case(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a KOL added with a fee, when codes are made, then the fee is a KOL-fee cost,
    a code differing only in case is refused (409), short or spaced codes are refused, and
    the list counts the paid order that carried the code."""
    client, membership = signed_in
    _token, plain = accounts.create_api_token(db, membership=membership, name="team")
    db.commit()
    headers = {"authorization": f"Bearer {plain}"}

    kol = client.post(
        "/api/v1/w/acme/kols",
        json={
            "name": "酒知道小王",
            "platform": "douyin",
            "handle": "7123",
            "fee": 5000,
            "fee_on": "2026-11-01",
        },
        headers=headers,
    )
    same_name = client.post("/api/v1/w/acme/kols", json={"name": "酒知道小王"}, headers=headers)
    code = client.post(
        "/api/v1/w/acme/promo-codes",
        json={"code": "qixi520", "kol_id": kol.json()["id"]},
        headers=headers,
    )
    taken = client.post("/api/v1/w/acme/promo-codes", json={"code": "QiXi520"}, headers=headers)
    short = client.post("/api/v1/w/acme/promo-codes", json={"code": "ab"}, headers=headers)
    spaced = client.post("/api/v1/w/acme/promo-codes", json={"code": "two words"}, headers=headers)
    db.add(_order(membership.workspace_id, "o9", 26_800, promo_code="QIXI520"))
    db.commit()
    listed = client.get("/api/v1/w/acme/promo-codes", headers=headers)

    assert kol.status_code == 201, kol.text
    assert same_name.status_code == 409
    fee = db.scalars(select(CostEntry)).one()
    assert (fee.kind, fee.amount_fen, fee.kol_id) == (CostKind.KOL_FEE, 500_000, kol.json()["id"])
    assert (code.status_code, code.json()["code"]) == (201, "QIXI520")
    assert taken.status_code == 409
    assert "already given out" in taken.text
    assert (short.status_code, spaced.status_code) == (400, 400)
    assert [(row["code"], row["uses"], row["revenue"]) for row in listed.json()] == [
        ("QIXI520", 1, 268.0)
    ]


def test_the_kol_page_ranks_kols_with_fee_and_roas(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given Lina's ¥200 order and her ¥100 fee, when the KOL page shows November, then her
    row has the fee, one order, ¥200 and ROAS 2.00, and a KOL added with no fee shows "—"."""
    client, membership = signed_in
    _double, _autumn, kol = _shop(db, membership.workspace_id)
    costs.record_cost(
        db,
        workspace_id=membership.workspace_id,
        cost=_cost(CostTarget.KOL, CostKind.KOL_FEE, 10_000, DAY, kol_id=kol.id),
    )
    db.commit()

    added = client.post(
        "/w/acme/kols",
        data={"name": "New KOL", "platform": "weibo", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    page = client.get("/w/acme/kols?from=2026-11-01&to=2026-11-30")
    bad_platform = client.post(
        "/w/acme/kols", data={"name": "X", "platform": "myspace", "csrf_token": csrf_token(client)}
    )

    assert added.status_code == 200
    row = page.text.split("<strong>Lina</strong>")[1].split("</tr>")[0]
    assert "100" in row
    assert "200" in row
    assert "2.00" in row
    assert "New KOL" in page.text
    assert bad_platform.status_code == 400
    assert "not a platform guanxi knows" in bad_platform.text


# --- Funnel and defaults ------------------------------------------------------------------


def test_the_funnel_shows_clicks_orders_and_revenue_and_no_zero_for_what_is_not_known(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given Double 11 with one person's click and two orders, when its funnel is shown,
    then the chart has clicks and orders only (no views measured, no scene code made), the
    table says why, and the page speaks Chinese."""
    client, membership = signed_in
    double, _autumn, _kol = _shop(db, membership.workspace_id)

    page = client.get(f"/w/acme/funnel?campaign={double.id}&from=2026-10-01&to=2026-11-30")
    client.post("/language", data={"language": "zh_Hans", "csrf_token": csrf_token(client)})
    chinese = client.get(f"/w/acme/funnel?campaign={double.id}&from=2026-10-01&to=2026-11-30")

    assert page.status_code == 200
    assert "People who clicked" in page.text
    option = json.loads(
        page.text.split('data-chart-option="')[1].split('"')[0].replace("&#34;", '"')
    )
    stages = {item["name"]: item["value"] for item in option["series"][0]["data"]}
    # No views measured and no scene code made: left out of the chart, "—" in the table.
    assert stages == {"People who clicked": 1, "Orders": 2}
    assert "No WeChat QR code was made for this campaign" in page.text
    assert "800" in page.text
    assert chinese.status_code == 200
    assert "活动转化漏斗" in chinese.text
    assert "没有为此活动制作微信二维码" in chinese.text


def test_the_workspace_defaults_are_used_by_the_report_command(
    db: Session,
    workspace: Workspace,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the click 10 days before Double 11's orders, when the workspace's default
    window is 7 days, then the report (no --window) leaves those orders unattributed and
    says window 7, half-life 3; an explicit --window 15 still credits them."""
    _shop(db, workspace.id)
    defaults.save_defaults(db, workspace_id=workspace.id, window_days=7, half_life_days=3)
    db.commit()
    monkeypatch.setenv(PREFIX + "DATABASE_URL", database_url)
    monkeypatch.setenv(PREFIX + "DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        default = run(
            "convert", "report", "--workspace", "acme", "--from", "2026-11-11", "--to", "2026-11-11"
        )
        wider = run(
            "convert",
            "report",
            "--workspace",
            "acme",
            "--from",
            "2026-11-11",
            "--to",
            "2026-11-11",
            "--window",
            "15",
        )
    finally:
        get_settings.cache_clear()

    assert default.exit_code == 0, default.output
    report = json.loads(default.output)
    assert (report["window_days"], report["half_life_days"]) == (7, 3)
    assert report["unattributed"] == {"revenue": 870.0, "orders": 3}
    assert (report["costs"], report["roas"], report["cost_per_order"]) == (None, None, None)
    assert json.loads(wider.output)["unattributed"] == {"revenue": 70.0, "orders": 1}


def test_the_revenue_page_saves_the_defaults_and_refuses_a_window_not_offered(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given the revenue page's defaults form, when a writer saves 15 days and half-life
    10, then the API reports with them; a 9-day window is refused with the choices."""
    client, membership = signed_in
    token = csrf_token(client)

    saved = client.post(
        "/w/acme/revenue/settings",
        data={"window_days": "15", "half_life_days": "10", "csrf_token": token},
        follow_redirects=True,
    )
    refused = client.post(
        "/w/acme/revenue/settings",
        data={"window_days": "9", "half_life_days": "10", "csrf_token": token},
    )
    _token, plain = accounts.create_api_token(db, membership=membership, name="bi")
    db.commit()
    api = client.get(
        "/api/v1/w/acme/revenue?from=2026-11-01&to=2026-11-30&model=time_decay",
        headers={"authorization": f"Bearer {plain}"},
    )

    assert saved.status_code == 200
    assert defaults.defaults_of(db, workspace_id=membership.workspace_id).window_days == 15
    assert "15-day window" in saved.text or 'value="15" selected' in saved.text
    assert refused.status_code == 400
    assert "choose 7, 15 or 30" in refused.text
    assert (api.json()["window_days"], api.json()["half_life_days"]) == (15, 10)
    assert AttributionModel(api.json()["model"]) is AttributionModel.TIME_DECAY
