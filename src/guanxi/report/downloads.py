"""A report file as a download, alike from the pages and the API."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from guanxi.report.models import FORMAT_TYPES, ReportFormat


def attachment(content: bytes, *, report_format: ReportFormat, name: str) -> Response:
    """``content`` sent as the file ``name`` (UTF-8 names kept, as RFC 6266 writes them)."""
    return Response(
        content,
        media_type=FORMAT_TYPES[report_format],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
