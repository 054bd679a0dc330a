"""The report as a PDF, read back with poppler (pdftotext, pdftoppm), and its SVG charts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from guanxi.core.errors import UserError
from guanxi.core.report import Chart, ChartKind, Series, Text
from guanxi.devtools.bench.report import synthetic_document
from guanxi.report.files import fonts, render_file
from guanxi.report.files.svg import chart_svg, nice_ticks


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Contents", "Section 1", "Followers", "Mentions per day", "Weibo", "Nov 1"]),
        ("zh_Hans", ["目录", "第 1 部分", "粉丝数", "每日提及量", "微博", "11月1日", "热门帖子"]),
    ],
)
def test_pdf_text_page_numbers_and_a_drawn_cover(
    language: str, expected: list[str], tmp_path: Path
) -> None:
    """Given a small report, when it is made as a PDF, then its text (Chinese included, the
    charts' labels too: they are vectors with text) is extracted, every page but the cover is
    numbered "n / total", the contents give each section's page, and the cover is drawn."""
    document = synthetic_document(sections=2, charts=2, points=5, rows=3)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_file(document, "pdf", language))
    text = _text(pdf)
    for words in expected:
        assert words in text
    pages = text.split("\f")
    total = len([page for page in pages if page.strip()])
    assert total >= 5  # cover, contents, two sections, a chart that moves on
    assert re.search(rf"\s{total}\s*/\s*{total}\s*$", pages[total - 1])
    assert re.search(rf"\s2\s*/\s*{total}\s*$", pages[1])
    assert not re.search(rf"/\s*{total}", pages[0])  # the cover has no number
    section_one = "Section 1" if language == "en" else "第 1 部分"
    contents_line = next(line for line in pages[1].splitlines() if section_one in line)
    assert contents_line.rstrip().endswith("3")  # the section starts on page 3

    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) == 1  # the logo: the charts are vectors, not pictures

    subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "cover")],
        check=True,
    )
    cover = Image.open(next(tmp_path.glob("cover*.png"))).convert("L")
    darkest, lightest = cover.getextrema()
    assert lightest > 200  # a white page
    assert darkest < 120  # with the brand's band and the title on it


def test_chinese_pdf_without_a_cjk_font_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Boxes in place of Chinese would be a broken report: the error names the package."""
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    document = synthetic_document(sections=1, charts=0, points=2, rows=1)
    for language in ("zh_Hans", "en"):  # the English report has Chinese post titles
        with pytest.raises(UserError, match="fonts-noto-cjk"):
            render_file(document, "pdf", language)


def test_a_server_without_pango_is_told_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint loads Pango when imported: without it, a PDF report is refused with the
    packages to install, and the other formats still work."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # importing it fails
    document = synthetic_document(sections=1, charts=0, points=2, rows=1)
    with pytest.raises(UserError, match=re.escape("libpango-1.0-0")):
        render_file(document, "pdf", "en")
    assert render_file(document, "xlsx", "en").startswith(b"PK")


def test_svg_lines_break_at_missing_values_and_bars_are_one_shape_a_series() -> None:
    days = ("a", "b", "c", "d", "e")
    gaps = Series(Text("Weibo"), (1.0, 2.0, None, 4.0, 5.0))
    line = chart_svg(Chart("c", Text("t"), ChartKind.LINE, days, (gaps,)), "en")
    assert line.count("<polyline") == 2  # a missing day is a gap, not a zero
    bars = chart_svg(Chart("c", Text("t"), ChartKind.BAR, days, (gaps, gaps)), "zh_Hans")
    assert bars.count("<path") == 2
    assert bars.count("z") - bars.count("zh") >= 8  # four bars in each series' path
    assert nice_ticks(87) == [0, 20, 40, 60, 80, 100]


def test_making_a_pdf_leaves_pillow_refusing_truncated_images() -> None:
    """Given a process that has made a PDF (WeasyPrint, when imported, makes Pillow accept
    truncated images everywhere), then Pillow still refuses them, so the media library's
    check of an upload's pixels still finds a damaged file."""
    render_file(synthetic_document(sections=1), "pdf", "en")

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
