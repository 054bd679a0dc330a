"""What the inbox adds to a report: the comments, mentions and messages received per
platform and kind, how fast the team first answered and resolved them against the
workspace's targets, and the same per person (``team_report.team_report``, the team report
page's figures)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.accounts.service import list_members
from guanxi.core.errors import N_
from guanxi.core.report import (
    Block,
    Column,
    Direction,
    Figure,
    Number,
    Paragraph,
    ReportQuery,
    ReportSection,
    Table,
    Text,
    TextValue,
    Unit,
    compared,
    day_bounds,
    shown,
    table_rows,
)
from guanxi.inbox.triage.sla import SlaTargets, get_targets
from guanxi.inbox.triage.team_report import Figures, TeamReport, team_report, volume_chart

KEY = "inbox.team"
TITLE = N_("Inbox")

_RECEIVED = {
    Direction.UP: N_(
        "Comments, mentions and messages received: {volume}, {change} more than in the "
        "period compared."
    ),
    Direction.DOWN: N_(
        "Comments, mentions and messages received: {volume}, {change} fewer than in the "
        "period compared."
    ),
    Direction.SAME: N_(
        "Comments, mentions and messages received: {volume}, as many as in the period compared."
    ),
    Direction.UNKNOWN: N_("Comments, mentions and messages received: {volume}."),
}
_ANSWERED = N_("Half were first answered within {median}; {share} within the target of {target}.")
_NONE_ANSWERED = N_("None has been answered yet.")
_RESOLVED = N_(
    "Resolved: {done}, half of them within {median}; {share} within the target of {target}."
)
_NONE_RESOLVED = N_("None has been resolved yet.")


def _seconds(minutes: float | None) -> Number:
    return Number(None if minutes is None else minutes * 60, Unit.DURATION)


def _share(part: int | None, whole: int) -> Number:
    return Number(part / whole if whole and part is not None else None, Unit.PERCENT)


def team(db: Session, query: ReportQuery) -> ReportSection:
    """The inbox section: volume per platform and kind against the period compared, first
    response and resolution times against the targets, per person."""
    workspace = db.get_one(Workspace, query.workspace_id)
    targets = get_targets(db, workspace_id=workspace.id, timezone=workspace.timezone)
    since, until = day_bounds(query.start, query.end, workspace.timezone)
    report = team_report(db, workspace_id=workspace.id, since=since, until=until, targets=targets)
    now = report.total
    if not now.volume:
        return ReportSection(
            KEY,
            Text(TITLE),
            empty=Text(N_("No comment, mention or message arrived in this period.")),
        )
    before: Figures | None = None
    if query.compare_start is not None and query.compare_end is not None:
        begins, ends = day_bounds(query.compare_start, query.compare_end, workspace.timezone)
        before = team_report(
            db, workspace_id=workspace.id, since=begins, until=ends, targets=targets
        ).total
    blocks: list[Block] = [Paragraph(text) for text in _narrative(now, before, targets)]
    blocks += _figures(now, before)
    blocks.append(volume_chart(report))
    blocks.append(_people(db, workspace, report))
    return ReportSection(KEY, Text(TITLE), shown(blocks))


def _narrative(now: Figures, before: Figures | None, targets: SlaTargets) -> list[Text]:
    was = before.volume if before else None
    way, change = compared(now.volume, was)
    sentences = [Text(_RECEIVED[way], {"volume": Number(now.volume), "change": change})]
    if now.first_response_p50 is None:
        sentences.append(Text(_NONE_ANSWERED))
    else:
        values: dict[str, TextValue] = {
            "median": _seconds(now.first_response_p50),
            "share": _share(now.first_response_met, now.volume),
            "target": _seconds(targets.first_response_minutes),
        }
        sentences.append(Text(_ANSWERED, values))
    if not now.done:
        sentences.append(Text(_NONE_RESOLVED))
    else:
        values = {
            "done": Number(now.done),
            "median": _seconds(now.resolution_p50),
            "share": _share(now.resolution_met, now.volume),
            "target": _seconds(targets.resolution_minutes),
        }
        sentences.append(Text(_RESOLVED, values))
    return sentences


def _figures(now: Figures, before: Figures | None) -> list[Block]:
    def count(f: Figures) -> Number:
        return Number(f.volume)

    def first_p50(f: Figures) -> Number:
        return _seconds(f.first_response_p50)

    def first_met(f: Figures) -> Number:
        return _share(f.first_response_met, f.volume)

    def resolved_p50(f: Figures) -> Number:
        return _seconds(f.resolution_p50)

    def resolved_met(f: Figures) -> Number:
        return _share(f.resolution_met, f.volume)

    def figure(
        key: str, label: str, value: Callable[[Figures], Number], higher_is_better: bool = True
    ) -> Figure:
        was = value(before) if before is not None else None
        return Figure(key, Text(label), value(now), was, higher_is_better)

    return [
        figure("volume", N_("Received"), count),
        figure("first_response_p50", N_("First response (median)"), first_p50, False),
        figure("first_response_met", N_("First answered within the target"), first_met),
        figure("resolution_p50", N_("Resolution (median)"), resolved_p50, False),
        figure("resolution_met", N_("Resolved within the target"), resolved_met),
    ]


def _people(db: Session, workspace: Workspace, report: TeamReport) -> Table:
    """Each person's items and times, most items first, the unassigned last."""
    members = {
        m.user_id: m.user.name or m.user.email
        for m in list_members(db, workspace=workspace, user_ids=[u for u in report.by_person if u])
    }
    order = sorted(report.by_person.items(), key=lambda entry: (entry[0] is None, -entry[1].volume))
    rows = [
        (
            Text(N_("Unassigned")) if person is None else members.get(person, f"#{person}"),
            figures.volume,
            figures.done,
            _seconds(figures.first_response_p50).value,
            _seconds(figures.first_response_p90).value,
            _seconds(figures.resolution_p50).value,
            _share(figures.first_response_met, figures.volume).value,
        )
        for person, figures in order
    ]
    kept, more = table_rows(rows)
    return Table(
        "per_person",
        Text(N_("Per person")),
        (
            Column(Text(N_("Person"))),
            Column(Text(N_("Received")), Unit.COUNT),
            Column(Text(N_("Resolved")), Unit.COUNT),
            Column(Text(N_("First response (median)")), Unit.DURATION),
            Column(Text(N_("First response (90th percentile)")), Unit.DURATION),
            Column(Text(N_("Resolution (median)")), Unit.DURATION),
            Column(Text(N_("First answered within the target")), Unit.PERCENT),
        ),
        kept,
        more,
    )
