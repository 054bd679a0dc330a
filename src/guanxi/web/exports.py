"""A page's table as a download: CSV (UTF-8 with a byte-order mark, so Excel reads
Chinese) or XLSX (a write-only openpyxl workbook), cells made safe from formula injection.

Times are written in the viewer's zone as ISO 8601 with the offset (``iso_time``), under a
header that names the zone (``time_column``), so a spreadsheet never holds a bare time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.responses import Response
from openpyxl import Workbook

from guanxi.core.errors import N_, NotFoundError
from guanxi.core.filelimits import formula_safe, xlsx_safe

EXTENSIONS = ("csv", "xlsx")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def iso_time(value: datetime | None, zone: str) -> str:
    """``value`` in ``zone`` as ISO 8601 with its offset ("2026-12-06T20:15:00+08:00"); an
    empty cell for no time."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def time_column(name: str, zone: str) -> str:
    """A time column's header naming its zone: "posted_at (Asia/Shanghai)"."""
    return f"{name} ({zone})"


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The table as a CSV file."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([formula_safe(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(sheet: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The table as an XLSX workbook of one sheet (its name cut to Excel's 31 characters)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append(list(columns))
    for row in rows:
        worksheet.append([xlsx_safe(value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def table_download(
    *,
    name: str,
    extension: str,
    sheet: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> Response:
    """The table as ``name.csv`` or ``name.xlsx``; a 404 for any other extension."""
    if extension == "csv":
        body, media = csv_bytes(columns, rows), "text/csv; charset=utf-8"
    elif extension == "xlsx":
        body, media = xlsx_bytes(sheet, columns, rows), XLSX_MEDIA
    else:
        raise NotFoundError(N_("Exports are CSV or XLSX files."))
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{extension}"'},
    )
