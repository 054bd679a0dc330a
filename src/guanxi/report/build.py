"""Building a report: a definition's sections made for one period, in one document.

Each section comes from its capability's source; a section that fails is shown as such
(and logged), never failing the whole report, and the other sections are still made.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.errors import N_
from guanxi.core.report import ReportQuery, ReportSection, SectionOffer, Text
from guanxi.report.branding.service import brand_of
from guanxi.report.document import ReportDocument
from guanxi.report.models import ReportDefinition
from guanxi.report.periods import ReportPeriod
from guanxi.report.sections import offered_sections, section_source

log = logging.getLogger(__name__)

SECTION_FAILED = N_(
    "This section could not be made for this report; the error is in the server's log. "
    "The other sections are complete."
)


@dataclass(frozen=True)
class ReportSpec:
    """What a report shows: its title, its sections in order and the comments on them."""

    title: str
    section_keys: Sequence[str]
    comments: Mapping[str, str] = field(default_factory=dict)
    include_empty: bool = True
    campaign_id: int | None = None

    @classmethod
    def of(cls, definition: ReportDefinition) -> ReportSpec:
        """What ``definition`` shows."""
        return cls(
            title=definition.title,
            section_keys=tuple(definition.section_keys),
            comments=dict(definition.comments),
            include_empty=definition.include_empty,
            campaign_id=definition.campaign_id,
        )


def _failed(offer: SectionOffer) -> ReportSection:
    return ReportSection(key=offer.key, title=Text(offer.title), empty=Text(SECTION_FAILED))


def failed(section: ReportSection) -> bool:
    """Whether ``section`` is one the builder made because its source failed."""
    return section.empty is not None and section.empty.message == SECTION_FAILED


def _make_section(db: Session, offer: SectionOffer, query: ReportQuery) -> ReportSection:
    """``offer``'s section, or one saying it failed; the failure's writes are undone."""
    savepoint = db.begin_nested()
    try:
        section = section_source(offer)(db, query)
    except Exception:
        log.exception(
            "the report section %s failed for workspace %s", offer.key, query.workspace_id
        )
        savepoint.rollback()
        return _failed(offer)
    savepoint.commit()
    return section


def build_report(
    db: Session,
    *,
    workspace: Workspace,
    spec: ReportSpec,
    period: ReportPeriod,
    now: datetime,
) -> ReportDocument:
    """The report ``spec`` describes for ``period``, ready to render in either language.

    Keys no installed capability offers are left out; so are empty sections unless
    ``spec.include_empty``."""
    offers = offered_sections()
    query = ReportQuery(
        workspace_id=workspace.id,
        start=period.start,
        end=period.end,
        compare_start=period.compare_start,
        compare_end=period.compare_end,
        time_zone=workspace.timezone,
        campaign_id=spec.campaign_id,
    )
    sections: list[ReportSection] = []
    for key in spec.section_keys:
        offer = offers.get(key)
        if offer is None:
            continue
        section = _make_section(db, offer, query)
        if not spec.include_empty and section.empty is not None and not failed(section):
            continue
        sections.append(section)
    return ReportDocument(
        title=spec.title,
        brand=brand_of(db, workspace=workspace),
        start=period.start,
        end=period.end,
        compare_start=period.compare_start,
        compare_end=period.compare_end,
        generated_at=now,
        sections=tuple(sections),
        comments={key: text for key, text in spec.comments.items() if text.strip()},
    )
