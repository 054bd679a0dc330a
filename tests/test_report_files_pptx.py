"""The report as a PowerPoint deck, read back with python-pptx."""

from __future__ import annotations

import dataclasses
import io

import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.oxml.ns import qn

from guanxi.core.errors import UserError
from guanxi.core.report import Figure
from guanxi.devtools.bench.report import synthetic_document
from guanxi.report.files import render_file
from guanxi.report.files.powerpoint import EAST_ASIAN_FONT, render_pptx


def _charts(deck: Presentation) -> list:
    return [shape.chart for slide in deck.slides for shape in slide.shapes if shape.has_chart]


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
def test_deck_has_a_cover_a_slide_a_section_and_native_charts(language: str) -> None:
    """Given a report with two sections and three charts, when it is made as a deck, then the
    cover names the report and the brand, each section has its slide with a native table of
    figures, and each chart is a native chart with the series' names and values."""
    document = synthetic_document(sections=2, charts=3, points=4, rows=3)
    deck = Presentation(io.BytesIO(render_file(document, "pptx", language)))
    cover = deck.slides[0]
    cover_text = " ".join(s.text_frame.text for s in cover.shapes if s.has_text_frame)
    assert document.title in cover_text
    assert document.brand.name in cover_text
    assert any(shape.shape_type == MSO_SHAPE_TYPE.PICTURE for shape in cover.shapes)  # the logo
    titles = [slide.shapes.title.text_frame.text for slide in list(deck.slides)[1:]]
    assert titles[0] == ("Section 1" if language == "en" else "第 1 部分")

    charts = _charts(deck)
    assert [chart.chart_type for chart in charts] == [
        XL_CHART_TYPE.LINE,
        XL_CHART_TYPE.COLUMN_STACKED,
        XL_CHART_TYPE.COLUMN_CLUSTERED,
    ]
    line = charts[0].plots[0]
    weibo = "Weibo" if language == "en" else "微博"
    assert line.series[0].name == weibo
    assert list(line.series[0].values) == [100.0, 107.0, 114.0, 121.0]
    assert line.categories[0] == ("Nov 1" if language == "en" else "11月1日")

    figures = next(s.table for s in deck.slides[1].shapes if s.has_table)
    assert figures.cell(1, 1).text_frame.text == "12,380"
    assert figures.cell(1, 3).text_frame.text == "+12.5%"


def test_chinese_deck_names_the_east_asian_typeface_on_every_run() -> None:
    """python-pptx's font.name sets only a:latin; PowerPoint draws Chinese with a:ea."""
    document = synthetic_document(sections=1, charts=1, points=3, rows=2)
    deck = Presentation(io.BytesIO(render_file(document, "pptx", "zh_Hans")))
    runs = [
        run
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
        for paragraph in shape.text_frame.paragraphs
        for run in paragraph.runs
    ]
    assert runs
    for run in runs:
        ea = run._r.rPr.find(qn("a:ea"))
        assert ea is not None
        assert ea.get("typeface") == EAST_ASIAN_FONT
        assert run._r.rPr.get("lang") == "zh-CN"
    chart_font = _charts(deck)[0].font._rPr.find(qn("a:ea"))
    assert chart_font.get("typeface") == EAST_ASIAN_FONT


def test_the_brands_template_gives_the_layouts_and_its_own_slides_are_left_out() -> None:
    template = Presentation()
    template.slide_layouts[5].name = "Brand title only"
    template.slides.add_slide(template.slide_layouts[0])
    buffer = io.BytesIO()
    template.save(buffer)
    document = synthetic_document(sections=1, charts=1, points=3, rows=2)
    deck = Presentation(io.BytesIO(render_pptx(document, "en", buffer.getvalue())))
    assert deck.slide_width == template.slide_width  # the template's size, not the default
    assert deck.slides[1].slide_layout.name == "Brand title only"
    assert len(deck.slides) == 1 + 1 + 1 + 1  # cover, section, chart, table
    # The brand's own fonts, through its theme; YaHei for Chinese (its theme names none).
    title = deck.slides[1].shapes.title.text_frame.paragraphs[0].runs[0]._r.rPr
    assert title.find(qn("a:latin")).get("typeface") == "+mj-lt"
    assert title.find(qn("a:ea")).get("typeface") == EAST_ASIAN_FONT
    body = next(s for s in deck.slides[1].shapes if s.shape_type == MSO_SHAPE_TYPE.TEXT_BOX)
    assert body.text_frame.paragraphs[0].runs[0].font.name == "+mn-lt"
    with pytest.raises(UserError, match="template"):
        render_pptx(document, "en", b"not a pptx")


def test_figures_beyond_a_slide_go_on_the_next() -> None:
    document = synthetic_document(sections=1, charts=0, points=2, rows=0)
    section = document.sections[0]
    figures = tuple(b for b in section.blocks if isinstance(b, Figure))
    many = dataclasses.replace(section, blocks=figures * 4)  # 16 figures
    deck = Presentation(
        io.BytesIO(render_file(dataclasses.replace(document, sections=(many,)), "pptx", "en"))
    )
    slides = list(deck.slides)
    assert [s.shapes.title.text_frame.text for s in slides[1:3]] == ["Section 1", "Section 1 (2/2)"]
    rows = [len(shape.table.rows) - 1 for s in slides[1:3] for shape in s.shapes if shape.has_table]
    assert rows[:2] == [12, 4]
