"""What listening's analytics store answers, whatever the engine (SQL or ClickHouse).

The store holds one fact per enriched mention (its facets, topics, keywords and tokens)
and answers the dashboards and the alerts. ``sql.SqlMentionStore`` keeps
them in the SQL database (the default); ``clickhouse.ClickHouseMentionStore`` in ClickHouse
(``GUANXI_ANALYTICS_URL``). The contract tests (tests/analytics) hold both to the same
answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol

from starlette.datastructures import QueryParams

from guanxi.core import fields
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.listening.mentions.models import Author
from guanxi.web import charts

SENTIMENTS = ("positive", "neutral", "negative")
SOURCE_KINDS = ("personal", "public", "marketer")
STAGES = (
    "need_recognition",
    "information_search",
    "evaluation",
    "purchase",
    "post_purchase",
    "none",
)
MAX_SPAN_DAYS = charts.MAX_DAYS  # the longest date axis a chart draws day by day
LIST_PARAMS = ("platform", "topic", "sentiment", "kind", "stage")
# Below this many mentions in the filter, top authors start from the mentions; above it,
# from the authors with the most followers, each checked for a mention in the filter.
AUTHORS_FROM_MENTIONS_BELOW = 200

Dimension = Literal["platform", "source_kind", "stage"]


def _day(value: str | None, label: str) -> date | None:
    return fields.day(value, field=label) if value else None


@dataclass(frozen=True)
class DashboardFilters:
    """The filters every panel takes; empty tuples mean "any"."""

    start: date | None = None  # first day included (UTC)
    end: date | None = None  # last day included (UTC)
    platforms: tuple[str, ...] = ()
    topic_ids: tuple[int, ...] = ()
    sentiments: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, params: QueryParams) -> DashboardFilters:
        """The filters in a query string (lists repeat: ``platform=a&platform=b``)."""
        lists = {name: tuple(v for v in params.getlist(name) if v) for name in LIST_PARAMS}
        topic_ids = tuple(
            found for value in lists["topic"] if (found := parse_id(value)) is not None
        )
        if len(topic_ids) != len(lists["topic"]):
            raise UserError(N_("Choose topics from the list."))
        return cls(
            start=_day(params.get("start"), N_("Start date")),
            end=_day(params.get("end"), N_("End date")),
            platforms=lists["platform"],
            topic_ids=topic_ids,
            sentiments=lists["sentiment"],
            kinds=lists["kind"],
            stages=lists["stage"],
        )

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise UserError(N_("The start date is after the end date. Swap them."))
        if self.start and self.end and (self.end - self.start).days >= MAX_SPAN_DAYS:
            raise UserError(N_("Choose a range of at most {days} days."), days=str(MAX_SPAN_DAYS))
        for value, allowed in (
            (self.sentiments, SENTIMENTS),
            (self.kinds, SOURCE_KINDS),
            (self.stages, STAGES),
        ):
            unknown = set(value) - set(allowed)
            if unknown:
                raise UserError(
                    N_("Unknown filter value “{value}”. Pick one from the list."),
                    value=min(unknown),
                )

    @property
    def begin_at(self) -> datetime | None:
        """The first instant included."""
        return datetime.combine(self.start, time(), tzinfo=UTC) if self.start else None

    @property
    def end_before(self) -> datetime | None:
        """The first instant no longer included."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)


@dataclass(frozen=True)
class MentionFact:
    """What the store keeps of one enriched mention."""

    mention_id: int
    workspace_id: int
    posted_at: datetime  # any offset; stored and counted in UTC
    platform: str
    sentiment: str
    source_kind: str
    stage: str
    author_id: int | None
    topic_ids: tuple[int, ...] = ()
    keywords: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()  # the segmenter's words, with the workspace's dictionary
    text: str = ""


class MentionStore(Protocol):
    """Listening's mention facts: written as mentions are enriched, read by every panel.

    Counts honour every filter; with topics chosen they count topic matches (a mention in
    two chosen topics twice), as the rollup always has. Days are UTC days.
    """

    # Whether ``write`` wants each fact's tokens and text (the caller segments them).
    wants_text: bool

    def write(self, facts: Sequence[MentionFact], *, pending_days: set[date] | None = None) -> None:
        """Store these facts, replacing what was stored for the same mentions (a re-enriched
        mention moves; a re-sent batch counts once). With ``pending_days`` the SQL store
        collects the days to recount later with ``settle``."""

    def settle(self, *, workspace_id: int, days: set[date]) -> None:
        """Bring the counts of ``days`` up to date after writes with ``pending_days``."""

    def topic_rematched(
        self, *, workspace_id: int, topic_id: int, mention_ids: Sequence[int]
    ) -> None:
        """A topic now matches exactly ``mention_ids`` (its query changed, or it is new)."""

    def forget_topic(self, *, workspace_id: int, topic_id: int) -> None:
        """A topic was deleted: drop its matches and counts."""

    def delete(self, *, workspace_id: int, mention_ids: Sequence[int]) -> None:
        """Remove mentions: they leave every count and list."""

    def delete_before(self, *, workspace_id: int, cutoff: datetime) -> None:
        """Retention: remove the facts of mentions posted before ``cutoff`` from the lists
        (drill-down, keywords, authors, alerts); the daily counts keep them."""

    def count(self, *, workspace_id: int, filters: DashboardFilters) -> int:
        """How many mentions (topic matches with topics chosen) pass the filters."""

    def count_by(
        self, *, workspace_id: int, filters: DashboardFilters, dimension: Dimension
    ) -> dict[str, int]:
        """The count per value of ``dimension`` (values without mentions may be left out)."""

    def per_day_by_topic(
        self, *, workspace_id: int, filters: DashboardFilters, topic_ids: Sequence[int]
    ) -> dict[int, dict[date, int]]:
        """Per topic of ``topic_ids`` (0: every mention), the count per day."""

    def per_day_by_sentiment(
        self, *, workspace_id: int, filters: DashboardFilters
    ) -> dict[date, dict[str, int]]:
        """Per day, the count per sentiment (the sentiment filter is not applied)."""

    def count_by_topic(
        self, *, workspace_id: int, filters: DashboardFilters, topic_ids: Sequence[int]
    ) -> dict[int, int]:
        """The count per topic of ``topic_ids`` (the filters' own topics are ignored)."""

    def newest_ids(
        self,
        *,
        workspace_id: int,
        filters: DashboardFilters,
        limit: int,
        offset: int = 0,
        before: tuple[datetime, int] | None = None,
    ) -> list[int]:
        """Mentions passing the filters, newest first (ties: higher id first), from
        ``offset`` or strictly after ``before`` (posted at, id) in that order."""

    def keyword_lists(
        self, *, workspace_id: int, filters: DashboardFilters, sample: int
    ) -> list[tuple[str, ...]]:
        """The keywords of each of the newest ``sample`` mentions passing the filters."""

    def top_authors(
        self, *, workspace_id: int, filters: DashboardFilters, limit: int
    ) -> list[tuple[Author, int]]:
        """The authors with the most followers among those with mentions in the filter,
        with their count; below ``AUTHORS_FROM_MENTIONS_BELOW`` mentions every author
        counts (no followers known: 0), above it only those whose followers are known."""

    def window_counts(
        self, *, workspace_id: int, start: datetime, end: datetime, topic_id: int | None = None
    ) -> tuple[int, int]:
        """Mentions (of one topic, else all) posted in [start, end): (all, negative)."""
