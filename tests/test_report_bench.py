"""``guanxi bench report`` on a small workspace: a real monthly report in every format, its
database built once and reused."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from guanxi.cli import app
from guanxi.devtools.bench.common import no_progress
from guanxi.devtools.bench.report_data import ReportVolume, sqlite_database
from guanxi.report.templates import get_template

LAST_LINE = re.compile(r"^pdf_s=\d+\.\d\d pptx_s=\d+\.\d\d xlsx_s=\d+\.\d\d peak_rss_mb=\d+$")


def test_the_monthly_report_of_a_filled_workspace_is_made_in_every_format(tmp_path: Path) -> None:
    """Given a small volume, when the benchmark runs, then every section of the monthly
    template was read from its capability (none failed), each format was timed, the last
    line has the documented shape, and the database is kept for the next run."""
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "report",
            "--mentions",
            "300",
            "--inbox-items",
            "100",
            "--posts",
            "20",
            "--chart-countries",
            "1",
            "--cache-dir",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert LAST_LINE.match(lines[-1]), lines[-1]
    shown = dict(re.findall(r"^section (\S+): (.+)$", result.output, re.MULTILINE))
    assert list(shown) == list(get_template("monthly").section_keys)
    assert not any(held.startswith("failed") for held in shown.values())
    assert "figures" in shown["listening.mentions"]
    volume = ReportVolume(mentions=300, inbox_items=100, posts=20, chart_countries=1)
    url, built = sqlite_database(tmp_path, volume, no_progress)
    assert not built
    assert url == f"sqlite:///{tmp_path / volume.key()}.db"
