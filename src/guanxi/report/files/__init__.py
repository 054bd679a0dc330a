"""A report as a file: PDF, PowerPoint (native charts) and Excel (native charts), made on the
server without a network, in English or Simplified Chinese, from one ``ReportDocument``.

Each format's library is imported when a file of that format is made: the web process that
only shows reports does not load them.
"""

from __future__ import annotations

from guanxi.core.errors import N_, UserError
from guanxi.core.report_text import REPORT_LANGUAGES
from guanxi.report.document import ReportDocument

FORMATS = ("pdf", "pptx", "xlsx")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SUFFIXES = {"pdf": ".pdf", "pptx": ".pptx", "xlsx": ".xlsx"}


def render_file(document: ReportDocument, fmt: str, language: str) -> bytes:
    """``document`` as a file of format ``fmt`` (one of ``FORMATS``) in ``language``.

    Raises ``UserError`` for an unknown format or language, and for a PDF with Chinese text
    when no CJK font is installed."""
    if language not in REPORT_LANGUAGES:
        raise UserError(
            N_(
                "A report is written in English (en) or Simplified Chinese (zh_Hans), "
                "not {language}."
            ),
            language=language,
        )
    if fmt == "xlsx":
        from guanxi.report.files.excel import render_xlsx  # noqa: PLC0415 - XlsxWriter, loaded to make a workbook only

        return render_xlsx(document, language)
    if fmt == "pptx":
        from guanxi.report.files.powerpoint import render_pptx  # noqa: PLC0415 - python-pptx and lxml (~0.2 s), loaded to make a deck only

        return render_pptx(document, language, document.brand.template_pptx)
    if fmt == "pdf":
        from guanxi.report.files.pdf import render_pdf  # noqa: PLC0415 - the PDF renderer (~0.3 s), loaded to make a PDF only

        return render_pdf(document, language)
    raise UserError(
        N_(
            "A report file is a PDF (pdf), a PowerPoint deck (pptx) or an Excel workbook "
            "(xlsx), not {fmt}."
        ),
        fmt=fmt,
    )
