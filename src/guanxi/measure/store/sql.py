"""The measure store in the SQL database (the default): ``measure.models``' fact tables,
read and written with the queries and indexes they were designed for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.core.db import utcnow
from guanxi.core.in_lists import among
from guanxi.core.upsert import insert_statement
from guanxi.measure.models import (
    AccountDay,
    AccountDayBreakdown,
    MeasuredPost,
    MetricColumns,
    PostSnapshot,
)
from guanxi.measure.store.base import (
    FIGURES,
    BreakdownFact,
    DayFact,
    DaySpan,
    FollowerFlows,
    SnapshotFact,
)


def _figures(row: MetricColumns) -> dict[str, int | None]:
    return {name: getattr(row, name) for name in FIGURES}


class SqlMeasureStore:
    """``MeasureStore`` on the SQL database of ``db``."""

    def __init__(self, db: Session) -> None:
        self.db = db

    # --- Writing ---------------------------------------------------------------------

    def write_snapshots(self, snapshots: Sequence[SnapshotFact], *, replace: bool) -> set[int]:
        """See ``MeasureStore.write_snapshots``."""
        if not snapshots:
            return set()
        rows = [
            {
                "post_id": s.post_id,
                "observed_at": s.observed_at,
                "as_of": s.as_of,
                **{name: s.figures.get(name) for name in FIGURES},
            }
            for s in snapshots
        ]
        keys = ["post_id", "observed_at"]
        if replace:
            # Which moments are new is read first: an upsert's RETURNING names both kinds.
            taken = {
                (post_id, _utc_key(observed_at))
                for post_id, observed_at in self.db.execute(
                    select(PostSnapshot.post_id, PostSnapshot.observed_at).where(
                        among(self.db, PostSnapshot.post_id, [s.post_id for s in snapshots]),
                        PostSnapshot.observed_at.in_(sorted({s.observed_at for s in snapshots})),
                    )
                )
            }
            statement = insert_statement(self.db, PostSnapshot).values(rows)
            self.db.execute(
                statement.on_conflict_do_update(
                    index_elements=keys,
                    set_={name: statement.excluded[name] for name in FIGURES},
                )
            )
            return {
                s.post_id for s in snapshots if (s.post_id, _utc_key(s.observed_at)) not in taken
            }
        statement = insert_statement(self.db, PostSnapshot).values(rows)
        inserted = self.db.execute(
            statement.on_conflict_do_nothing(index_elements=keys).returning(PostSnapshot.post_id)
        )
        return set(inserted.scalars().all())

    def write_days(self, days: Sequence[DayFact]) -> None:
        """See ``MeasureStore.write_days``."""
        if not days:
            return
        rows = [
            {
                "channel_id": d.channel_id,
                "day": d.day,
                "collected_at": d.collected_at or utcnow(),
                "illustrative": d.illustrative,
                **{name: d.figures.get(name) for name in FIGURES},
            }
            for d in days
        ]
        statement = insert_statement(self.db, AccountDay).values(rows)
        table = AccountDay.__table__
        self.db.execute(
            statement.on_conflict_do_update(
                index_elements=["channel_id", "day"],
                set_={
                    "collected_at": statement.excluded.collected_at,
                    **{
                        name: func.coalesce(statement.excluded[name], table.c[name])
                        for name in FIGURES
                    },
                },
            )
        )

    def write_breakdowns(self, rows: Sequence[BreakdownFact]) -> None:
        """See ``MeasureStore.write_breakdowns``."""
        if not rows:
            return
        statement = insert_statement(self.db, AccountDayBreakdown).values(
            [
                {
                    "channel_id": r.channel_id,
                    "day": r.day,
                    "breakdown": r.breakdown,
                    "key": r.key,
                    "value": r.value,
                }
                for r in rows
            ]
        )
        self.db.execute(
            statement.on_conflict_do_update(
                index_elements=["channel_id", "day", "breakdown", "key"],
                set_={"value": statement.excluded.value},
            )
        )

    # --- Snapshots -------------------------------------------------------------------

    def snapshots(
        self, workspace_id: int, post_ids: Sequence[int]
    ) -> dict[int, list[SnapshotFact]]:
        """See ``MeasureStore.snapshots``."""
        found: dict[int, list[SnapshotFact]] = {}
        if not post_ids:
            return found
        rows = self.db.scalars(
            select(PostSnapshot)
            .join(MeasuredPost, MeasuredPost.id == PostSnapshot.post_id)
            .where(
                among(self.db, PostSnapshot.post_id, list(post_ids)),
                MeasuredPost.workspace_id == workspace_id,
            )
            .order_by(PostSnapshot.post_id, PostSnapshot.observed_at)
        )
        for snapshot in rows:
            found.setdefault(snapshot.post_id, []).append(
                SnapshotFact(
                    workspace_id=workspace_id,
                    post_id=snapshot.post_id,
                    observed_at=snapshot.observed_at,
                    as_of=snapshot.as_of,
                    figures=_figures(snapshot),
                )
            )
        return found

    def _older(self, workspace_id: int, before: datetime) -> Any:
        return (
            select(PostSnapshot.id)
            .join(MeasuredPost, MeasuredPost.id == PostSnapshot.post_id)
            .where(MeasuredPost.workspace_id == workspace_id, PostSnapshot.observed_at < before)
        )

    def count_snapshots_before(self, *, workspace_id: int, before: datetime) -> int:
        """See ``MeasureStore.count_snapshots_before``."""
        older = self._older(workspace_id, before).subquery()
        return int(self.db.scalar(select(func.count()).select_from(older)) or 0)

    def delete_before(self, *, workspace_id: int, before: datetime, limit: int) -> int:
        """See ``MeasureStore.delete_before``."""
        ids = list(self.db.scalars(self._older(workspace_id, before).limit(limit)))
        if not ids:
            return 0
        gone = self.db.execute(
            delete(PostSnapshot)
            .where(among(self.db, PostSnapshot.id, ids))
            .returning(PostSnapshot.id)
        )
        return len(gone.all())

    # --- Account days ----------------------------------------------------------------

    def days(self, channel_ids: Sequence[int], first: date, last: date) -> list[DayFact]:
        """See ``MeasureStore.days``."""
        if not channel_ids:
            return []
        rows = self.db.execute(
            select(AccountDay, Channel.workspace_id)
            .join(Channel, Channel.id == AccountDay.channel_id)
            .where(AccountDay.channel_id.in_(channel_ids), AccountDay.day.between(first, last))
            .order_by(AccountDay.channel_id, AccountDay.day)
        ).all()
        return [
            DayFact(
                workspace_id=workspace_id,
                channel_id=row.channel_id,
                day=row.day,
                figures=_figures(row),
                collected_at=row.collected_at,
                illustrative=row.illustrative,
            )
            for row, workspace_id in rows
        ]

    def followers(
        self, channel_ids: Sequence[int], first: date, last: date
    ) -> dict[int, list[tuple[date, int]]]:
        """See ``MeasureStore.followers``."""
        found: dict[int, list[tuple[date, int]]] = {}
        if not channel_ids:
            return found
        rows = self.db.execute(
            select(AccountDay.channel_id, AccountDay.day, AccountDay.followers)
            .where(
                AccountDay.channel_id.in_(channel_ids),
                AccountDay.day.between(first, last),
                AccountDay.followers.is_not(None),
            )
            .order_by(AccountDay.channel_id, AccountDay.day)
        )
        for channel_id, day, count in rows:
            found.setdefault(channel_id, []).append((day, int(count or 0)))
        return found

    def last_followers(
        self, channel_ids: Sequence[int], *, upto: date | None = None, before: date | None = None
    ) -> dict[int, int]:
        """See ``MeasureStore.last_followers``: per account, a backward walk of its
        (channel, day) key to the first count, whatever the period's length."""
        if not channel_ids:
            return {}
        query = select(AccountDay.followers).where(
            AccountDay.channel_id == Channel.id, AccountDay.followers.is_not(None)
        )
        if before is not None:
            query = query.where(AccountDay.day < before)
        if upto is not None:
            query = query.where(AccountDay.day <= upto)
        last = query.order_by(AccountDay.day.desc()).limit(1).correlate(Channel).scalar_subquery()
        rows = self.db.execute(select(Channel.id, last).where(Channel.id.in_(channel_ids)))
        return {channel_id: int(count) for channel_id, count in rows if count is not None}

    def flows(
        self, channel_ids: Sequence[int], first: date, last: date
    ) -> dict[int, FollowerFlows]:
        """See ``MeasureStore.flows``."""
        if not channel_ids:
            return {}
        rows = self.db.execute(
            select(
                AccountDay.channel_id,
                func.count(AccountDay.day),
                func.sum(AccountDay.new_followers),
                func.sum(AccountDay.lost_followers),
                func.count(AccountDay.new_followers),
                func.count(AccountDay.lost_followers),
            )
            .where(AccountDay.channel_id.in_(channel_ids), AccountDay.day.between(first, last))
            .group_by(AccountDay.channel_id)
        )
        return {
            channel_id: FollowerFlows(
                int(days), _int(new), _int(lost), int(new_days), int(lost_days)
            )
            for channel_id, days, new, lost, new_days, lost_days in rows
            if days
        }

    def spans(self, channel_ids: Sequence[int]) -> dict[int, DaySpan]:
        """See ``MeasureStore.spans``."""
        if not channel_ids:
            return {}
        first = select(func.min(AccountDay.day)).where(AccountDay.channel_id == Channel.id)
        last = select(func.max(AccountDay.day)).where(AccountDay.channel_id == Channel.id)
        rows = self.db.execute(
            select(
                Channel.id,
                first.correlate(Channel).scalar_subquery(),
                last.correlate(Channel).scalar_subquery(),
            ).where(Channel.id.in_(channel_ids))
        )
        return {
            channel_id: DaySpan(begins, ends)
            for channel_id, begins, ends in rows
            if begins is not None and ends is not None
        }

    def has_days(
        self,
        channel_ids: Sequence[int],
        *,
        first: date | None = None,
        last: date | None = None,
        illustrative: bool | None = None,
    ) -> bool:
        """See ``MeasureStore.has_days``."""
        if not channel_ids:
            return False
        query = select(AccountDay.day).where(AccountDay.channel_id.in_(channel_ids))
        if first is not None:
            query = query.where(AccountDay.day >= first)
        if last is not None:
            query = query.where(AccountDay.day <= last)
        if illustrative is not None:
            query = query.where(AccountDay.illustrative.is_(illustrative))
        return self.db.scalar(query.limit(1)) is not None

    def breakdown_sums(
        self, channel_id: int, first: date, last: date
    ) -> list[tuple[str, str, int]]:
        """See ``MeasureStore.breakdown_sums``."""
        rows = self.db.execute(
            select(
                AccountDayBreakdown.breakdown,
                AccountDayBreakdown.key,
                func.sum(AccountDayBreakdown.value),
            )
            .where(
                AccountDayBreakdown.channel_id == channel_id,
                AccountDayBreakdown.day.between(first, last),
            )
            .group_by(AccountDayBreakdown.breakdown, AccountDayBreakdown.key)
        )
        return [(name, key, int(value or 0)) for name, key, value in rows]

    def followers_on_day(
        self,
        channel: Any,
        day: ColumnElement[Any],
        *,
        first: date,
        last: date,  # noqa: ARG002 - the correlated walk stops by itself
        channels: Select[Any],  # noqa: ARG002 - the counts are in this database already
    ) -> ColumnElement[Any]:
        """See ``MeasureStore.followers_on_day``: per post, a backward walk of its account's
        (channel, day) key."""
        return followers_walk(AccountDay.__table__, channel, day, first)


def followers_walk(
    table: Any, channel: Any, day: ColumnElement[Any], first: date
) -> ColumnElement[Any]:
    """The last follower count of ``table`` (channel_id, day, followers) for ``channel`` on
    or before ``day``, back to ``first``, as a correlated scalar subquery."""
    return (
        select(table.c.followers)
        .where(
            table.c.channel_id == channel,
            table.c.day <= day,
            table.c.day >= first,
            table.c.followers.is_not(None),
        )
        .order_by(table.c.day.desc())
        .limit(1)
        .scalar_subquery()
    )


def _int(value: int | None) -> int | None:
    return None if value is None else int(value)


def _utc_key(moment: datetime) -> datetime:
    """A moment as a comparable key, whether the driver gave it aware or naive (UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
