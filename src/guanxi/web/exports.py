"""A page's table as a download: CSV (UTF-8 with a byte-order mark, so Excel reads
Chinese) or XLSX (a write-only openpyxl workbook), cells made safe from formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from fastapi.responses import Response
from openpyxl import Workbook

from guanxi.core.errors import N_, NotFoundError
from guanxi.core.filelimits import formula_safe, xlsx_safe

EXTENSIONS = ("csv", "xlsx")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
