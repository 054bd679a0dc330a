"""The report templates a definition starts from: a default title, period and sections.

Section keys a workspace's installed capabilities do not offer are left out when the report
is built, so a template names every section it would like.
"""

from __future__ import annotations

from dataclasses import dataclass

from guanxi.core.errors import N_, NotFoundError
from guanxi.report.models import Comparison, PeriodKind


@dataclass(frozen=True)
class ReportTemplate:
    """A starting point for a report definition."""

    key: str
    title: str  # marked with N_; a new definition's title, in its author's language
    description: str  # marked with N_
    period_kind: PeriodKind
    comparison: Comparison
    section_keys: tuple[str, ...]
    needs_campaign: bool = False


TEMPLATES: dict[str, ReportTemplate] = {
    template.key: template
    for template in (
        ReportTemplate(
            key="weekly",
            title=N_("Weekly community report"),
            description=N_("Last week's accounts, posts, inbox and what people said."),
            period_kind=PeriodKind.LAST_WEEK,
            comparison=Comparison.PREVIOUS_PERIOD,
            section_keys=(
                "measure.accounts",
                "publishing.posts",
                "inbox.team",
                "listening.mentions",
            ),
        ),
        ReportTemplate(
            key="monthly",
            title=N_("Monthly executive summary"),
            description=N_("Last month's headline figures against the month before."),
            period_kind=PeriodKind.LAST_MONTH,
            comparison=Comparison.PREVIOUS_PERIOD,
            section_keys=(
                "measure.accounts",
                "convert.revenue",
                "listening.mentions",
                "inbox.team",
                "publishing.posts",
                "market.ranks",
            ),
        ),
        ReportTemplate(
            key="campaign",
            title=N_("Campaign wrap-up"),
            description=N_("One campaign's posts, reach, conversations and revenue."),
            period_kind=PeriodKind.CUSTOM,
            comparison=Comparison.PREVIOUS_PERIOD,
            section_keys=(
                "publishing.posts",
                "listening.mentions",
                "convert.revenue",
            ),
            needs_campaign=True,
        ),
    )
}


def get_template(key: str) -> ReportTemplate:
    """The template called ``key``; NotFoundError names the ones there are."""
    try:
        return TEMPLATES[key]
    except KeyError:
        raise NotFoundError(
            N_("There is no report template “{key}”; choose one of {keys}."),
            key=key,
            keys=", ".join(TEMPLATES),
        ) from None
