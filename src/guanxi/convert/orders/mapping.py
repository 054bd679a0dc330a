"""Files whose shape guanxi must be told: which format an upload is (found from its
headers where they tell), and for any CSV or Excel file with other column names, which of
its columns holds each of guanxi's order fields, the unit of its amounts and its time zone.

The mapping is asked once on the orders page and remembered per workspace and header row
(``guanxi.mappings``), so the next file with the same headers imports without asking;
``guanxi convert import --mapping NAME`` uses a named one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from guanxi.convert.orders.platform import REPORTS
from guanxi.convert.orders.readers import FORMATS
from guanxi.core.errors import N_, UserError
from guanxi.mappings import service as mappings

PURPOSE = "orders"  # the remembered mappings of order files
DEFAULT_ZONE = "Asia/Shanghai"
UNITS = {"yuan": N_("Yuan (199.00)"), "fen": N_("Fen (19900)")}

# guanxi's order fields, in the order the mapping step shows them.
FIELDS: dict[str, str] = {
    "order_id": N_("Order id"),
    "ordered_at": N_("Ordered at"),
    "amount": N_("Amount paid"),
    "status": N_("Status"),
    "paid_at": N_("Paid at"),
    "currency": N_("Currency"),
    "refund_amount": N_("Amount refunded"),
    "click_id": N_("Click id (gx_click)"),
    "promo_code": N_("Promo code"),
    "openid": N_("OpenID (WeChat)"),
    "scene": N_("Scene key"),
    "attach": N_("Attach code (商户数据包)"),
    "province": N_("Province or address"),
    "items": N_("Items"),
    "quantity": N_("Quantity"),
    "shop": N_("Shop"),
}
REQUIRED = ("order_id", "ordered_at", "amount")

# Header names shops and spreadsheets use (normalised as ``mappings.normalised`` does).
GUESSES: dict[str, tuple[str, ...]] = {
    "order_id": (
        "order_id",
        "orderid",
        "order_no",
        "orderno",
        "ordername",
        "name",
        "订单号",
        "订单编号",
        "订单id",
        "主订单编号",
    ),
    "ordered_at": (
        "ordered_at",
        "created_at",
        "createdat",
        "order_time",
        "ordertime",
        "orderdate",
        "下单时间",
        "创建时间",
        "订单创建时间",
        "订单时间",
    ),
    "amount": (
        "amount",
        "total",
        "pay_amount",
        "实付金额",
        "实付款",
        "支付金额",
        "订单金额",
        "应付金额",
        "金额",
    ),
    "status": ("status", "order_status", "financialstatus", "订单状态", "状态"),
    "paid_at": ("paid_at", "paidat", "pay_time", "支付时间", "付款时间"),
    "currency": ("currency", "币种", "货币"),
    "refund_amount": ("refund_amount", "refundedamount", "refunded", "退款金额", "已退款金额"),
    "click_id": ("click_id", "gx_click"),
    "promo_code": ("promo_code", "discountcode", "coupon", "优惠码", "口令", "推广码"),
    "openid": ("openid", "用户标识"),
    "scene": ("scene", "场景值"),
    "attach": ("attach", "商户数据包", "附加数据"),
    "province": ("province", "省份", "收货地址", "地址", "省"),
    "items": ("items", "product_name", "商品名称", "商品", "宝贝标题"),
    "quantity": ("quantity", "商品数量", "数量", "购买数量"),
    "shop": ("shop", "shop_name", "店铺", "店铺名称"),
}


def detect_format(columns: list[str]) -> str | None:
    """The format the headers name: a shop's export, guanxi's own columns, a platform's
    report; None when they name none (the file then needs a column mapping)."""
    names = set(columns)
    for key, shape in FORMATS.items():
        if all(column in names for column in shape.required):
            return key
    normalised = {mappings.normalised(column) for column in columns}
    for key, report in REPORTS.items():
        if all(normalised & set(report.guesses[name]) for name in report.tells):
            return key
    return None


def guess(columns: list[str]) -> dict[str, str]:
    """The first guess of the mapping from the headers' names."""
    return mappings.guess(GUESSES, columns)


def check_mapping(mapping: Mapping[str, str], columns: list[str]) -> dict[str, str]:
    """The chosen columns, refused when a required field has none, a column is not in the
    file, or one column is chosen for two fields."""
    chosen = {name: column for name, column in mapping.items() if name in FIELDS and column}
    for name in REQUIRED:
        if name not in chosen:
            raise UserError(
                N_("Choose the column that holds “{field}”: it is needed for every order."),
                field=FIELDS[name],
            )
    seen: set[str] = set()
    for column in chosen.values():
        if column not in columns:
            raise UserError(N_("The file has no column “{column}”."), column=column)
        if column in seen:
            raise UserError(
                N_("The column “{column}” is chosen for two fields; choose it for one."),
                column=column,
            )
        seen.add(column)
    return chosen


def check_options(options: Mapping[str, str]) -> dict[str, str]:
    """The amount unit (yuan or fen) and the IANA time zone, checked."""
    unit = options.get("unit", "yuan") or "yuan"
    if unit not in UNITS:
        raise UserError(N_("Choose whether the amounts are in yuan or in fen."))
    zone = (options.get("zone") or DEFAULT_ZONE).strip()
    if len(zone) > 60 or zone not in _zones():
        raise UserError(
            N_("“{zone}” is not a time zone guanxi knows. Write one like Asia/Shanghai."),
            zone=zone[:60],
        )
    return {"unit": unit, "zone": zone}


def zone_of(options: Mapping[str, str]) -> ZoneInfo:
    """The time zone the options name (checked before), Beijing time by default."""
    try:
        return ZoneInfo(options.get("zone") or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


@cache
def _zones() -> frozenset[str]:
    """The IANA zone names (read once: listing them walks the tz database)."""
    return frozenset(available_timezones())
