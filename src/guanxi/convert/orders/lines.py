"""An order or a refund as every reader gives it, and the value readers the shops' exports
need (ids Excel was kept from mangling, money in yuan or fen)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from guanxi.convert.models import OrderStatus
from guanxi.core.errors import N_
from guanxi.core.tables import FieldError, clean

MAX_FEN = 10**13  # 100 billion yuan: a larger amount is a misread column
_PROVINCE_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")


@dataclass(frozen=True)
class OrderLine:
    """One order as read from a file or the API."""

    external_id: str
    status: OrderStatus
    ordered_at: datetime
    amount_fen: int
    paid_at: datetime | None = None
    currency: str = "CNY"
    shop: str = ""
    items: str = ""
    quantity: int = 0
    province: str = ""
    click_id: str = ""
    promo_code: str = ""
    openid: str = ""
    scene: str = ""
    attach: str = ""
    author_id: str = ""
    author_name: str = ""
    video_id: str = ""
    room_id: str = ""
    traffic_source: str = ""


@dataclass(frozen=True)
class RefundLine:
    """Money given back on an order."""

    external_id: str
    order_external_id: str
    amount_fen: int
    refunded_at: datetime | None = None


def refund_key(order_id: str) -> str:
    """The id of the one refund a shop's order row (or the API) gives for ``order_id``."""
    return f"{order_id}:refund"


def read_id(row: Mapping[str, Any], column: str, *, required: bool = True) -> str:
    """An id as the shop wrote it, without what kept Excel from turning it into a number:
    Taobao's ``="3612…"`` or ``=3612…``, WeChat Pay's leading backtick, quotes, tabs."""
    text = clean(row.get(column)).lstrip("`").strip()
    text = text.removeprefix("=").strip().strip('"').strip("'").strip()
    if required and not text:
        raise FieldError(
            column,
            N_("The order id is missing."),
            N_("Export the orders again with their order ids."),
        )
    if len(text) > 64:
        raise FieldError(
            column, N_("The id is too long."), N_("Check that this is the id column."), text
        )
    return text


def read_text(row: Mapping[str, Any], column: str, limit: int) -> str:
    """Text of at most ``limit`` characters (cut, not refused), without WeChat's backtick."""
    return clean(row.get(column)).lstrip("`").strip()[:limit]


def read_money(row: Mapping[str, Any], column: str, *, in_fen: bool = False) -> int:
    """An amount in fen: written in yuan ("¥1,234.50", "88.00") unless ``in_fen``; empty
    is 0; negative or unreadable is the row's error."""
    text = clean(row.get(column)).lstrip("`").replace(",", "").replace("¥", "").replace("￥", "")
    text = text.removesuffix("元").strip()
    if not text:
        return 0
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise FieldError(
            column,
            N_("The amount cannot be read."),
            N_("Write amounts as numbers, e.g. 199.00."),
            text,
        ) from None
    fen = amount if in_fen else amount * 100
    if fen < 0 or fen >= MAX_FEN or fen != fen.to_integral_value():
        raise FieldError(
            column,
            N_("The amount is out of range."),
            N_("Check that this column holds the amount paid."),
            text,
        )
    return int(fen)


def read_quantity(row: Mapping[str, Any], column: str) -> int:
    """A number of items; empty or unreadable is 0 (it is informative only)."""
    text = clean(row.get(column)).lstrip("`")
    return int(text) if text.isdecimal() and len(text) < 9 else 0


def province_of(address: str) -> str:
    """The province of a Chinese address written province first ("广东省 深圳市 …" →
    "广东"), for comparing regions; "" when there is none."""
    first = address.strip().split(" ", 1)[0].split("\u3000", 1)[0]
    return _PROVINCE_SUFFIX.sub("", first)[:20]
