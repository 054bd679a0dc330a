"""What measure's analytics store answers, whatever the engine (SQL or ClickHouse).

The store holds measure's facts: each post's snapshots (its lifetime figures at one moment),
each account's days and the splits a platform gives of them (breakdowns). The posts, the
collection state and the custom metric definitions stay in the SQL database.
``sql.SqlMeasureStore`` keeps the facts in the SQL tables of ``measure.models`` (the
default); ``clickhouse.ClickHouseMeasureStore`` in ClickHouse (``GUANXI_ANALYTICS_URL``).
The contract tests (tests/analytics) hold both to the same answers.

Days are the platform's days (``runs.PLATFORM_DAYS``), so no question here depends on the
workspace's time zone: the callers turn a workspace's period into days or instants first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select

from guanxi.connectors.metrics import Metric

FIGURES = tuple(metric.value for metric in Metric)  # the figure columns, in Metric order


@dataclass(frozen=True)
class SnapshotFact:
    """A post's lifetime figures as the platform reported them at ``observed_at``."""

    workspace_id: int
    post_id: int
    observed_at: datetime  # aware (UTC)
    figures: Mapping[str, int | None]  # by figure column; None: not reported
    as_of: datetime | None = None

    def value(self, metric: Metric) -> int | None:
        """One figure (None: not reported)."""
        return self.figures.get(metric.value)


@dataclass(frozen=True)
class DayFact:
    """An account's figures for one of the platform's days."""

    workspace_id: int
    channel_id: int
    day: date
    figures: Mapping[str, int | None]  # by figure column; None: not reported
    collected_at: datetime | None = None  # aware (UTC)
    illustrative: bool = False  # made up for the demo

    def reported(self) -> dict[Metric, int]:
        """The reported figures (the NULL ones left out), as ``MetricColumns.figures``."""
        found = {metric: self.figures.get(metric.value) for metric in Metric}
        return {metric: value for metric, value in found.items() if value is not None}


@dataclass(frozen=True)
class BreakdownFact:
    """One category of a figure a platform split (``follower_source`` / ``search``)."""

    workspace_id: int
    channel_id: int
    day: date
    breakdown: str
    key: str
    value: int


@dataclass(frozen=True)
class FollowerFlows:
    """An account's follower flows over a period: how many days it has, their sums, and
    how many days report each flow."""

    days: int
    new: int | None
    lost: int | None
    new_days: int
    lost_days: int


@dataclass(frozen=True)
class DaySpan:
    """The first and last day an account has figures for."""

    first: date
    last: date


class MeasureStore(Protocol):
    """The facts behind every measure page, API, report section and custom metric."""

    # --- Writing ---------------------------------------------------------------------

    def write_snapshots(self, snapshots: Sequence[SnapshotFact], *, replace: bool) -> set[int]:
        """Store snapshots, one per (post, moment). A moment already stored keeps its
        figures, or takes the new ones with ``replace``. Returns the posts whose snapshot
        was new (a re-sent batch returns none)."""
        ...

    def write_days(self, days: Sequence[DayFact]) -> None:
        """Insert or update account days; a figure the new day does not report keeps its
        stored value, the others take the newer one."""
        ...

    def write_breakdowns(self, rows: Sequence[BreakdownFact]) -> None:
        """Insert or update breakdown categories (the newer value wins)."""
        ...

    # --- Snapshots -------------------------------------------------------------------

    def snapshots(
        self, workspace_id: int, post_ids: Sequence[int]
    ) -> dict[int, list[SnapshotFact]]:
        """The workspace's posts' snapshots, each post's in the order they were taken."""
        ...

    def count_snapshots_before(self, *, workspace_id: int, before: datetime) -> int:
        """The workspace's snapshots taken before ``before``."""
        ...

    def delete_before(self, *, workspace_id: int, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the workspace's snapshots taken before ``before``
        (retention); returns how many went."""
        ...

    # --- Account days ----------------------------------------------------------------

    def days(self, channel_ids: Sequence[int], first: date, last: date) -> list[DayFact]:
        """The accounts' days from ``first`` to ``last``, by account then day."""
        ...

    def followers(
        self, channel_ids: Sequence[int], first: date, last: date
    ) -> dict[int, list[tuple[date, int]]]:
        """Each account's reported follower counts from ``first`` to ``last``, in day order
        (the days without one left out, so are accounts without any)."""
        ...

    def last_followers(
        self, channel_ids: Sequence[int], *, upto: date | None = None, before: date | None = None
    ) -> dict[int, int]:
        """Each account's last reported follower count up to (or before) a day; accounts
        without one are left out."""
        ...

    def flows(
        self, channel_ids: Sequence[int], first: date, last: date
    ) -> dict[int, FollowerFlows]:
        """Each account's follower flows from ``first`` to ``last`` (accounts without a day
        left out)."""
        ...

    def spans(self, channel_ids: Sequence[int]) -> dict[int, DaySpan]:
        """Each account's first and last day (accounts without a day left out)."""
        ...

    def has_days(
        self,
        channel_ids: Sequence[int],
        *,
        first: date | None = None,
        last: date | None = None,
        illustrative: bool | None = None,
    ) -> bool:
        """Whether any of the accounts has a day (in the range, of this kind when given)."""
        ...

    def breakdown_sums(
        self, channel_id: int, first: date, last: date
    ) -> list[tuple[str, str, int]]:
        """The account's breakdown categories summed over the days: (breakdown, key, sum)."""
        ...

    # --- For the SQL that ranks posts ------------------------------------------------

    def followers_on_day(
        self,
        channel: Any,
        day: ColumnElement[Any],
        *,
        first: date,
        last: date,
        channels: Select[Any],
    ) -> ColumnElement[Any]:
        """A SQL scalar subquery, correlated on ``channel`` and ``day`` (columns of the
        query it goes into): the account's last follower count on or before the day, back
        to ``first``. ``channels`` selects the account ids the query can ask about, and
        ``last`` is its latest day (a store outside the SQL database copies those counts in
        for the query's transaction)."""
        ...
