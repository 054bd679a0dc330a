"""The report as an Excel workbook, read back with openpyxl."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest

from guanxi.core.errors import UserError
from guanxi.devtools.bench.report import synthetic_document
from guanxi.report.files import FORMATS, MEDIA_TYPES, SUFFIXES, render_file
from guanxi.report.files.excel import sheet_names


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
def test_workbook_has_a_summary_and_a_sheet_a_section_with_numbers_and_native_charts(
    language: str,
) -> None:
    """Given a report of two sections with two charts, when it is made as a workbook, then
    the summary comes first, each section has its sheet, figures are number cells with
    number formats, and each chart is a native chart over the sheet's own data."""
    document = synthetic_document(sections=2, charts=3, points=5, rows=3)
    book = openpyxl.load_workbook(io.BytesIO(render_file(document, "xlsx", language)))
    summary, first, second = book.worksheets
    assert summary.title == ("Summary" if language == "en" else "摘要")
    assert first.title == ("Section 1" if language == "en" else "第 1 部分")
    assert summary["A2"].value == document.title  # under the logo
    assert len(summary._images) == 1

    followers = next(r for r in first.iter_rows() if r[0].value in {"Followers", "粉丝数"})
    assert followers[1].value == 12_380
    assert followers[2].value == 11_000
    assert followers[3].value == pytest.approx(1_380 / 11_000)
    assert followers[3].number_format == "+0.0%;-0.0%;0.0%"
    response = next(
        r for r in first.iter_rows() if r[0].value in {"First response time", "首次响应时间"}
    )
    assert response[1].value == timedelta(seconds=5_400)  # a real duration cell
    assert response[1].number_format == "[h]:mm:ss"

    # Section 1 has charts 0 and 2 (a line over days, a stacked bar), section 2 chart 1.
    assert len(first._charts) == 2
    assert len(second._charts) == 1
    line = first._charts[0]
    assert type(line).__name__ == "LineChart"
    refs = [series.val.numRef.f for series in line.series]
    assert len(refs) == 2
    assert all(ref.startswith(f"'{first.title}'!$") for ref in refs)
    # The referenced cells hold the series' values.
    column_letter = refs[0].split("!$")[1][0]
    first_row = int(refs[0].split("$")[2].rstrip(":"))
    assert first[f"{column_letter}{first_row}"].value == 100.0


def test_sheet_names_are_valid_and_unique() -> None:
    """Excel refuses names over 31 characters, with []:*?/\\ or repeated (in any case)."""
    names = sheet_names(["A/B: c?", "x" * 40, "x" * 40, "Summary", "summary", "History", "''"])
    assert names[0] == "A B  c"
    assert names[1] == "x" * 31
    assert names[2] == "x" * 27 + " (2)"
    assert names[3:5] == ["Summary", "summary (2)"]
    assert names[5] == "History 1"
    assert names[6] == "Sheet"
    assert all(len(name) <= 31 for name in names)


def test_unknown_format_and_language_are_user_errors() -> None:
    document = synthetic_document(sections=1, charts=0)
    with pytest.raises(UserError, match="docx"):
        render_file(document, "docx", "en")
    with pytest.raises(UserError, match="fr"):
        render_file(document, "xlsx", "fr")
    assert set(MEDIA_TYPES) == set(SUFFIXES) == set(FORMATS)
