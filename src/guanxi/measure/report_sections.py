"""What analytics adds to a report: the own accounts' followers per platform, the reads,
engagements and engagement rate of the period's posts against the comparison period, the
followers of each account day by day, and the most read posts.

The figures are the overview page's (``service.period_totals``, ``overview.platform_totals``
and ``overview.followers_chart``, the very chart the page draws) and the posts page's
(``listing.posts_page``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.catalog.service import platform_names
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
    shown,
)
from guanxi.measure.definitions import RateBasis
from guanxi.measure.listing import PostOrder, posts_page
from guanxi.measure.models import PostFiguresRead
from guanxi.measure.overview import followers_chart, is_measured, platform_totals
from guanxi.measure.service import PeriodTotals, Totals, channels_of, period_totals

TOP_POSTS = 10
TITLE_LENGTH = 60  # a post's title in the table: its text's beginning
TITLE = N_("Own accounts")

_FOLLOWERS = {
    Direction.UP: N_("{platform} followers grew by {delta} ({change}) to {current}."),
    Direction.DOWN: N_("{platform} followers fell by {delta} ({change}) to {current}."),
    Direction.SAME: N_("{platform} followers stayed at {current}."),
    Direction.UNKNOWN: N_("{platform} has {current} followers."),
}
_READS = {
    Direction.UP: N_(
        "The period's posts ({posts}) were read {views} times, {change} more than in the "
        "period compared, and drew {engagements} engagements."
    ),
    Direction.DOWN: N_(
        "The period's posts ({posts}) were read {views} times, {change} fewer than in the "
        "period compared, and drew {engagements} engagements."
    ),
    Direction.SAME: N_(
        "The period's posts ({posts}) were read {views} times, as many as in the period "
        "compared, and drew {engagements} engagements."
    ),
    Direction.UNKNOWN: N_(
        "The period's posts ({posts}) were read {views} times and drew {engagements} engagements."
    ),
}
_ENGAGED = N_("The period's posts ({posts}) drew {engagements} engagements.")
_PUBLISHED = N_("Posts published in the period: {posts}.")
_BEST_POST = N_("The most read post, “{title}”, was read {reads} times.")
_NO_POSTS = N_("No post was published in this period.")


def _count(value: float | None) -> Number:
    return Number(value, Unit.COUNT)


def _rate(totals: Totals | None) -> Number | None:
    if totals is None:
        return None
    rate = totals.engagement_rate
    return Number(rate.value if rate else None, Unit.PERCENT)


def _compare(db: Session, workspace: Workspace, query: ReportQuery) -> PeriodTotals | None:
    if query.compare_start is None or query.compare_end is None:
        return None
    return period_totals(db, workspace=workspace, start=query.compare_start, end=query.compare_end)


def _title(post: PostFiguresRead) -> str:
    text = " ".join(post.text.split())
    if not text:
        return post.external_id
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"


def accounts(db: Session, query: ReportQuery) -> ReportSection:
    """The own accounts' section: followers per platform, the period's reads, engagements
    and engagement rate against the comparison period, followers day by day per account and
    the most read posts."""
    workspace = db.get_one(Workspace, query.workspace_id)
    channels = channels_of(db, workspace, None)
    if not channels:
        return ReportSection(
            "measure.accounts",
            Text(TITLE),
            empty=Text(N_("No account is connected, so there are no own figures to report.")),
        )
    if not is_measured(db, channel_ids=[c.id for c in channels]):
        return ReportSection(
            "measure.accounts",
            Text(TITLE),
            empty=Text(
                N_(
                    "No figures of your own accounts yet: they are collected from the day an "
                    "account is connected."
                )
            ),
        )
    current = period_totals(db, workspace=workspace, start=query.start, end=query.end)
    compared = _compare(db, workspace, query)
    now_by_platform = platform_totals(channels, current)
    before_by_platform = platform_totals(channels, compared) if compared else {}
    top = posts_page(
        db,
        workspace=workspace,
        start=query.start,
        end=query.end,
        order=PostOrder.VIEWS,
        size=TOP_POSTS,
    )
    figures: list[Block] = []
    for platform, totals in now_by_platform.items():
        before = before_by_platform.get(platform)
        figures.append(
            Figure(
                f"followers.{platform}",
                Text(N_("{platform} followers"), {"platform": platform_names(platform)}),
                _count(totals.followers),
                _count(before.followers if before else None) if compared else None,
            )
        )
    narrative: list[Block] = []
    biggest = max(now_by_platform.items(), key=lambda item: item[1].followers or 0)
    if biggest[1].followers is not None:
        narrative.append(Paragraph(_followers_sentence(*biggest, before_by_platform)))
    overall, before_all = current.overall, compared.overall if compared else None
    narrative.append(Paragraph(_reads_sentence(overall, before_all)))
    if top.rows and top.rows[0].views is not None:
        best = top.rows[0]
        values: dict[str, TextValue] = {"title": _title(best), "reads": _count(best.views)}
        narrative.append(Paragraph(Text(_BEST_POST, values)))
    figures += [
        Figure(
            "views",
            Text(N_("Reads and plays")),
            _count(overall.views),
            _count(before_all.views) if before_all else None,
        ),
        Figure(
            "engagements",
            Text(N_("Engagements")),
            _count(overall.engagements),
            _count(before_all.engagements) if before_all else None,
        ),
        Figure(
            "engagement_rate",
            Text(N_("Engagement rate")),
            _rate(overall) or Number(None, Unit.PERCENT),
            _rate(before_all),
            note=_basis_note(overall),
        ),
    ]
    zone = ZoneInfo(workspace.timezone)
    blocks = [*narrative, *figures, followers_chart(db, channels, query.start, query.end)]
    blocks.append(_platforms(now_by_platform))
    blocks.append(_top_posts(top.rows, zone))
    return ReportSection("measure.accounts", Text(TITLE), shown(blocks))


def _followers_sentence(platform: str, totals: Totals, before: dict[str, Totals]) -> Text:
    now = totals.followers
    was = before[platform].followers if platform in before else None
    way, change = compared(now, was)
    values: dict[str, TextValue] = {
        "platform": platform_names(platform),
        "current": _count(now),
        "delta": _count(abs(now - was) if now is not None and was is not None else None),
        "change": change,
    }
    return Text(_FOLLOWERS[way], values)


def _reads_sentence(overall: Totals, before: Totals | None) -> Text:
    if not overall.posts:
        return Text(_NO_POSTS)
    values: dict[str, TextValue] = {
        "posts": _count(overall.posts),
        "engagements": _count(overall.engagements),
    }
    if overall.views is None:
        return Text(_ENGAGED if overall.engagements is not None else _PUBLISHED, values)
    was = before.views if before else None
    way, change = compared(overall.views, was)
    values |= {"views": _count(overall.views), "change": change}
    return Text(_READS[way], values)


def _basis_note(totals: Totals) -> Text | None:
    rate = totals.engagement_rate
    if rate is None:
        return None
    if rate.basis is RateBasis.VIEWS:
        return Text(N_("Engagements per read, of the posts whose platform reports reads."))
    return Text(N_("Engagements per follower: the platforms report no reads."))


def _platforms(totals: dict[str, Totals]) -> Table:
    """Each platform's figures of the period."""
    return Table(
        "per_platform",
        Text(N_("Per platform")),
        (
            Column(Text(N_("Platform"))),
            Column(Text(N_("Followers")), Unit.COUNT),
            Column(Text(N_("Net follower growth")), Unit.COUNT),
            Column(Text(N_("Posts")), Unit.COUNT),
            Column(Text(N_("Reads and plays")), Unit.COUNT),
            Column(Text(N_("Engagements")), Unit.COUNT),
            Column(Text(N_("Engagement rate")), Unit.PERCENT),
        ),
        tuple(
            (
                platform_names(platform),
                found.followers,
                found.net_follower_growth,
                found.posts,
                found.views,
                found.engagements,
                found.engagement_rate.value if found.engagement_rate else None,
            )
            for platform, found in totals.items()
        ),
    )


def _top_posts(rows: list[PostFiguresRead], zone: ZoneInfo) -> Table:
    return Table(
        "top_posts",
        Text(N_("Most read posts")),
        (
            Column(Text(N_("Post"))),
            Column(Text(N_("Platform"))),
            Column(Text(N_("Published on"))),
            Column(Text(N_("Reads")), Unit.COUNT),
            Column(Text(N_("Engagements")), Unit.COUNT),
        ),
        tuple(
            (
                _title(post),
                platform_names(post.platform),
                post.published_at.astimezone(zone).date(),
                post.views,
                post.engagements,
            )
            for post in rows
        ),
    )
