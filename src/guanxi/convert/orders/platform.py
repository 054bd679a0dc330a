"""Conversions the platforms report without an API, uploaded as files: aggregates per day
and note or ad plan, stored as *platform-reported* figures and never mixed with the orders
guanxi attributes itself.

- **Xiaohongshu 小红星** (the Xiaohongshu–Tmall/JD programme): per note and day, the visits
  to the shop it brought (进店), and the orders and sales the shop counted (成交订单,
  成交金额).
- **JD 京准通** ad reports: per plan (计划) and day, impressions (展现数), clicks (点击数),
  spend (花费, a cost), order lines (总订单行) and their value (总订单金额).

Both are read with ``guanxi.core.tables`` (GBK or UTF-8 with a BOM, XLSX); a totals row
(合计, 总计, 汇总) is left out; the columns are found from their names, and a file with other
names goes through the mapping step like any CSV of orders.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.convert.models import PlatformConversion, ReportSource
from guanxi.convert.orders.lines import read_money, read_text
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.core.tables import FieldError, RowError, clean, read_count, read_day, table_rows
from guanxi.core.upsert import insert_statement

TOTALS = frozenset({"合计", "总计", "汇总", "total", "总和"})

# The fields a report's mapping fills, with their labels.
REPORT_FIELDS: dict[str, str] = {
    "day": N_("Day"),
    "subject_id": N_("Note or plan id"),
    "subject_name": N_("Note title or plan name"),
    "impressions": N_("Impressions"),
    "clicks": N_("Clicks"),
    "visits": N_("Visits to the shop (进店)"),
    "orders": N_("Orders"),
    "revenue": N_("Sales (成交金额)"),
    "spend": N_("Spend (花费)"),
}


@dataclass(frozen=True)
class ReportShape:
    """One platform's report: its label, the header names of each field, the fields that
    tell the report from its headers, the fields every row needs."""

    source: ReportSource
    label: str
    name: str  # short, for a table's cell
    guesses: dict[str, tuple[str, ...]]
    tells: tuple[str, ...]
    required: tuple[str, ...]


_DAY = ("日期", "时间", "数据日期", "统计日期", "day", "date")
REPORTS: dict[str, ReportShape] = {
    "xiaohongshu": ReportShape(
        ReportSource.XIAOHONGSHU,
        N_("Xiaohongshu 小红星 report (Tmall/JD sales from notes)"),
        N_("Xiaohongshu 小红星"),
        {
            "day": _DAY,
            "subject_id": ("笔记id", "noteid", "note_id", "笔记编号"),
            "subject_name": ("笔记标题", "笔记名称", "笔记", "标题"),
            "impressions": ("曝光量", "曝光数", "笔记曝光", "曝光"),
            "clicks": ("阅读量", "点击量", "点击数", "笔记阅读"),
            "visits": ("进店人数", "进店次数", "进店uv", "进店pv", "进店访客数", "进店"),
            "orders": ("成交订单数", "成交订单量", "成交订单", "成交订单数量"),
            "revenue": ("成交金额", "成交gmv", "成交订单金额", "gmv"),
            "spend": (),
        },
        tells=("subject_name", "visits", "revenue"),
        required=("day", "revenue"),
    ),
    "jd-ads": ReportShape(
        ReportSource.JD_ADS,
        N_("JD 京准通 ad report"),
        N_("JD 京准通"),
        {
            "day": _DAY,
            "subject_id": ("计划id", "推广计划id", "campaignid"),
            "subject_name": ("计划名称", "推广计划", "计划", "计划名", "推广计划名称"),
            "impressions": ("展现数", "展现量", "曝光数"),
            "clicks": ("点击数", "点击量"),
            "visits": (),
            "orders": ("总订单行", "订单行", "总订单数", "成交订单行", "成交订单数"),
            "revenue": ("总订单金额", "成交金额", "订单金额", "gmv"),
            "spend": ("花费", "总花费", "总费用", "消耗", "费用"),
        },
        tells=("subject_name", "impressions", "spend"),
        required=("day", "subject_name"),
    ),
}


@dataclass(frozen=True)
class ReportLine:
    """One day of one note's or plan's reported results."""

    day: date
    subject_key: str
    subject_name: str
    impressions: int = 0
    clicks: int = 0
    visits: int = 0
    orders: int = 0
    revenue_fen: int = 0
    spend_fen: int = 0


def check_report_mapping(
    report: ReportShape, mapping: Mapping[str, str], columns: list[str]
) -> dict[str, str]:
    """The chosen columns, refused when a needed one is missing or not in the file."""
    chosen = {name: column for name, column in mapping.items() if name in REPORT_FIELDS and column}
    for name in report.required:
        if name not in chosen:
            raise UserError(
                N_("Choose the column that holds “{field}”: it is needed for every row."),
                field=REPORT_FIELDS[name],
            )
    if not ({"subject_id", "subject_name"} & chosen.keys()):
        raise UserError(N_("Choose the column that holds the note's or the plan's id or name."))
    for column in chosen.values():
        if column not in columns:
            raise UserError(N_("The file has no column “{column}”."), column=column)
    return chosen


def _count(row: Mapping[str, Any], column: str | None) -> int:
    if not column:
        return 0
    value = row.get(column)
    text = clean(value).lower() if isinstance(value, str) else ""
    if isinstance(value, str) and text in ("", "-", "--", "—", "/", "null"):
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return read_count({column: value}, column)


def _money(row: Mapping[str, Any], column: str | None) -> int:
    if not column:
        return 0
    text = clean(row.get(column))
    return 0 if text in ("-", "--", "—") else read_money(row, column)


def _line(row: Mapping[str, Any], mapping: Mapping[str, str]) -> ReportLine:
    subject_id = read_text(row, mapping.get("subject_id", ""), 200)
    name = read_text(row, mapping.get("subject_name", ""), 200)
    if not (subject_id or name):
        raise FieldError(
            mapping.get("subject_id") or mapping.get("subject_name", ""),
            N_("The note or plan is missing."),
            N_("Fill in its id or name, or remove the row."),
        )
    return ReportLine(
        day=read_day(row, mapping["day"]),
        subject_key=subject_id or name,
        subject_name=name or subject_id,
        impressions=_count(row, mapping.get("impressions")),
        clicks=_count(row, mapping.get("clicks")),
        visits=_count(row, mapping.get("visits")),
        orders=_count(row, mapping.get("orders")),
        revenue_fen=_money(row, mapping.get("revenue")),
        spend_fen=_money(row, mapping.get("spend")),
    )


def _is_totals(row: Mapping[str, Any], mapping: Mapping[str, str]) -> bool:
    """The report's totals row: its first cell, day or name says 合计, 总计, 汇总..."""
    first = next(iter(row.values()), "")
    cells = [first, row.get(mapping["day"]), row.get(mapping.get("subject_name", ""))]
    return any(clean(cell).lower().rstrip(":：") in TOTALS for cell in cells)


def read_report(
    path: Path, file_format: str, *, mapping: Mapping[str, str]
) -> Iterator[tuple[int, ReportLine | RowError]]:
    """The report's rows as ``ReportLine`` with their line, or each row's error; the totals
    row is left out (it would count every figure twice)."""
    for line, read in table_rows(path, file_format):
        if isinstance(read, RowError):
            yield line, read
            continue
        row = {clean(key): value for key, value in read.items()}
        if _is_totals(row, mapping):
            continue
        try:
            yield line, _line(row, mapping)
        except FieldError as exc:
            yield line, exc.row_error(line)


_FIGURES = (
    "subject_name",
    "impressions",
    "clicks",
    "visits",
    "orders",
    "revenue_fen",
    "spend_fen",
)


def store_report(
    db: Session,
    *,
    workspace_id: int,
    source: ReportSource,
    lines: list[ReportLine],
    import_id: int | None,
) -> tuple[int, int, int]:
    """Insert each day of a note or plan, or update the one stored before when its figures
    changed; how many were added, updated and found as they were."""
    latest = {(line.day, line.subject_key): line for line in lines}
    figures = _FIGURES
    stored: dict[tuple[date, str], tuple[object, ...]] = {}
    days = sorted({day for day, _key in latest})
    if days:
        query = select(
            PlatformConversion.day,
            PlatformConversion.subject_key,
            *(getattr(PlatformConversion, name) for name in figures),
        ).where(
            PlatformConversion.workspace_id == workspace_id,
            PlatformConversion.source == source,
            PlatformConversion.day.between(days[0], days[-1]),
        )
        stored = {(row[0], row[1]): tuple(row[2:]) for row in db.execute(query)}
    changed = [
        line
        for key, line in latest.items()
        if stored.get(key) != tuple(getattr(line, name) for name in figures)
    ]
    added = sum(1 for line in changed if (line.day, line.subject_key) not in stored)
    if changed:
        statement = insert_statement(db, PlatformConversion)
        db.execute(
            statement.on_conflict_do_update(
                index_elements=["workspace_id", "source", "day", "subject_key"],
                set_={
                    **{name: statement.excluded[name] for name in figures},
                    "import_id": statement.excluded.import_id,
                    "updated_at": utcnow(),
                },
            ),
            [
                {
                    **asdict(line),
                    "workspace_id": workspace_id,
                    "source": source,
                    "import_id": import_id,
                    "updated_at": utcnow(),
                }
                for line in changed
            ],
        )
    return added, len(changed) - added, len(latest) - len(changed)


@dataclass(frozen=True)
class ReportedTotal:
    """A note's or plan's reported figures summed over a period."""

    source: ReportSource
    subject_key: str
    subject_name: str
    impressions: int
    clicks: int
    visits: int
    orders: int
    revenue_fen: int
    spend_fen: int


def reported_totals(
    db: Session, *, workspace_id: int, first_day: date, last_day: date, limit: int = 50
) -> list[ReportedTotal]:
    """Each note's and plan's platform-reported figures over the days, largest sales first."""
    table = PlatformConversion
    sums = (
        func.sum(table.impressions),
        func.sum(table.clicks),
        func.sum(table.visits),
        func.sum(table.orders),
        func.sum(table.revenue_fen),
        func.sum(table.spend_fen),
    )
    query = (
        select(table.source, table.subject_key, func.max(table.subject_name), *sums)
        .where(table.workspace_id == workspace_id, table.day.between(first_day, last_day))
        .group_by(table.source, table.subject_key)
        .order_by(func.sum(table.revenue_fen).desc(), table.subject_key)
        .limit(limit)
    )
    return [
        ReportedTotal(ReportSource(row[0]), row[1], row[2], *(int(value or 0) for value in row[3:]))
        for row in db.execute(query)
    ]
