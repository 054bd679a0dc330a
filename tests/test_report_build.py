"""Building a report: its templates, the sections in order from the capabilities, a failing
section shown as such, the document presented in either language and written as HTML."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from guanxi.accounts.models import User
from guanxi.core.errors import NotFoundError
from guanxi.devtools.demo.report import load_demo
from guanxi.report import html, service
from guanxi.report.build import SECTION_FAILED, ReportSpec, build_report
from guanxi.report.models import Comparison, PeriodKind
from guanxi.report.periods import ReportPeriod
from guanxi.report.present import present
from guanxi.report.templates import TEMPLATES, get_template
from tests.conftest import UserFactory, WorkspaceFactory
from tests.report_support import SECTION_KEYS, test_sections  # noqa: F401 - a fixture

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
PERIOD = ReportPeriod(date(2026, 11, 30), date(2026, 12, 6), date(2026, 11, 23), date(2026, 11, 29))

pytestmark = pytest.mark.usefixtures("test_sections")


@pytest.fixture
def owner(make_user: UserFactory) -> User:
    return make_user("owner@acme.example", name="Owner")


def test_the_three_templates_and_their_periods() -> None:
    assert set(TEMPLATES) == {"weekly", "monthly", "campaign"}
    assert get_template("weekly").period_kind is PeriodKind.LAST_WEEK
    assert get_template("monthly").period_kind is PeriodKind.LAST_MONTH
    assert get_template("campaign").needs_campaign
    assert all(t.comparison is Comparison.PREVIOUS_PERIOD for t in TEMPLATES.values())
    with pytest.raises(NotFoundError, match="weekly, monthly, campaign"):
        get_template("daily")


def test_a_template_definition_is_titled_in_its_authors_language() -> None:
    data = service.template_definition("monthly", language="zh_Hans", today=date(2026, 12, 7))
    assert data.title == "月度管理摘要"
    assert data.section_keys[0] == "measure.accounts"


def test_sections_come_in_order_unknown_ones_left_out_and_a_failure_contained(
    db: Session, owner: User, make_workspace: WorkspaceFactory
) -> None:
    """Given sections that work, have no data and fail, and a key nobody offers,
    when the report is built, the working and empty sections are there in order, the
    failing one says it failed, and the unknown one is not there."""
    workspace = make_workspace("acme", owner=owner)
    spec = ReportSpec("Week 49", ["test.broken", "nobody.offers", *SECTION_KEYS[:2]])

    document = build_report(db, workspace=workspace, spec=spec, period=PERIOD, now=NOW)

    assert [s.key for s in document.sections] == ["test.broken", "test.followers", "test.quiet"]
    broken = document.sections[0]
    assert broken.empty is not None
    assert broken.empty.message == SECTION_FAILED
    assert document.brand.name == "Acme"
    assert (document.start, document.compare_end) == (PERIOD.start, PERIOD.compare_end)


def test_empty_sections_are_left_out_when_the_definition_says_so(
    db: Session, owner: User, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("acme", owner=owner)
    spec = ReportSpec("Week 49", SECTION_KEYS, include_empty=False)

    document = build_report(db, workspace=workspace, spec=spec, period=PERIOD, now=NOW)

    assert [s.key for s in document.sections] == ["test.followers", "test.broken"]


@pytest.mark.parametrize(
    ("language", "followers", "response", "failed"),
    [
        ("en", "138K", "10 min", "This section could not be made"),
        ("zh_Hans", "13.8万", "10 分钟", "本报告未能生成此部分"),
    ],
)
def test_the_report_reads_in_each_language_and_colours_changes_by_what_is_good(
    db: Session,
    owner: User,
    make_workspace: WorkspaceFactory,
    language: str,
    followers: str,
    response: str,
    failed: str,
) -> None:
    workspace = make_workspace("acme", owner=owner)
    spec = ReportSpec("Week 49", SECTION_KEYS, comments={"test.followers": "Good week."})
    document = build_report(db, workspace=workspace, spec=spec, period=PERIOD, now=NOW)

    view = present(document, language)
    section = view.sections[0]

    assert [f.value for f in section.figures] == [followers, response]
    # Followers rose (good); the response time rose too, which is bad news.
    assert [f.tone for f in section.figures] == ["good", "bad"]
    assert section.comment == "Good week."
    assert view.sections[2].failed
    assert view.sections[2].empty.startswith(failed)

    page = html.render_html(document, language)
    assert followers in page
    assert "Good week." in page
    assert "Acme" in page
    assert "data-chart-option" in page
    assert "echarts" in page


def test_the_demo_workspace_gets_a_weekly_and_a_monthly_report_once(
    db: Session, owner: User, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("provence-wines", owner=owner)
    load_demo(db, workspace=workspace)
    load_demo(db, workspace=workspace)

    definitions = service.list_definitions(db, workspace=workspace)
    assert sorted(d.template for d in definitions) == ["monthly", "weekly"]
    assert all(d.languages == "both" and d.comments for d in definitions)
