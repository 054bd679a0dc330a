"""The shops' order exports, each read with its quirks into ``OrderLine`` and
``RefundLine`` rows (or the row's error, with the rest still read).

- **Taobao/Tmall** (卖家中心 order export): GBK, ids written ``="3612…"``, Chinese headers
  (订单编号, 买家实际支付金额, 订单状态, 订单创建时间, 订单付款时间, 宝贝标题, 宝贝总数量,
  店铺名称, 收货地址, 退款金额); no channel column, so a KOL's promo code is looked for in
  the order's notes and discount details.
- **Douyin shop** (抖店): the order API's fields — ``order_id``, ``pay_amount`` in fen,
  ``create_time``/``pay_time`` (Unix seconds or text), ``order_status``, ``send_pay``,
  ``author_id``/``author_name``, ``video_id``, ``room_id``, ``c_biz`` — which tie an order
  to the creator and video it was bought from.
- **WeChat Pay** bills (``downloadbill``): every field prefixed with a backtick, refunds as
  rows of their own, a summary after the orders; 用户标识 is the buyer's OpenID and
  商户数据包 the ``attach`` a brand's mini program fills with guanxi's code.
- **JD** order export (订单号, 下单时间, 应付金额, 订单状态, 商品名称, 订购数量, 客户地址).
- **Any CSV or XLSX** with guanxi's own column names (``order_id``, ``ordered_at``,
  ``amount`` in yuan, and any of the identifier columns).

Times without a zone are Beijing time; amounts are CNY unless a ``currency`` column says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from guanxi.convert.models import OrderStatus
from guanxi.convert.orders.lines import (
    OrderLine,
    RefundLine,
    province_of,
    read_id,
    read_money,
    read_quantity,
    read_text,
    refund_key,
)
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.core.tables import (
    CHINA,
    FieldError,
    RowError,
    clean,
    read_time,
    sniff_encoding,
    table_rows,
)

Line = OrderLine | RefundLine
ReadRows = Iterator[tuple[int, Line | RowError]]


@dataclass(frozen=True)
class Context:
    """What a reader needs to know: the workspace's promo codes (upper case), and for a file
    with other column names its mapping (guanxi's field → the file's column), the unit of
    its amounts and the time zone of its times."""

    promo_codes: frozenset[str] = frozenset()
    mapping: Mapping[str, str] = field(default_factory=dict)
    in_fen: bool = False
    zone: tzinfo = CHINA


@dataclass(frozen=True)
class OrderFormat:
    """One shop's export: its name for people, the columns that tell it, its reader."""

    label: str
    required: tuple[str, ...]
    read_row: Callable[[Mapping[str, Any], Context], list[Line]]
    stops_at: str = ""  # a first-column value after which the file holds no orders


def _status(value: str, mapping: Mapping[str, OrderStatus], *, paid: bool) -> OrderStatus:
    for marker, status in mapping.items():
        if marker in value:
            return status
    return OrderStatus.PAID if paid else OrderStatus.PENDING


def _with_refund(order: OrderLine, refunded_fen: int) -> list[Line]:
    """The order, and the refund on it when the row shows one (one refund per order row,
    known by the order's id, so a re-import updates it)."""
    if not refunded_fen:
        return [order]
    return [order, RefundLine(refund_key(order.external_id), order.external_id, refunded_fen)]


_CODE_TOKEN = re.compile(r"[A-Za-z0-9\u4e00-\u9fff_-]+")


def _find_code(texts: list[str], context: Context) -> str:
    """The first of the workspace's promo codes written in ``texts``."""
    if not context.promo_codes:
        return ""
    for text in texts:
        for token in _CODE_TOKEN.findall(text.upper()):
            if token in context.promo_codes:
                return str(token)
    return ""


TMALL_STATUS = {
    "交易关闭": OrderStatus.CANCELLED,
    "等待买家付款": OrderStatus.PENDING,
    "交易成功": OrderStatus.PAID,
    "已付款": OrderStatus.PAID,
    "已发货": OrderStatus.PAID,
}


def _tmall(row: Mapping[str, Any], context: Context) -> list[Line]:
    order_id = read_id(row, "订单编号")
    paid_text = clean(row.get("订单付款时间"))
    paid_at = read_time(row, "订单付款时间") if paid_text else None
    order = OrderLine(
        external_id=order_id,
        status=_status(clean(row.get("订单状态")), TMALL_STATUS, paid=paid_at is not None),
        ordered_at=read_time(row, "订单创建时间"),
        paid_at=paid_at,
        amount_fen=read_money(row, "买家实际支付金额"),
        shop=read_text(row, "店铺名称", 120),
        items=read_text(row, "宝贝标题", 400),
        quantity=read_quantity(row, "宝贝总数量"),
        province=province_of(clean(row.get("收货地址"))),
        promo_code=_find_code(
            [clean(row.get(c)) for c in ("订单备注", "买家留言", "优惠详情", "店铺优惠")], context
        ),
    )
    return _with_refund(order, read_money(row, "退款金额"))


DOUYIN_STATUS = {
    "4": OrderStatus.CANCELLED,
    "已取消": OrderStatus.CANCELLED,
    "待支付": OrderStatus.PENDING,
    "待确认": OrderStatus.PENDING,
    "1": OrderStatus.PENDING,
}


def _douyin(row: Mapping[str, Any], _context: Context) -> list[Line]:
    order_id = read_id(row, "order_id")
    pay_text = clean(row.get("pay_time"))
    paid_at = read_time(row, "pay_time") if pay_text and pay_text != "0" else None
    status_text = clean(row.get("order_status"))
    order = OrderLine(
        external_id=order_id,
        status=DOUYIN_STATUS.get(status_text)
        or (OrderStatus.PAID if paid_at else OrderStatus.PENDING),
        ordered_at=read_time(row, "create_time"),
        paid_at=paid_at,
        amount_fen=read_money(row, "pay_amount", in_fen=True),
        shop=read_text(row, "shop_name", 120),
        items=read_text(row, "product_name", 400),
        quantity=read_quantity(row, "item_num"),
        province=province_of(clean(row.get("province"))),
        author_id=read_id(row, "author_id", required=False),
        author_name=read_text(row, "author_name", 120),
        video_id=read_id(row, "video_id", required=False),
        room_id=read_id(row, "room_id", required=False),
        traffic_source=read_text(row, "send_pay", 20) or read_text(row, "c_biz", 20),
    )
    return _with_refund(order, read_money(row, "refund_amount", in_fen=True))


def _wechat_pay(row: Mapping[str, Any], _context: Context) -> list[Line]:
    state = read_text(row, "交易状态", 20).upper()
    order_id = read_id(row, "商户订单号")
    at = read_time(row, "交易时间")
    if state == "REFUND":
        refund_id = read_id(row, "微信退款单号", required=False) or read_id(row, "商户退款单号")
        return [RefundLine(refund_id, order_id, read_money(row, "退款金额"), refunded_at=at)]
    if state not in ("SUCCESS", "REVOKED", "NOTPAY", "CLOSED", "PAYERROR", "USERPAYING"):
        raise FieldError(
            "交易状态",
            N_("The state of this payment is not one WeChat Pay writes."),
            N_("Check that the file is a WeChat Pay bill (downloadbill)."),
            state,
        )
    amount_column = "订单金额" if clean(row.get("订单金额")) else "应结订单金额"
    return [
        OrderLine(
            external_id=order_id,
            status=OrderStatus.PAID if state == "SUCCESS" else OrderStatus.CANCELLED,
            ordered_at=at,
            paid_at=at if state == "SUCCESS" else None,
            amount_fen=read_money(row, amount_column),
            currency=read_text(row, "货币种类", 3).upper() or "CNY",
            items=read_text(row, "商品名称", 400),
            openid=read_text(row, "用户标识", 64),
            attach=read_text(row, "商户数据包", 128),
        )
    ]


JD_STATUS = {
    "取消": OrderStatus.CANCELLED,
    "等待付款": OrderStatus.PENDING,
    "完成": OrderStatus.PAID,
    "出库": OrderStatus.PAID,
    "收货": OrderStatus.PAID,
}


def _jd(row: Mapping[str, Any], context: Context) -> list[Line]:
    amount_column = "应付金额" if clean(row.get("应付金额")) else "订单金额"
    return [
        OrderLine(
            external_id=read_id(row, "订单号"),
            status=_status(clean(row.get("订单状态")), JD_STATUS, paid=True),
            ordered_at=read_time(row, "下单时间"),
            amount_fen=read_money(row, amount_column),
            items=read_text(row, "商品名称", 400),
            quantity=read_quantity(row, "订购数量"),
            shop=read_text(row, "店铺名称", 120),
            province=province_of(clean(row.get("客户地址"))),
            promo_code=_find_code([clean(row.get("订单备注"))], context),
        )
    ]


CANONICAL_STATUS = {
    "cancel": OrderStatus.CANCELLED,
    "refund": OrderStatus.CANCELLED,
    "pending": OrderStatus.PENDING,
    "unpaid": OrderStatus.PENDING,
}


def _canonical(row: Mapping[str, Any], context: Context) -> list[Line]:
    """A row with guanxi's column names, or a file's row read through its column mapping
    (an error then names the file's column)."""
    if not context.mapping:
        return _canonical_row(row, context)
    fields = {name: row.get(column) for name, column in context.mapping.items()}
    try:
        return _canonical_row(fields, context)
    except FieldError as exc:
        exc.column = context.mapping.get(exc.column, exc.column)
        raise


def _canonical_row(row: Mapping[str, Any], context: Context) -> list[Line]:
    order_id = read_id(row, "order_id")
    code = read_text(row, "promo_code", 40).upper()
    paid_text = clean(row.get("paid_at"))
    order = OrderLine(
        external_id=order_id,
        status=_status(clean(row.get("status")).lower(), CANONICAL_STATUS, paid=True),
        ordered_at=read_time(row, "ordered_at", zone=context.zone),
        paid_at=read_time(row, "paid_at", zone=context.zone) if paid_text else None,
        amount_fen=read_money(row, "amount", in_fen=context.in_fen),
        currency=read_text(row, "currency", 3).upper() or "CNY",
        shop=read_text(row, "shop", 120),
        items=read_text(row, "items", 400),
        quantity=read_quantity(row, "quantity"),
        province=province_of(clean(row.get("province"))),
        click_id=read_text(row, "click_id", 32),
        promo_code=code,
        openid=read_text(row, "openid", 64),
        scene=read_text(row, "scene", 64),
        attach=read_text(row, "attach", 128),
    )
    return _with_refund(order, read_money(row, "refund_amount", in_fen=context.in_fen))


FORMATS: dict[str, OrderFormat] = {
    "tmall": OrderFormat(N_("Taobao / Tmall order export"), ("订单编号", "订单创建时间"), _tmall),
    "douyin-shop": OrderFormat(
        N_("Douyin shop (抖店) orders"), ("order_id", "create_time"), _douyin
    ),
    "wechat-pay": OrderFormat(
        N_("WeChat Pay bill"), ("交易时间", "商户订单号", "交易状态"), _wechat_pay, "总交易单数"
    ),
    "jd": OrderFormat(N_("JD order export"), ("订单号", "下单时间"), _jd),
    "csv": OrderFormat(
        N_("Any CSV or Excel file"), ("order_id", "ordered_at", "amount"), _canonical
    ),
}
SOURCE_OF_FORMAT = {
    "tmall": "tmall",
    "douyin-shop": "douyin_shop",
    "wechat-pay": "wechat_pay",
    "jd": "jd",
    "csv": "csv",
}


def read_orders(path: Path, order_format: str, *, context: Context) -> ReadRows:
    """The orders and refunds of the file at ``path`` in ``order_format``, each with its
    line; a row that cannot be read is its ``RowError`` and the next rows are still read."""
    shape = FORMATS.get(order_format)
    if shape is None:
        raise UserError(
            N_("Unknown order format {name}: use one of {names}."),
            name=order_format,
            names=", ".join(FORMATS),
        )
    file_format = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"

    required = shape.required
    if context.mapping:
        required = tuple(context.mapping[name] for name in shape.required)

    def check_header(header: list[str]) -> None:
        names = {clean(name).lstrip("`") for name in header}
        missing = [column for column in required if column not in names]
        if missing:
            raise UserError(
                N_("This is not a {label}: the columns {columns} are missing."),
                label=i18n.gettext(shape.label),
                columns=", ".join(missing),
            )

    stop = _line_starting(path, shape.stops_at) if shape.stops_at else None
    for line, read in table_rows(path, file_format, on_header=check_header):
        if stop is not None and line >= stop:
            return  # the bill's summary: no more orders
        if isinstance(read, RowError):
            yield line, read
            continue
        row = {clean(key).lstrip("`"): _unticked(value) for key, value in read.items()}
        try:
            lines = shape.read_row(row, context)
        except FieldError as exc:
            yield line, exc.row_error(line)
            continue
        for found in lines:
            yield line, found


def _unticked(value: object) -> object:
    """A WeChat Pay cell without the backtick that keeps Excel from reading it as a number."""
    return value.lstrip("`") if isinstance(value, str) else value


def _line_starting(path: Path, marker: str) -> int | None:
    """The number of the first line of ``path`` that starts with ``marker`` (WeChat Pay's
    summary, whose rows have other columns than the bill's)."""
    with path.open(encoding=sniff_encoding(path), errors="replace", newline="") as text:
        for number, line in enumerate(text, start=1):
            if line.lstrip("\ufeff").startswith(marker):
                return number
    return None
