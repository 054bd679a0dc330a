"""The drill-down list as a file: CSV (UTF-8 with BOM, so Excel reads Chinese) or XLSX.

Rows are read in pages and written as they come (openpyxl's write-only workbook), so an
export of up to ``EXPORT_LIMIT`` mentions holds only the finished file in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from guanxi.core.errors import N_
from guanxi.core.filelimits import formula_safe
from guanxi.listening.insight.models import MentionRowRead
from guanxi.listening.insight.service import DashboardFilters, export_rows
from guanxi.web.exports import iso_time, time_column, xlsx_bytes

EXPORT_LIMIT = 100_000
COLUMNS = (
    "posted_at",
    "platform",
    "author",
    "author_kind",
    "followers",
    "text",
    "sentiment",
    "positive_probability",
    "source_kind",
    "stage",
    "stage_cue",
    "topics",
    "url",
)


def columns(zone: str) -> tuple[str, ...]:
    """The export's header: the time column names the zone its times are in."""
    return (time_column(COLUMNS[0], zone), *COLUMNS[1:])


def _values(row: MentionRowRead, zone: str) -> list[object]:
    return [
        iso_time(row.posted_at, zone),
        row.platform,
        row.author,
        row.author_kind,
        row.followers,
        row.text,
        row.sentiment,
        round(row.positive_probability, 4),
        row.source_kind,
        row.stage,
        row.stage_cue,
        ", ".join(row.topics),
        row.url,
    ]


def csv_chunks(
    db: Session,
    *,
    workspace_id: int,
    filters: DashboardFilters,
    zone: str = "UTC",
    limit: int = EXPORT_LIMIT,
) -> Iterator[bytes]:
    """The export as CSV, in chunks of encoded bytes (times in ``zone`` with their offset,
    one mention per line)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark: Excel then reads the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(columns(zone))
    for row in export_rows(db, workspace_id=workspace_id, filters=filters, limit=limit):
        writer.writerow([formula_safe(value) for value in _values(row, zone)])
        if buffer.tell() > 64 * 1024:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk


def xlsx_file(
    db: Session,
    *,
    workspace_id: int,
    filters: DashboardFilters,
    zone: str = "UTC",
    limit: int = EXPORT_LIMIT,
    title: Callable[[str], str] = str,
) -> bytes:
    """The export as an XLSX workbook (rows streamed into a write-only workbook)."""
    rows = export_rows(db, workspace_id=workspace_id, filters=filters, limit=limit)
    return xlsx_bytes(title(N_("Mentions")), columns(zone), (_values(row, zone) for row in rows))
