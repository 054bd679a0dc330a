"""The platforms' conversion reports uploaded as files — Xiaohongshu 小红星 and JD 京准通 —
with their real quirks (GBK, a BOM, Chinese headers with units, a totals row, dashes for
nothing, 万): stored as platform-reported figures per day and note or plan, imported
again without change, and shown on the revenue page apart from the attributed revenue."""

from __future__ import annotations

import re
from datetime import date

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.convert.models import Order, OrderImport, PlatformConversion, ReportSource
from tests.conftest import csrf_token

XHS_HEADER = "日期,笔记ID,笔记标题,曝光量,阅读量,进店人数,成交订单数,成交金额(元)"
XHS_ROWS = [
    '2026-11-01,64a1f0,桃红配小龙虾,1.2万,3400,210,18,"3,582.00"',
    "2026/11/2,64a1f0,桃红配小龙虾,9800,2100,150,12,2388.00",
    "2026-11-02,64b2e1,普罗旺斯之夏,5600,1200,-,-,-",
    "2026-11-03,64b2e1,普罗旺斯之夏,5600,1200,80,5,很多",
    "合计,,,,,440,35,5970.00",
]
JD_HEADER = "日期,计划名称,展现数,点击数,花费,总订单行,总订单金额,点击率"
JD_ROWS = [
    '20261101,双十一桃红,120000,3400,"1,250.50",41,"8,990.00",2.83%',
    "20261102,双十一桃红,98000,2800,990.00,30,6120.00,2.86%",
    "20261102,,1000,10,5.00,0,0,1%",
    "总计,,218000,6200,2240.50,71,15110.00,",
]


def _file(header: str, rows: list[str], encoding: str) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return text.encode(encoding)


def upload(client: TestClient, content: bytes, name: str, kind: str = "auto") -> httpx.Response:
    return client.post(
        "/w/acme/orders",
        data={"csrf_token": csrf_token(client), "order_format": kind},
        files={"file": (name, content)},
        follow_redirects=True,
    )


def _count(page: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">([\d,]+)<', page)
    assert found, page
    return int(found[1].replace(",", ""))


def test_a_xiaohongshu_report_in_gbk_is_stored_per_note_and_day_without_its_totals(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a 小红星 report in GBK with a totals row, dashes and a bad amount
    When it is uploaded with the format left to guanxi
    Then it is found from its headers, each note's day is stored (the totals row left out,
    the dashes as 0) and the bad amount is reported under its column."""
    client, _ = signed_in
    page = upload(client, _file(XHS_HEADER, XHS_ROWS, "gbk"), "小红星.csv").text
    assert (_count(page, "stored"), _count(page, "failed")) == (3, 1)
    assert "<td>成交金额(元)</td>" in page
    assert "platform-reported" in page
    run = db.scalars(select(OrderImport)).one()
    assert run.order_format == "xiaohongshu"
    first = db.scalars(
        select(PlatformConversion).where(PlatformConversion.day == date(2026, 11, 1))
    ).one()
    assert first.source == ReportSource.XIAOHONGSHU
    assert (first.subject_key, first.subject_name) == ("64a1f0", "桃红配小龙虾")
    assert (first.impressions, first.visits, first.orders, first.revenue_fen) == (
        12000,
        210,
        18,
        358200,
    )
    dashes = db.scalars(
        select(PlatformConversion).where(PlatformConversion.subject_key == "64b2e1")
    ).one()
    assert (dashes.orders, dashes.revenue_fen) == (0, 0)


def test_a_jd_ad_report_with_a_bom_keeps_its_spend_and_imports_again_unchanged(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a 京准通 plan report in UTF-8 with a BOM, days written 20261101, a totals row
    and a row without its plan
    When it is uploaded twice
    Then each plan's day is stored with its spend, the row without a plan is reported,
    and the second upload finds every row unchanged."""
    client, _ = signed_in
    content = _file(JD_HEADER, JD_ROWS, "utf-8-sig")
    page = upload(client, content, "京准通.csv").text
    assert (_count(page, "stored"), _count(page, "failed")) == (2, 1)
    day = db.scalars(
        select(PlatformConversion).where(PlatformConversion.day == date(2026, 11, 1))
    ).one()
    assert day.source == ReportSource.JD_ADS
    assert (day.impressions, day.clicks, day.spend_fen, day.orders, day.revenue_fen) == (
        120000,
        3400,
        125050,
        41,
        899000,
    )
    again = upload(client, content, "京准通.csv").text
    assert (_count(again, "stored"), _count(again, "updated"), _count(again, "unchanged")) == (
        0,
        0,
        2,
    )


def test_the_revenue_page_shows_platform_reported_figures_apart_from_attributed_ones(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a 京准通 report imported and no orders
    When the revenue page shows November 2026
    Then the report's sales are listed under "Platform-reported conversions" and the
    attributed revenue stays 0: a platform's aggregate is never counted as an order."""
    client, _ = signed_in
    upload(client, _file(JD_HEADER, JD_ROWS, "gbk"), "jzt.csv")
    page = client.get("/w/acme/revenue?from=2026-11-01&to=2026-11-30").text
    reported = page.split("Platform-reported conversions", 1)
    assert len(reported) == 2
    assert "双十一桃红" in reported[1]
    assert "15,110" in reported[1]  # 8,990 + 6,120 yuan of sales, as JD counts them
    assert "双十一桃红" not in reported[0]
    assert db.scalars(select(Order)).first() is None


def test_a_report_chosen_by_hand_with_other_headers_is_mapped(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a 小红星 report whose headers guanxi does not know
    When it is uploaded as a 小红星 report
    Then its columns are asked for, and the report is stored with the chosen ones."""
    client, _ = signed_in
    header = "统计日,内容,带货金额"
    response = client.post(
        "/w/acme/orders",
        data={"csrf_token": csrf_token(client), "order_format": "xiaohongshu"},
        files={"file": ("x.csv", _file(header, ["2026-11-01,夏日桃红,100.00"], "gbk"))},
        follow_redirects=False,
    )
    location = response.headers["location"]
    assert location.endswith("/mapping")
    done = client.post(
        location,
        data={
            "csrf_token": csrf_token(client),
            "map_day": "统计日",
            "map_subject_name": "内容",
            "map_revenue": "带货金额",
        },
        follow_redirects=True,
    )
    assert _count(done.text, "stored") == 1
    stored = db.scalars(select(PlatformConversion)).one()
    assert (stored.subject_key, stored.revenue_fen) == ("夏日桃红", 10000)
