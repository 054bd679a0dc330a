"""The orders page: a shop's export or any CSV/XLSX uploaded, its format found from its
headers, its bad rows reported with line, column, problem and fix while the rest are kept;
a file imported again changes nothing; a file with other column names is mapped once and
the mapping remembered (and reused by the command); the size limit; other workspaces'
uploads out of reach."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role
from guanxi.convert.models import ImportStatus, Order, OrderImport
from guanxi.convert.orders import runs
from guanxi.core.settings import get_settings
from guanxi.mappings.models import ColumnMapping
from tests.cli import PREFIX, run
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.test_convert_orders import (
    DOUYIN_HEADER,
    DOUYIN_ROWS,
    TMALL_HEADER,
    TMALL_ROWS,
    WECHAT_HEADER,
    WECHAT_ROWS,
)

JD_HEADER = "订单号,下单时间,应付金额,订单状态,商品名称,订购数量,客户地址,店铺名称,订单备注"
JD_ROWS = [
    "JD-9001,2026-11-11 10:00:00,299.00,完成,桃红,1,广东 广州市,Provence 京东自营,",
    "JD-9002,2026-11-11 10:05:00,很多,完成,桃红,1,广东 广州市,Provence 京东自营,",
]
CANONICAL_HEADER = "order_id,ordered_at,amount,status,click_id"
CANONICAL_ROWS = ["S-1,2026-11-01 10:00,99.00,paid,abc123", "S-2,2026-11-01 11:00,-5,paid,"]
SHOPIFY_HEADER = "Name,Created at,Total,Financial Status,Discount Code"
SHOPIFY_ROWS = [
    "#1001,2026-11-03 09:00:00,12900,paid,LINA88",
    "#1002,not a time,5000,paid,",
    "#1003,2026-11-03 11:00:00,8800,refunded,",
]


def _csv(header: str, rows: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def _xlsx(header: str, rows: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in [header, *rows]:
        sheet.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(
    client: TestClient, content: bytes, *, name: str = "orders.csv", kind: str = "auto"
) -> httpx.Response:
    return client.post(
        "/w/acme/orders",
        data={"csrf_token": csrf_token(client), "order_format": kind},
        files={"file": (name, content)},
        follow_redirects=False,
    )


def _count(page: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">([\d,]+)<', page)
    assert found, page
    return int(found[1].replace(",", ""))


@pytest.mark.parametrize(
    ("name", "content", "stored", "failed", "bad_column"),
    [
        ("ExportOrderList.csv", _csv(TMALL_HEADER, TMALL_ROWS, "gbk"), 3, 1, "买家实际支付金额"),
        ("bill.csv", _csv(WECHAT_HEADER, WECHAT_ROWS), None, None, None),
        ("douyin.csv", _csv(DOUYIN_HEADER, DOUYIN_ROWS), None, None, None),
        ("jd.csv", _csv(JD_HEADER, JD_ROWS, "gbk"), 1, 1, "应付金额"),
        ("shop.csv", _csv(CANONICAL_HEADER, CANONICAL_ROWS), 1, 1, "amount"),
        ("shop.xlsx", _xlsx(CANONICAL_HEADER, CANONICAL_ROWS), 1, 1, "amount"),
    ],
)
def test_each_format_is_found_from_its_headers_and_its_bad_rows_are_reported(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    name: str,
    content: bytes,
    stored: int | None,
    failed: int | None,
    bad_column: str | None,
) -> None:
    """Given a shop's export (or guanxi's own columns, as CSV or XLSX) with a bad row
    When it is uploaded with the format left to guanxi
    Then it is imported at once: the good rows stored, each bad row listed with its line,
    column, problem and fix, and the upload is in the list with who made it."""
    client, _ = signed_in
    response = upload(client, content, name=name)
    assert response.status_code == 303
    assert not response.headers["location"].endswith("/mapping")
    page = client.get(response.headers["location"]).text
    run = db.scalars(select(OrderImport)).one()
    assert run.status == ImportStatus.DONE
    assert run.stored == db.scalar(select(func.count()).select_from(Order)) > 0
    assert _count(page, "stored") == run.stored
    if stored is not None:
        assert (run.stored, run.rows_failed) == (stored, failed)
        assert _count(page, "failed") == failed
        assert f"<td>{bad_column}</td>" in page
        assert "What to do" in page
    listing = client.get("/w/acme/orders").text
    assert name in listing
    assert "Owner" in listing  # who uploaded it


def test_the_same_file_uploaded_again_changes_nothing(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a Tmall export imported once
    When the same file is uploaded again
    Then nothing is stored or updated: every order is counted unchanged."""
    client, _ = signed_in
    content = _csv(TMALL_HEADER, TMALL_ROWS, "gbk")
    upload(client, content)
    again = client.get(upload(client, content).headers["location"]).text
    assert (_count(again, "stored"), _count(again, "updated")) == (0, 0)
    assert _count(again, "unchanged") == 3
    assert db.scalar(select(func.count()).select_from(Order)) == 3


def test_a_file_with_other_columns_is_mapped_once_and_the_mapping_reused(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a shop's CSV with its own column names and amounts in fen
    When it is uploaded, its (pre-filled) mapping completed and named, then a second file
    with the same headers is uploaded
    Then the first asks for the mapping, imports with it (the bad time reported under the
    file's own column); the second imports at once with the remembered mapping."""
    client, _ = signed_in
    first = upload(client, _csv(SHOPIFY_HEADER, SHOPIFY_ROWS), name="shopify.csv")
    location = first.headers["location"]
    assert location.endswith("/mapping")
    page = client.get(location).text
    assert '<option value="Created at" selected>' in page  # guessed from the header
    assert "<td>#1001</td>" in page  # the file's first rows, to check the choice against

    refused = client.post(location, data={"csrf_token": csrf_token(client), "map_order_id": "Name"})
    assert refused.status_code == 400
    assert "Ordered at" in refused.text

    done = client.post(
        location,
        data={
            "csrf_token": csrf_token(client),
            "map_order_id": "Name",
            "map_ordered_at": "Created at",
            "map_amount": "Total",
            "map_status": "Financial Status",
            "map_promo_code": "Discount Code",
            "unit": "fen",
            "zone": "Asia/Shanghai",
            "name": "shopify",
        },
        follow_redirects=True,
    )
    assert (_count(done.text, "stored"), _count(done.text, "failed")) == (2, 1)
    assert "<td>Created at</td>" in done.text
    order = db.scalars(select(Order).where(Order.external_id == "#1001")).one()
    assert (order.amount_fen, order.promo_code) == (12900, "LINA88")

    rows = [*SHOPIFY_ROWS, "#1004,2026-11-04 09:00:00,100,paid,"]
    second = upload(client, _csv(SHOPIFY_HEADER, rows), name="shopify-2.csv")
    assert not second.headers["location"].endswith("/mapping")
    again = client.get(second.headers["location"]).text
    assert (_count(again, "stored"), _count(again, "unchanged")) == (1, 2)
    assert db.scalar(select(func.count()).select_from(ColumnMapping)) == 1


def test_the_command_uses_a_named_or_remembered_mapping(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a mapping named "shopify" made on the page
    When `guanxi convert import` reads a file with those columns, by name or not
    Then both import with it; an unknown name is refused with the known ones listed."""
    client, membership = signed_in
    location = upload(client, _csv(SHOPIFY_HEADER, SHOPIFY_ROWS)).headers["location"]
    mapping = {"map_order_id": "Name", "map_ordered_at": "Created at", "map_amount": "Total"}
    client.post(
        location,
        data={"csrf_token": csrf_token(client), **mapping, "unit": "fen", "name": "shopify"},
    )
    path = tmp_path / "more.csv"
    path.write_bytes(_csv(SHOPIFY_HEADER, ["#2001,2026-11-05 09:00:00,500,paid,"]))
    monkeypatch.setenv(PREFIX + "DATABASE_URL", database_url)
    monkeypatch.setenv(PREFIX + "DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        named = run("convert", "import", str(path), "--workspace", "acme", "--mapping", "shopify")
        remembered = run("convert", "import", str(path), "--workspace", "acme")
        unknown = run("convert", "import", str(path), "--workspace", "acme", "--mapping", "x")
    finally:
        get_settings.cache_clear()
    assert named.exit_code == 0, named.output
    assert "1 orders added" in named.output
    assert "0 orders added, 0 updated, 1 unchanged" in remembered.output
    assert unknown.exit_code != 0
    assert "shopify" in unknown.output
    order = db.scalars(select(Order).where(Order.external_id == "#2001")).one()
    assert order.amount_fen == 500
    assert membership.workspace_id == order.workspace_id


def test_a_file_over_the_limit_or_of_another_kind_is_refused_and_not_kept(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the page's size limit
    When a larger file, or a .txt file, is uploaded
    Then each is refused with what to do, and nothing is stored or kept on disk."""
    client, _ = signed_in
    monkeypatch.setattr(runs, "MAX_BYTES", 1024)
    big = _csv(CANONICAL_HEADER, [CANONICAL_ROWS[0]] * 100)
    refused = upload(client, big)
    assert refused.status_code == 400
    assert "larger than" in refused.text
    wrong = upload(client, b"order_id\n1\n", name="orders.txt")
    assert wrong.status_code == 400
    assert ".csv or .xlsx" in wrong.text
    assert db.scalar(select(func.count()).select_from(OrderImport)) == 0
    folder = Path(get_settings().data_dir) / runs.UPLOAD_DIR
    assert not folder.exists() or not any(folder.rglob("*.*"))


def test_another_workspaces_upload_is_not_found_and_analysts_cannot_upload(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given an upload in workspace acme
    When a member of another workspace asks for it, and an analyst of acme uploads
    Then the first is a 404 on the run and its mapping; the analyst is refused."""
    client, membership = signed_in
    location = upload(client, _csv(SHOPIFY_HEADER, SHOPIFY_ROWS)).headers["location"]
    run_path = location.removesuffix("/mapping")
    other = make_user("zed@other.example")
    make_workspace("other", owner=other)
    analyst = make_user("ana@acme.example")
    db.add(Membership(user_id=analyst.id, workspace_id=membership.workspace_id, role=Role.ANALYST))
    db.commit()
    client.cookies.clear()
    sign_in(client, "zed@other.example")
    assert client.get(run_path).status_code == 404
    assert client.get(location).status_code == 404
    foreign = run_path.replace("/w/acme/", "/w/other/")
    assert client.get(foreign).status_code == 404
    client.cookies.clear()
    sign_in(client, "ana@acme.example")
    assert client.get(run_path).status_code == 200
    # No file in the analyst's form: refused before any upload is read.
    refused = client.post(
        "/w/acme/orders", data={"csrf_token": csrf_token(client), "order_format": "auto"}
    )
    assert refused.status_code == 403
