"""Report test helpers: a tiny report section source offered by a test capability, and a
section's narrative as a reader sees it.

``offer_test_sections`` adds a capability whose sections are the functions below to the
installed ones (as a capability's ``report_sections`` would): one with figures, a chart, a
table and a sentence; one without data; one that fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.capability import Capability, capabilities
from guanxi.core.errors import N_
from guanxi.core.report import (
    Chart,
    ChartKind,
    Column,
    Figure,
    Number,
    Paragraph,
    ReportQuery,
    ReportSection,
    SectionOffer,
    Series,
    Table,
    Text,
    Unit,
)
from guanxi.core.report_text import translate
from guanxi.report import sections

FOLLOWERS = N_("Followers")

TEST_CAPABILITY = Capability(
    name="report-test",
    report_sections=(
        SectionOffer("test.followers", N_("Followers"), "tests.report_support:followers"),
        SectionOffer("test.quiet", N_("Inbox"), "tests.report_support:quiet"),
        SectionOffer("test.broken", N_("Revenue"), "tests.report_support:broken"),
    ),
)


def followers(db: Session, query: ReportQuery) -> ReportSection:
    """The workspace's name in a table (to see whose data a report shows) and fixed figures."""
    name = db.scalar(select(Workspace.name).where(Workspace.id == query.workspace_id))
    days = [query.start + timedelta(days=n) for n in range((query.end - query.start).days + 1)]
    return ReportSection(
        key="test.followers",
        title=Text(FOLLOWERS),
        blocks=(
            Paragraph(Text("Weibo followers grew {change}.", {"change": "4.2%"})),
            Figure(
                "followers",
                Text(FOLLOWERS),
                Number(138_000),
                previous=Number(120_000),
            ),
            Figure(
                "response",
                Text("Response time"),
                Number(600, Unit.DURATION),
                previous=Number(300, Unit.DURATION),
                higher_is_better=False,
            ),
            Chart(
                "daily",
                Text("Followers by day"),
                ChartKind.LINE,
                tuple(days),
                (Series(Text(FOLLOWERS), tuple(float(n) for n in range(len(days)))),),
            ),
            Table(
                "brands",
                Text("Brands"),
                (Column(Text("Brand")), Column(Text("Posts"), Unit.COUNT)),
                ((name or "", 1234),),
            ),
        ),
    )


def quiet(_db: Session, _query: ReportQuery) -> ReportSection:
    return ReportSection(key="test.quiet", title=Text("Inbox"), empty=Text("No message came in."))


def broken(_db: Session, _query: ReportQuery) -> ReportSection:
    msg = "the revenue service is down"
    raise RuntimeError(msg)


SECTION_KEYS = ["test.followers", "test.quiet", "test.broken"]


@pytest.fixture
def test_sections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The installed capabilities plus the test capability and its three sections."""
    installed = capabilities()
    monkeypatch.setattr(sections, "capabilities", lambda: (*installed, TEST_CAPABILITY))
    return


def narrative(section: ReportSection, language: str) -> list[str]:
    """The section's sentences (its paragraphs), in ``language``."""
    return [translate(b.text, language) for b in section.blocks if isinstance(b, Paragraph)]
