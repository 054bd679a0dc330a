"""Storing orders and refunds: each once, by its source and id, so a file imported again
(or a conversion posted twice) updates the same rows and adds none; a bad row is reported
with its line and the others are kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from guanxi.convert.models import (
    ConversionCreate,
    ConversionRead,
    Order,
    OrderRefund,
    OrderStatus,
    PromoCode,
)
from guanxi.convert.orders.lines import OrderLine, RefundLine, province_of, refund_key
from guanxi.convert.orders.readers import Context
from guanxi.core.db import utcnow
from guanxi.core.tables import RowError
from guanxi.core.upsert import insert_statement

API_SOURCE = "api"
BATCH = 1_000
ERRORS_KEPT = 500  # rows with errors listed in a report; the count is always whole


@dataclass
class ImportReport:
    """What an import did: orders added, updated and found unchanged, refunds, and the
    rows refused."""

    orders_added: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    refunds: int = 0
    rows_failed: int = 0
    errors: list[RowError] = field(default_factory=list)


def reading_context(db: Session, *, workspace_id: int) -> Context:
    """What the readers need of the workspace (its promo codes)."""
    codes = db.scalars(select(PromoCode.code).where(PromoCode.workspace_id == workspace_id))
    return Context(promo_codes=frozenset(codes))


def import_lines(
    db: Session,
    *,
    workspace_id: int,
    source: str,
    lines: Iterable[tuple[int, OrderLine | RefundLine | RowError]],
) -> ImportReport:
    """Store the orders and refunds read from a file (committing every ``BATCH``)."""
    report = ImportReport()
    orders: list[OrderLine] = []
    refunds: list[RefundLine] = []
    for _line, read in lines:
        if isinstance(read, RowError):
            report.rows_failed += 1
            if len(report.errors) < ERRORS_KEPT:
                report.errors.append(read)
        elif isinstance(read, RefundLine):
            refunds.append(read)
        else:
            orders.append(read)
        if len(orders) + len(refunds) >= BATCH:
            _flush(db, workspace_id, source, orders, refunds, report)
    _flush(db, workspace_id, source, orders, refunds, report)
    return report


def _flush(
    db: Session,
    workspace_id: int,
    source: str,
    orders: list[OrderLine],
    refunds: list[RefundLine],
    report: ImportReport,
) -> None:
    if orders:
        added, updated, unchanged = upsert_orders(
            db, workspace_id=workspace_id, source=source, orders=orders
        )
        report.orders_added += added
        report.orders_updated += updated
        report.orders_unchanged += unchanged
    if refunds:
        upsert_refunds(db, workspace_id=workspace_id, source=source, refunds=refunds)
        report.refunds += len(refunds)
    db.commit()
    orders.clear()
    refunds.clear()


def upsert_orders(
    db: Session, *, workspace_id: int, source: str, orders: Sequence[OrderLine]
) -> tuple[int, int, int]:
    """Insert the orders, or update those stored before that changed; how many were added,
    updated and found as they were (those are not written, so their update time stays)."""
    latest = {order.external_id: order for order in orders}  # a file may list one twice
    fields = [name for name in _ORDER_FIELDS if name != "external_id"]
    stored = {
        row.external_id: tuple(getattr(row, name) for name in fields)
        for row in db.execute(
            select(Order.external_id, *(getattr(Order, name) for name in fields)).where(
                Order.workspace_id == workspace_id,
                Order.source == source,
                Order.external_id.in_(list(latest)),
            )
        )
    }
    changed = [
        order
        for order in latest.values()
        if stored.get(order.external_id) != _comparable(order, fields)
    ]
    unchanged = len(latest) - len(changed)
    added = sum(1 for order in changed if order.external_id not in stored)
    if changed:
        rows = [
            {**asdict(order), "workspace_id": workspace_id, "source": source} for order in changed
        ]
        statement = insert_statement(db, Order)
        db.execute(
            statement.on_conflict_do_update(
                index_elements=["workspace_id", "source", "external_id"],
                set_={
                    **{name: statement.excluded[name] for name in fields},
                    "updated_at": utcnow(),
                },
            ),
            rows,
        )
    return added, len(changed) - added, unchanged


_ORDER_FIELDS = tuple(OrderLine.__dataclass_fields__)


def _comparable(order: OrderLine, fields: list[str]) -> tuple[object, ...]:
    """The order's values as the database gives them back (times compared in UTC)."""
    return tuple(getattr(order, name) for name in fields)


def upsert_refunds(
    db: Session, *, workspace_id: int, source: str, refunds: Sequence[RefundLine]
) -> None:
    """Insert the refunds, or update the amount of those stored before."""
    rows = [
        {**asdict(refund), "workspace_id": workspace_id, "source": source}
        for refund in {refund.external_id: refund for refund in refunds}.values()
    ]
    statement = insert_statement(db, OrderRefund)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "source", "external_id"],
            set_={
                "amount_fen": statement.excluded.amount_fen,
                "refunded_at": statement.excluded.refunded_at,
                "order_external_id": statement.excluded.order_external_id,
            },
        ),
        rows,
    )


def record_conversion(
    db: Session, *, workspace_id: int, conversion: ConversionCreate
) -> ConversionRead:
    """Store one order the API received (source ``api``), with its refund total."""
    order_id = conversion.order_id.strip()
    amount = round(conversion.amount * 100)
    refunded = min(round(conversion.refunded * 100), amount)
    added, _updated, _unchanged = upsert_orders(
        db,
        workspace_id=workspace_id,
        source=API_SOURCE,
        orders=[
            OrderLine(
                external_id=order_id,
                status=conversion.status,
                ordered_at=conversion.ordered_at,
                paid_at=conversion.ordered_at if conversion.status == OrderStatus.PAID else None,
                amount_fen=amount,
                currency=conversion.currency.upper(),
                items=conversion.items,
                quantity=conversion.quantity,
                province=province_of(conversion.province),
                click_id=conversion.click_id.strip(),
                promo_code=conversion.promo_code.strip().upper(),
                openid=conversion.openid.strip(),
                scene=conversion.scene.strip(),
                attach=conversion.attach.strip(),
            )
        ],
    )
    refund_id = refund_key(order_id)
    if refunded:
        refund = RefundLine(refund_id, order_id, refunded)
        upsert_refunds(db, workspace_id=workspace_id, source=API_SOURCE, refunds=[refund])
    else:  # a refund cancelled since (the order is whole again)
        db.execute(
            delete(OrderRefund).where(
                OrderRefund.workspace_id == workspace_id,
                OrderRefund.source == API_SOURCE,
                OrderRefund.external_id == refund_id,
            )
        )
    stored = db.scalars(
        select(Order).where(
            Order.workspace_id == workspace_id,
            Order.source == API_SOURCE,
            Order.external_id == order_id,
        )
    ).one()
    return ConversionRead(
        id=stored.id,
        order_id=order_id,
        amount_fen=stored.amount_fen,
        refunded_fen=refunded,
        created=bool(added),
    )
