"""The analysis pages' tables as files: CSV (UTF-8 with BOM, so Excel reads Chinese) or XLSX.

Each page's table is a header and rows of plain values (``Table``); the rows are the ones
the page shows in its table view, with rates as fractions (0.05 is 5%) and intervals as
their two ends, so a spreadsheet can compute with them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook

from guanxi.core.filelimits import formula_safe, xlsx_safe
from guanxi.measure.analysis.models import (
    BenchmarkRead,
    BestTimeRead,
    CampaignRollupRead,
    ContentAnalysisRead,
    EstimateRead,
    TopPostsRead,
)
from guanxi.web.exports import iso_time, time_column

Translate = Callable[[str], str]
Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """A sheet: its name, its header and its rows."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def _estimate(estimate: EstimateRead) -> list[Cell]:
    return [estimate.mean, estimate.low, estimate.high]


def content_table(analysis: ContentAnalysisRead, _: Translate) -> Table:
    """One row per group of every grouping, the overall average first."""
    header = [
        _("Grouping"),
        _("Group"),
        _("Posts"),
        _("Engagement rate"),
        _("Rate, 95% low"),
        _("Rate, 95% high"),
        _("Views per post"),
        _("Views, 95% low"),
        _("Views, 95% high"),
        _("Engagements per post"),
        _("Engagements, 95% low"),
        _("Engagements, 95% high"),
        _("Differs from the average"),
    ]
    rows: list[list[Cell]] = []
    sections = [(_("All posts"), [analysis.overall])]
    sections += [(_(grouping.title), grouping.groups) for grouping in analysis.groupings]
    for title, groups in sections:
        for group in groups:
            label = _(group.label) if group.translatable else group.label
            rows.append(
                [
                    title,
                    label,
                    group.posts,
                    *_estimate(group.engagement_rate),
                    *_estimate(group.views),
                    *_estimate(group.engagements),
                    _("yes") if group.differs else _("no"),
                ]
            )
    return Table(_("Content analysis"), header, rows)


def best_time_table(found: BestTimeRead, _: Translate, weekdays: Sequence[str]) -> Table:
    """One row per hour of the week with posts."""
    header = [
        _("Day"),
        _("Hour"),
        _("Posts"),
        _("Effect on engagement rate"),
        _("95% low"),
        _("95% high"),
        _("Better than the average hour"),
    ]
    rows: list[list[Cell]] = [
        [
            _(weekdays[slot.weekday]),
            f"{slot.hour:02d}:00",
            slot.posts,
            slot.effect,
            slot.low,
            slot.high,
            _("yes") if slot.better else _("no"),
        ]
        for slot in found.slots
        if slot.posts
    ]
    return Table(_("Best time to post"), header, rows)


def top_table(found: TopPostsRead, _: Translate, zone: str = "UTC") -> Table:
    """The four lists, one after the other, each row saying which list it is in (times in
    ``zone``, with their offset)."""
    header = [
        _("List"),
        time_column(_("Published"), zone),
        _("Platform"),
        _("Account"),
        _("Text"),
        _("Views"),
        _("Engagements"),
        _("Engagement rate"),
        _("Link"),
    ]
    lists = [
        (_("Highest engagement rate"), found.highest_rate),
        (_("Lowest engagement rate"), found.lowest_rate),
        (_("Most views"), found.most_views),
        (_("Fewest views"), found.fewest_views),
    ]
    rows: list[list[Cell]] = [
        [
            title,
            iso_time(post.published_at, zone),
            post.platform,
            post.account,
            post.text,
            post.views,
            post.engagements,
            post.engagement_rate,
            post.url,
        ]
        for title, posts in lists
        for post in posts
    ]
    return Table(_("Top and bottom posts"), header, rows)


def campaigns_table(rollups: Sequence[CampaignRollupRead], _: Translate) -> Table:
    """One row per campaign: its totals, and each lift with its interval."""
    header = [
        _("Campaign"),
        _("From"),
        _("To"),
        _("Posts"),
        _("Baseline posts"),
        _("Views"),
        _("Engagements"),
        _("Lift of views per post"),
        _("95% low"),
        _("95% high"),
        _("Lift of engagements per post"),
        _("95% low"),
        _("95% high"),
        _("Lift of engagement rate"),
        _("95% low"),
        _("95% high"),
    ]
    rows: list[list[Cell]] = [
        [
            r.name,
            r.start.isoformat() if r.start else None,
            r.end.isoformat() if r.end else None,
            r.posts,
            r.baseline_posts,
            r.views,
            r.engagements,
            r.views_lift.lift,
            r.views_lift.low,
            r.views_lift.high,
            r.engagements_lift.lift,
            r.engagements_lift.low,
            r.engagements_lift.high,
            r.rate_lift.lift,
            r.rate_lift.low,
            r.rate_lift.high,
        ]
        for r in rollups
    ]
    return Table(_("Campaigns"), header, rows)


def benchmark_table(found: BenchmarkRead, _: Translate) -> Table:
    """One row per account, the brand's first."""
    header = [
        _("Account"),
        _("Platform"),
        _("Whose"),
        _("Posts"),
        _("Posts per week"),
        _("Engagements"),
        _("Engagements per post"),
        _("Share of engagement"),
    ]
    rows: list[list[Cell]] = [
        [
            row.name,
            row.platform,
            _("Our account") if row.own else _("Competitor"),
            row.posts,
            round(row.posts_per_week, 2),
            row.engagements,
            row.engagements_per_post,
            row.share_of_engagement,
        ]
        for row in found.rows
    ]
    return Table(_("Competitor benchmark"), header, rows)


def csv_bytes(table: Table) -> bytes:
    """The table as CSV with a byte-order mark (UTC times)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([formula_safe(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(table: Table) -> bytes:
    """The table as an XLSX workbook of one sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.name[:31])
    sheet.append(list(table.header))
    for row in table.rows:
        sheet.append([xlsx_safe(value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
