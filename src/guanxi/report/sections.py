"""The sections the installed capabilities offer (``Capability.report_sections``)."""

from __future__ import annotations

from typing import cast

from guanxi.core.capability import CapabilityLoadError, capabilities, load_reference
from guanxi.core.report import ReportSectionSource, SectionOffer


def offered_sections() -> dict[str, SectionOffer]:
    """Every section a report may show, by key, in the capabilities' order."""
    return {offer.key: offer for c in capabilities() for offer in c.report_sections}


def section_source(offer: SectionOffer) -> ReportSectionSource:
    """The function that makes ``offer``'s section."""
    found = load_reference(offer.source, object)
    if not callable(found):
        msg = f"{offer.source} is not a report section source"
        raise CapabilityLoadError(msg)
    return cast("ReportSectionSource", found)
