"""The report's file libraries load only when a file is made, and the benchmark's last line."""

from __future__ import annotations

import subprocess
import sys

from guanxi.devtools.bench.report import ReportBenchResult


def test_the_file_libraries_load_only_to_make_a_file() -> None:
    """A process that shows reports (the web app) does not pay for WeasyPrint, python-pptx
    and XlsxWriter until someone downloads a file."""
    probe = (
        "import sys, guanxi.report.files; "
        "print(sorted(m for m in ('weasyprint', 'pptx', 'xlsxwriter') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_the_benchmarks_last_line_is_for_scripts() -> None:
    result = ReportBenchResult({"pdf": 2.345, "pptx": 1.0, "xlsx": 0.25}, 210.4)
    assert result.lines()[-1] == "pdf_s=2.35 pptx_s=1.00 xlsx_s=0.25 peak_rss_mb=210"
