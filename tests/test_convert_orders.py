"""Order imports, each shop's export with its real quirks: GBK, ids written ``="…"``,
WeChat Pay's backticks and summary rows, Douyin's fen and creator fields, refunds,
duplicates and bad rows (reported with their line, the rest kept), and re-imports that
change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.convert.models import Order, OrderRefund, OrderStatus, PromoCode
from guanxi.convert.orders import service
from guanxi.convert.orders.readers import SOURCE_OF_FORMAT, Context, read_orders
from guanxi.convert.orders.service import ImportReport
from guanxi.core.errors import UserError
from guanxi.core.settings import get_settings
from tests.cli import PREFIX, run
from tests.conftest import UserFactory, WorkspaceFactory

TMALL_HEADER = (
    "订单编号,买家会员名,买家应付货款,买家实际支付金额,订单状态,买家留言,收货地址,"
    "订单创建时间,订单付款时间,宝贝标题,宝贝总数量,订单备注,店铺名称,退款金额"
)
TMALL_ROWS = [
    # paid, with a KOL's code in the buyer's note; id as Taobao writes it
    (
        '="3612001",tb_li,398.00,388.00,交易成功,口令 LINA88 谢谢,广东省 深圳市 南山区,'
        "2026-11-11 00:01:02,2026-11-11 00:01:30,普罗旺斯桃红 750ml,2,,Provence Wines 旗舰店,0.00"
    ),
    # partly refunded
    (
        '="3612002",tb_wang,199.00,199.00,交易成功,,上海 上海市 浦东新区,'
        "2026-11-11 09:00:00,2026-11-11 09:00:10,桃红礼盒,1,,Provence Wines 旗舰店,50.00"
    ),
    # closed before payment
    (
        '="3612003",tb_zhao,99.00,0.00,交易关闭,,北京 北京市 朝阳区,'
        "2026-11-12 10:00:00,,桃红,1,,Provence Wines 旗舰店,0.00"
    ),
    # bad amount: reported, the rest kept
    (
        '="3612004",tb_qian,abc,abc,交易成功,,浙江省 杭州市,'
        "2026-11-12 11:00:00,2026-11-12 11:00:05,桃红,1,,Provence Wines 旗舰店,0.00"
    ),
    # the same order listed twice (Taobao lists one line per item in some exports)
    (
        '="3612001",tb_li,398.00,388.00,交易成功,口令 LINA88 谢谢,广东省 深圳市 南山区,'
        "2026-11-11 00:01:02,2026-11-11 00:01:30,普罗旺斯桃红 750ml,2,,Provence Wines 旗舰店,0.00"
    ),
]

WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def _wechat_row(*cells: str) -> str:
    return ",".join(f"`{cell}" for cell in cells)


WECHAT_ROWS = [
    _wechat_row(
        "2026-11-20 20:15:01",
        "wx8888",
        "1900000109",
        "0",
        "",
        "4200001",
        "MP-001",
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "JSAPI",
        "SUCCESS",
        "CMB_DEBIT",
        "CNY",
        "268.00",
        "0.00",
        "0",
        "0",
        "0.00",
        "0.00",
        "",
        "",
        "桃红礼盒",
        "gx:Ab12Cd34",
        "1.61",
        "0.60%",
        "268.00",
        "0.00",
        "",
    ),
    _wechat_row(
        "2026-11-22 10:00:00",
        "wx8888",
        "1900000109",
        "0",
        "",
        "4200001",
        "MP-001",
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "JSAPI",
        "REFUND",
        "CMB_DEBIT",
        "CNY",
        "0.00",
        "0.00",
        "50000001",
        "R-001",
        "100.00",
        "0.00",
        "ORIGINAL",
        "SUCCESS",
        "桃红礼盒",
        "gx:Ab12Cd34",
        "-0.60",
        "0.60%",
        "0.00",
        "100.00",
        "",
    ),
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
    "`2,`268.00,`100.00,`0.00,`1.01,`268.00,`100.00",
]

DOUYIN_HEADER = (
    "order_id,order_status,pay_amount,create_time,pay_time,send_pay,author_id,author_name,"
    "video_id,room_id,c_biz,product_name,item_num,province"
)
DOUYIN_ROWS = [
    "6920001,5,15800,1764561600,1764561660,2,71234567,酒知道小王,7301234567890,,1,桃红,1,四川省",
    "6920002,4,9900,1764561700,0,0,,,,,1,桃红,1,湖南省",
    "6920003,3,12000,not-a-time,1764561800,0,,,,,1,桃红,1,",
]


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def _write(tmp_path: Path, name: str, header: str, rows: list[str], encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode(encoding))
    return path


def _import(db: Session, workspace: Workspace, path: Path, order_format: str) -> ImportReport:
    context = service.reading_context(db, workspace_id=workspace.id)
    return service.import_lines(
        db,
        workspace_id=workspace.id,
        source=SOURCE_OF_FORMAT[order_format],
        lines=read_orders(path, order_format, context=context),
    )


def test_a_tmall_export_in_gbk_is_imported_with_its_quirks(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    db.add(PromoCode(workspace_id=workspace.id, code="LINA88"))
    db.commit()
    path = _write(tmp_path, "ExportOrderList.csv", TMALL_HEADER, TMALL_ROWS, "gbk")

    report = _import(db, workspace, path, "tmall")

    assert (report.orders_added, report.orders_updated, report.refunds) == (3, 0, 1)
    assert report.rows_failed == 1
    assert report.errors[0].line == 5
    assert report.errors[0].column == "买家实际支付金额"
    orders = {o.external_id: o for o in db.scalars(select(Order))}
    first = orders["3612001"]
    assert (first.status, first.amount_fen, first.quantity) == (OrderStatus.PAID, 38800, 2)
    assert first.promo_code == "LINA88"
    assert first.province == "广东"
    assert first.ordered_at.isoformat() == "2026-11-10T16:01:02+00:00", "Beijing time, kept as UTC"
    assert orders["3612003"].status == OrderStatus.CANCELLED
    assert orders["3612002"].province == "上海"
    refund = db.scalars(select(OrderRefund)).one()
    assert (refund.order_external_id, refund.amount_fen) == ("3612002", 5000)


def test_importing_the_same_file_again_changes_nothing(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = _write(tmp_path, "orders.csv", TMALL_HEADER, TMALL_ROWS, "gbk")
    _import(db, workspace, path, "tmall")
    before = [
        (o.external_id, o.amount_fen, o.status)
        for o in db.scalars(select(Order).order_by(Order.external_id))
    ]

    again = _import(db, workspace, path, "tmall")

    assert (again.orders_added, again.orders_updated, again.orders_unchanged) == (0, 0, 3)
    db.expire_all()
    after = [
        (o.external_id, o.amount_fen, o.status)
        for o in db.scalars(select(Order).order_by(Order.external_id))
    ]
    assert after == before
    assert db.scalar(select(func.count()).select_from(OrderRefund)) == 1


def test_a_wechat_pay_bill_keeps_openid_attach_and_refunds_and_skips_the_summary(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = _write(tmp_path, "bill.csv", WECHAT_HEADER, WECHAT_ROWS, "utf-8-sig")

    report = _import(db, workspace, path, "wechat-pay")

    assert (report.orders_added, report.refunds, report.rows_failed) == (1, 1, 0)
    order = db.scalars(select(Order)).one()
    assert (order.external_id, order.amount_fen) == ("MP-001", 26800)
    assert order.openid == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    assert order.attach == "gx:Ab12Cd34"
    refund = db.scalars(select(OrderRefund)).one()
    assert (refund.external_id, refund.order_external_id, refund.amount_fen) == (
        "50000001",
        "MP-001",
        10000,
    )


def test_a_douyin_shop_export_ties_orders_to_creator_and_video(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = _write(tmp_path, "douyin.csv", DOUYIN_HEADER, DOUYIN_ROWS, "utf-8")

    report = _import(db, workspace, path, "douyin-shop")

    assert (report.orders_added, report.rows_failed) == (2, 1)
    assert report.errors[0].column == "create_time"
    orders = {o.external_id: o for o in db.scalars(select(Order))}
    paid = orders["6920001"]
    assert (paid.amount_fen, paid.status, paid.province) == (15800, OrderStatus.PAID, "四川")
    assert (paid.author_id, paid.author_name, paid.video_id) == (
        "71234567",
        "酒知道小王",
        "7301234567890",
    )
    assert orders["6920002"].status == OrderStatus.CANCELLED


def test_a_file_of_the_wrong_shop_says_which_columns_are_missing(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = _write(tmp_path, "douyin.csv", DOUYIN_HEADER, DOUYIN_ROWS, "utf-8")

    with pytest.raises(UserError, match=r"Taobao / Tmall order export.*订单编号"):
        list(read_orders(path, "tmall", context=Context()))


def test_guanxis_own_columns_carry_any_identifier(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "shop.csv",
        "order_id,ordered_at,amount,status,click_id,promo_code,province,refund_amount",
        [
            'A-1,2026-11-01T10:00:00+08:00,"¥1,299.00",paid,abcDEF123,lina88,江苏省,',
            "A-2,2026-11-02 10:00,80,cancelled,,,,",
            "A-3,2026-11-03 10:00,-5,paid,,,,",
        ],
        "utf-8",
    )

    report = _import(db, workspace, path, "csv")

    assert (report.orders_added, report.rows_failed) == (2, 1)
    first = db.scalars(select(Order).where(Order.external_id == "A-1")).one()
    assert (first.amount_fen, first.click_id, first.promo_code) == (129900, "abcDEF123", "LINA88")


def test_the_command_imports_a_file_and_lists_its_bad_rows(
    db: Session,
    workspace: Workspace,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PREFIX + "DATABASE_URL", database_url)
    monkeypatch.setenv(PREFIX + "DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    path = _write(tmp_path, "orders.csv", TMALL_HEADER, TMALL_ROWS, "gbk")
    try:
        result = run("convert", "import", str(path), "--workspace", "acme", "--format", "tmall")
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "3 orders added, 0 updated, 0 unchanged, 1 refunds, 1 rows with errors" in result.output
    assert "line 5: 买家实际支付金额: The amount cannot be read." in result.output
    assert db.scalar(select(func.count()).select_from(Order)) == 3
