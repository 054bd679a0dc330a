"""What listening adds to a report: the volume of mentions day by day against the period
compared, their sentiment, the brand's share of voice, the kinds of source and the journey
stages, the most engaging posts and the most followed authors, and the alerts raised.

The figures are the dashboard's panels (``insight.service``) and the alerts page's list, so
they are counted as the dashboard counts them: by UTC day, the days of the daily rollup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

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
    Unit,
    compared,
    day_bounds,
    day_buckets,
    shown,
    table_rows,
)
from guanxi.listening.alerts.models import ALERT_METRIC_LABELS, Alert, AlertMetric
from guanxi.listening.alerts.service import list_alerts
from guanxi.listening.insight.service import (
    SENTIMENT_LABELS,
    SENTIMENTS,
    STAGE_LABELS,
    DashboardFilters,
    sentiment_trend,
    share_of_voice,
    source_kind_mix,
    source_kinds_chart,
    stage_funnel,
    top_authors,
    top_mentions,
)

KEY = "listening.mentions"
TITLE = N_("Listening")
TOP = 10
EXCERPT = 60  # a post's text in the table: its beginning

_MENTIONS = {
    Direction.UP: N_("Mentions: {mentions}, {change} more than in the period compared."),
    Direction.DOWN: N_("Mentions: {mentions}, {change} fewer than in the period compared."),
    Direction.SAME: N_("Mentions: {mentions}, as many as in the period compared."),
    Direction.UNKNOWN: N_("Mentions: {mentions}."),
}
_SENTIMENT = N_("{positive} of them were positive and {negative} negative.")
_VOICE = N_("{brand} had {share} of the voice among the brands followed.")
_ALERTS = N_("Alerts raised: {alerts}.")
_NO_ALERTS = N_("No alert was raised.")


class _Period:
    """One period's panels."""

    def __init__(self, db: Session, workspace_id: int, start: date, end: date) -> None:
        filters = DashboardFilters(start=start, end=end)
        trend = sentiment_trend(db, workspace_id=workspace_id, filters=filters)
        self.days = [date.fromisoformat(day) for day in trend["days"]]
        self.per_day: dict[str, list[int]] = trend["series"]
        self.sentiments = {name: sum(self.per_day[name]) for name in SENTIMENTS}
        self.mentions = sum(self.sentiments.values())
        self.voice = share_of_voice(db, workspace_id=workspace_id, filters=filters)
        since, until = day_bounds(start, end, "UTC")
        self.alerts = list_alerts(
            db, workspace_id=workspace_id, limit=None, since=since, until=until
        )
        self.filters = filters

    def share(self, sentiment: str) -> Number:
        count = self.sentiments[sentiment]
        return Number(count / self.mentions if self.mentions else None, Unit.PERCENT)

    def brand_voice(self) -> tuple[str, Number] | None:
        """The first brand topic's name and share of voice, when there are brands to compare."""
        if self.voice["needs_competitor"] or not self.voice["total"]:
            return None  # one brand alone, or no brand mentioned: no share to speak of
        for item in self.voice["items"]:
            if item["category"] == "brand":
                return str(item["name"]), Number(float(item["share"]), Unit.PERCENT)
        return None


def mentions(db: Session, query: ReportQuery) -> ReportSection:
    """The listening section (see the module's docstring)."""
    now = _Period(db, query.workspace_id, query.start, query.end)
    if not now.mentions and not now.alerts:
        return ReportSection(KEY, Text(TITLE), empty=Text(N_("No mention in this period.")))
    before = None
    if query.compare_start is not None and query.compare_end is not None:
        before = _Period(db, query.workspace_id, query.compare_start, query.compare_end)
    blocks: list[Block] = [Paragraph(text) for text in _narrative(now, before)]
    blocks += _figures(now, before)
    blocks += [_volume_chart(now, query.start, query.end), _sentiment_chart(now)]
    if now.brand_voice() is not None:
        blocks.append(_voice_chart(now))
    blocks += _mix_charts(db, query.workspace_id, now.filters)
    blocks.append(_top_posts(db, query.workspace_id, now.filters))
    blocks.append(_top_authors(db, query.workspace_id, now.filters))
    if now.alerts:
        blocks.append(_alerts(now.alerts))
    return ReportSection(KEY, Text(TITLE), shown(blocks))


def _narrative(now: _Period, before: _Period | None) -> list[Text]:
    was = before.mentions if before else None
    way, change = compared(now.mentions, was)
    sentences = [Text(_MENTIONS[way], {"mentions": Number(now.mentions), "change": change})]
    if now.mentions:
        shares = {"positive": now.share("positive"), "negative": now.share("negative")}
        sentences.append(Text(_SENTIMENT, shares))
    voice = now.brand_voice()
    if voice is not None:
        sentences.append(Text(_VOICE, {"brand": voice[0], "share": voice[1]}))
    elif now.alerts:
        sentences.append(Text(_ALERTS, {"alerts": Number(len(now.alerts))}))
    else:
        sentences.append(Text(_NO_ALERTS))
    return sentences


def _figures(now: _Period, before: _Period | None) -> list[Block]:
    figures: list[Block] = [
        Figure(
            "mentions",
            Text(N_("Mentions")),
            Number(now.mentions),
            Number(before.mentions) if before else None,
        ),
        Figure(
            "positive_share",
            Text(N_("Positive mentions")),
            now.share("positive"),
            before.share("positive") if before else None,
        ),
        Figure(
            "negative_share",
            Text(N_("Negative mentions")),
            now.share("negative"),
            before.share("negative") if before else None,
            higher_is_better=False,
        ),
    ]
    voice = now.brand_voice()
    if voice is not None:
        was = before.brand_voice() if before else None
        figures.append(
            Figure(
                "share_of_voice",
                Text(N_("{brand}'s share of voice"), {"brand": voice[0]}),
                voice[1],
                (was[1] if was and was[0] == voice[0] else Number(None, Unit.PERCENT))
                if before
                else None,
            )
        )
    figures.append(
        Figure(
            "alerts",
            Text(N_("Alerts raised")),
            Number(len(now.alerts)),
            Number(len(before.alerts)) if before else None,
            higher_is_better=False,
        )
    )
    return figures


def _volume_chart(now: _Period, start: date, end: date) -> Chart:
    """Mentions per day (per week, for a period longer than a chart has points)."""
    spans = day_buckets(start, end)
    index = {day: n for n, day in enumerate(now.days)}
    total = [sum(counts) for counts in zip(*now.per_day.values(), strict=True)]

    def summed(first: date, last: date) -> float:
        begin, finish = index.get(first), index.get(last)
        if begin is None or finish is None:
            return 0.0
        return float(sum(total[begin : finish + 1]))

    return Chart(
        "volume",
        Text(N_("Mentions per day")),
        ChartKind.LINE,
        tuple(first for first, _ in spans),
        (Series(Text(N_("Mentions")), tuple(summed(first, last) for first, last in spans)),),
    )


def _sentiment_chart(now: _Period) -> Chart:
    return Chart(
        "sentiment",
        Text(N_("Sentiment")),
        ChartKind.PIE,
        tuple(Text(SENTIMENT_LABELS[name]) for name in SENTIMENTS),
        (Series(Text(N_("Mentions")), tuple(float(now.sentiments[n]) for n in SENTIMENTS)),),
    )


def _voice_chart(now: _Period) -> Chart:
    items = now.voice["items"]
    return Chart(
        "share_of_voice",
        Text(N_("Share of voice")),
        ChartKind.HORIZONTAL_BAR,
        tuple(str(item["name"]) for item in items),
        (Series(Text(N_("Share of voice")), tuple(float(item["share"]) for item in items)),),
        Unit.PERCENT,
    )


def _mix_charts(db: Session, workspace_id: int, filters: DashboardFilters) -> list[Block]:
    """The kinds of source (a pie), and the journey stages (bars) when any mention has one."""
    kinds = source_kind_mix(db, workspace_id=workspace_id, filters=filters)
    charts: list[Block] = [source_kinds_chart(kinds)]
    stages = stage_funnel(db, workspace_id=workspace_id, filters=filters)["items"]
    staged = [item for item in stages if item["key"] != "none"]
    if any(item["mentions"] for item in staged):
        charts.append(
            Chart(
                "journey_stages",
                Text(N_("Journey stages")),
                ChartKind.BAR,
                tuple(Text(STAGE_LABELS[item["key"]]) for item in staged),
                (Series(Text(N_("Mentions")), tuple(float(item["mentions"]) for item in staged)),),
            )
        )
    return charts


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _top_posts(db: Session, workspace_id: int, filters: DashboardFilters) -> Table:
    found = top_mentions(db, workspace_id=workspace_id, filters=filters, limit=TOP)
    return Table(
        "top_posts",
        Text(N_("Most engaging posts")),
        (
            Column(Text(N_("Post"))),
            Column(Text(N_("Platform"))),
            Column(Text(N_("Author"))),
            Column(Text(N_("Posted on"))),
            Column(Text(N_("Engagements")), Unit.COUNT),
        ),
        tuple(
            (
                _excerpt(mention.text),
                platform_names(mention.platform),
                (author.name or author.external_id) if author else "",
                mention.posted_at.astimezone(UTC).date(),
                mention.likes + mention.comments + mention.reposts,
            )
            for mention, author in found
        ),
    )


def _top_authors(db: Session, workspace_id: int, filters: DashboardFilters) -> Table:
    items = top_authors(db, workspace_id=workspace_id, filters=filters, limit=TOP)["items"]
    return Table(
        "top_authors",
        Text(N_("Most followed authors")),
        (
            Column(Text(N_("Author"))),
            Column(Text(N_("Platform"))),
            Column(Text(N_("Followers")), Unit.COUNT),
            Column(Text(N_("Mentions")), Unit.COUNT),
        ),
        tuple(
            (
                str(item["name"]),
                platform_names(str(item["platform"])),
                int(item["followers"]),
                int(item["mentions"]),
            )
            for item in items
        ),
    )


def _raised_on(alert: Alert) -> date:
    fired: datetime = alert.fired_at
    return fired.astimezone(UTC).date()


def _alerts(alerts: list[Alert]) -> Table:
    rows = [
        (
            _raised_on(alert),
            alert.topic.name,
            Text(ALERT_METRIC_LABELS[AlertMetric(alert.metric)]),
            alert.current_mentions,
        )
        for alert in alerts
    ]
    kept, more = table_rows(rows)
    return Table(
        "alerts",
        Text(N_("Alerts raised")),
        (
            Column(Text(N_("Raised on"))),
            Column(Text(N_("Topic"))),
            Column(Text(N_("What rose"))),
            Column(Text(N_("Mentions")), Unit.COUNT),
        ),
        kept,
        more,
    )
