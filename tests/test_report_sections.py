"""Every report section a capability offers loads and answers for an empty workspace: the
section its offer names, saying in both languages that there is nothing to report."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from guanxi.core.capability import capabilities, load_reference
from guanxi.core.i18n import get_translations
from guanxi.core.report import ReportQuery, ReportSection
from guanxi.report.words import translate
from tests.conftest import UserFactory, WorkspaceFactory

OFFERED = {
    "measure.accounts",
    "publishing.posts",
    "inbox.team",
    "listening.mentions",
    "market.ranks",
}


def test_every_offered_section_answers_for_an_empty_workspace(
    db: Session, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace("empty", owner=make_user("owner@brand.example"))
    query = ReportQuery(
        workspace_id=workspace.id,
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        compare_start=date(2026, 2, 1),
        compare_end=date(2026, 2, 28),
    )
    offers = [offer for capability in capabilities() for offer in capability.report_sections]

    assert {offer.key for offer in offers} >= OFFERED
    assert len({offer.key for offer in offers}) == len(offers), "a key is offered twice"
    for offer in offers:
        source = load_reference(offer.source, object)
        assert callable(source), offer.source
        section = source(db, query)
        assert isinstance(section, ReportSection), offer.source
        assert section.key == offer.key
        assert section.empty is not None, f"{offer.key} has figures in an empty workspace"
        chinese = get_translations("zh_Hans").gettext(offer.title)
        assert chinese != offer.title, f"{offer.title!r} is not translated"
        assert translate(section.empty, "zh_Hans") != translate(section.empty, "en")
