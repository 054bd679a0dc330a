"""A report as one HTML file: the same page as the preview, readable offline (its styles
and the chart library inside the file)."""

from __future__ import annotations

from functools import cache

import jinja2

from guanxi.core import i18n
from guanxi.report.document import ReportDocument
from guanxi.report.present import present
from guanxi.web.rendering import TEMPLATES_DIR, make_templates

STATIC_DIR = TEMPLATES_DIR.parent / "static"


@cache
def _scripts() -> str:
    """ECharts and the charts' shared rules, to put inside the file."""
    return "\n".join(
        (STATIC_DIR / name).read_text(encoding="utf-8")
        for name in ("vendor/echarts.min.js", "charts.js")
    )


@cache
def _environment() -> jinja2.Environment:
    environment: jinja2.Environment = make_templates().env
    return environment


def render_html(document: ReportDocument, language: str) -> str:
    """``document`` in ``language`` as a standalone HTML page."""
    before = i18n.current_language()
    i18n.set_language(language)
    try:
        template = _environment().get_template("report/file.html")
        # The closing tag of a script cannot appear inside it.
        scripts = _scripts().replace("</script", "<\\/script")
        page: str = template.render(
            report=present(document, language),
            html_lang=i18n.HTML_LANG[language],
            scripts=scripts,
            generated_at=document.generated_at,
            csp_nonce="",  # a file is read without a content security policy
        )
        return page
    finally:
        i18n.set_language(before)
