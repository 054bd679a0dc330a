"""What publishing adds to a report: the posts published per platform against the period
compared, the share that went out on time and the failures, for every post or for one
campaign's (``results.results_by_platform``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.catalog.service import platform_names
from guanxi.core.errors import N_
from guanxi.core.report import (
    Block,
    Chart,
    ChartKind,
    Column,
    Direction,
    Figure,
    Number,
    Paragraph,
    ReportQuery,
    ReportSection,
    Series,
    Table,
    Text,
    TextValue,
    Unit,
    compared,
    shown,
)
from guanxi.publishing.campaigns import get_campaign
from guanxi.publishing.results import PlatformResults, results_by_platform

KEY = "publishing.posts"
TITLE = N_("Publishing")

_PUBLISHED = {
    Direction.UP: N_("Posts published: {published}, {change} more than in the period compared."),
    Direction.DOWN: N_("Posts published: {published}, {change} fewer than in the period compared."),
    Direction.SAME: N_("Posts published: {published}, as many as in the period compared."),
    Direction.UNKNOWN: N_("Posts published: {published}."),
}
_ON_TIME = N_("{share} of them went out on time ({on_time}).")
_FAILED = N_("{failed} failed to publish: each post's page says why.")
_NONE_FAILED = N_("None failed to publish.")
_NOTHING = N_("No post was published in this period.")
_CAMPAIGN = N_("These are the posts of the campaign “{campaign}”.")


def _totals(rows: list[PlatformResults]) -> PlatformResults:
    return PlatformResults(
        "",
        sum(r.published for r in rows),
        sum(r.on_time for r in rows),
        sum(r.failed for r in rows),
    )


def _share(part: int, whole: int) -> Number:
    return Number(part / whole if whole else None, Unit.PERCENT)


def posts(db: Session, query: ReportQuery) -> ReportSection:
    """The publishing section: posts published per platform (this period against the one
    compared), the share on time and the failures; one campaign's when the query names it."""
    workspace = db.get_one(Workspace, query.workspace_id)
    campaign = (
        get_campaign(db, workspace=workspace, campaign_id=query.campaign_id)
        if query.campaign_id is not None
        else None
    )
    current = results_by_platform(
        db, workspace=workspace, start=query.start, end=query.end, campaign_id=query.campaign_id
    )
    if not current:
        return ReportSection(KEY, Text(TITLE), empty=Text(_NOTHING))
    compared: list[PlatformResults] | None = None
    if query.compare_start is not None and query.compare_end is not None:
        compared = results_by_platform(
            db,
            workspace=workspace,
            start=query.compare_start,
            end=query.compare_end,
            campaign_id=query.campaign_id,
        )
    now, before = _totals(current), _totals(compared) if compared is not None else None
    blocks: list[Block] = []
    if campaign is not None:
        blocks.append(Paragraph(Text(_CAMPAIGN, {"campaign": campaign.name})))
    blocks += _narrative(now, before)
    blocks += [
        Figure(
            "published",
            Text(N_("Posts published")),
            Number(now.published),
            Number(before.published) if before else None,
        ),
        Figure(
            "on_time",
            Text(N_("Published on time")),
            _share(now.on_time, now.published),
            _share(before.on_time, before.published) if before else None,
        ),
        Figure(
            "failed",
            Text(N_("Failed to publish")),
            Number(now.failed),
            Number(before.failed) if before else None,
            higher_is_better=False,
        ),
        _chart(current, compared),
        _table(current),
    ]
    return ReportSection(KEY, Text(TITLE), shown(blocks))


def _narrative(now: PlatformResults, before: PlatformResults | None) -> list[Paragraph]:
    if not now.published:
        sentences = [Text(_NOTHING)]
    else:
        was = before.published if before else None
        way, change = compared(now.published, was)
        values: dict[str, TextValue] = {"published": Number(now.published), "change": change}
        sentences = [
            Text(_PUBLISHED[way], values),
            Text(
                _ON_TIME,
                {"share": _share(now.on_time, now.published), "on_time": Number(now.on_time)},
            ),
        ]
    if now.failed:
        sentences.append(Text(_FAILED, {"failed": Number(now.failed)}))
    else:
        sentences.append(Text(_NONE_FAILED))
    return [Paragraph(sentence) for sentence in sentences]


def _chart(current: list[PlatformResults], compared: list[PlatformResults] | None) -> Chart:
    """Posts published per platform, beside the period compared's when there is one."""
    platforms = sorted({r.platform for r in current} | {r.platform for r in compared or []})
    now = {r.platform: r.published for r in current}
    series = [Series(Text(N_("This period")), tuple(float(now.get(p, 0)) for p in platforms))]
    if compared is not None:
        before = {r.platform: r.published for r in compared}
        values = tuple(float(before.get(p, 0)) for p in platforms)
        series.append(Series(Text(N_("Period compared")), values))
    return Chart(
        "published_per_platform",
        Text(N_("Posts published per platform")),
        ChartKind.BAR,
        tuple(platform_names(p) for p in platforms),
        tuple(series),
    )


def _table(current: list[PlatformResults]) -> Table:
    return Table(
        "per_platform",
        Text(N_("Per platform")),
        (
            Column(Text(N_("Platform"))),
            Column(Text(N_("Posts published")), Unit.COUNT),
            Column(Text(N_("Published on time")), Unit.PERCENT),
            Column(Text(N_("Failed to publish")), Unit.COUNT),
        ),
        tuple(
            (
                platform_names(r.platform),
                r.published,
                _share(r.on_time, r.published).value,
                r.failed,
            )
            for r in current
        ),
    )
