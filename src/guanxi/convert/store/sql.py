"""Convert's event facts in the SQL database (SQLite or PostgreSQL): the default.

Clicks are ``LinkClick`` rows, code events ``CodeEvent`` rows; the counts of the rows a
workspace's retention deleted are ``ClickHour`` and ``CodeEventHour`` rows, written in the
statement's transaction that deletes the raw rows, so no row is counted twice. The counting
rule (one counted click per visitor, link and hour) is the partial unique index on
``LinkClick``. Retention asks the orders table in the same statement for the rows an order
points back to.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, exists, func, select, update
from sqlalchemy.orm import Session

from guanxi.convert.models import LinkClick, Order
from guanxi.convert.rollup_models import ClickHour, CodeEventHour
from guanxi.convert.scene_models import CodeEvent, CodeEventKind
from guanxi.convert.store.base import (
    ClickFact,
    ClickTouch,
    CodeEventFact,
    Kept,
    LinkCounts,
)
from guanxi.core.db import Base
from guanxi.core.in_lists import among, each_among
from guanxi.core.upsert import insert_statement


def hour_start(moment: datetime) -> datetime:
    """The UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _add_counts(
    db: Session,
    model: type[Base],
    counts: Mapping[tuple[Any, ...], Mapping[str, int]],
    *,
    key: Sequence[str],
    workspace_id: int,
) -> None:
    """Add ``counts`` (per key) to the rows of ``model`` with the same key, or insert them."""
    if not counts:
        return
    rows = [
        {"workspace_id": workspace_id, **dict(zip(key, values, strict=True)), **figures}
        for values, figures in counts.items()
    ]
    statement = insert_statement(db, model)
    counters = [name for name in rows[0] if name not in key and name != "workspace_id"]
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: getattr(model, name) + statement.excluded[name] for name in counters},
    )
    db.execute(statement, rows)


def _event_fact(event: CodeEvent) -> CodeEventFact:
    return CodeEventFact(
        workspace_id=event.workspace_id,
        channel_id=event.channel_id,
        event_id=event.event_id,
        openid=event.openid,
        kind=str(event.kind),
        occurred_at=event.occurred_at,
        code_id=event.code_id,
        scene=event.scene,
        origin_checked=event.origin_checked,
        illustrative=event.illustrative,
        id=event.id,
    )


class SqlConvertStore:
    """``ConvertStore`` on the SQL tables, through ``db``."""

    def __init__(self, db: Session) -> None:
        self.db = db

    # --- Clicks ------------------------------------------------------------------------

    def write_clicks(self, clicks: Sequence[ClickFact]) -> None:
        """Insert the people's clicks as counted (the unique index skips a repeat in the
        hour and a click already stored), then the rest uncounted, with the bots'."""
        if not clicks:
            return
        db = self.db
        people = [dict(asdict(click), counted=True) for click in clicks if not click.bot]
        if people:
            db.execute(insert_statement(db, LinkClick).on_conflict_do_nothing(), people)
        ids = [click.click_id for click in clicks]
        stored: set[str] = set()
        for condition in each_among(db, LinkClick.click_id, ids):
            stored.update(db.scalars(select(LinkClick.click_id).where(condition)))
        rest = [dict(asdict(c), counted=False) for c in clicks if c.click_id not in stored]
        if rest:
            db.execute(
                insert_statement(db, LinkClick).on_conflict_do_nothing(index_elements=["click_id"]),
                rest,
            )

    def link_counts(self, *, link_ids: Sequence[int]) -> dict[int, LinkCounts]:
        """Raw rows grouped per link, plus the deleted clicks' hours."""
        if not link_ids:
            return {}
        db = self.db
        rows = db.execute(
            select(
                LinkClick.link_id,
                func.sum(case((LinkClick.counted, 1), else_=0)),
                func.count(),
                func.sum(case((LinkClick.bot, 1), else_=0)),
            )
            .where(among(db, LinkClick.link_id, link_ids))
            .group_by(LinkClick.link_id)
        )
        found = {
            link_id: LinkCounts(counted=int(counted or 0), visits=int(visits), bots=int(bots or 0))
            for link_id, counted, visits, bots in rows
        }
        rolled_up = db.execute(
            select(
                ClickHour.link_id,
                func.sum(ClickHour.counted),
                func.sum(ClickHour.visits),
                func.sum(ClickHour.bots),
            )
            .where(among(db, ClickHour.link_id, link_ids))
            .group_by(ClickHour.link_id)
        )
        for link_id, counted, visits, bots in rolled_up:
            raw = found.get(link_id, LinkCounts())
            found[link_id] = LinkCounts(
                counted=raw.counted + int(counted or 0),
                visits=raw.visits + int(visits or 0),
                bots=raw.bots + int(bots or 0),
            )
        return found

    def counted_by_platform(self, *, link_id: int) -> dict[str, int]:
        """Raw counted rows per app, plus the deleted clicks' hours."""
        counts: Counter[str] = Counter()
        for platform, count in self.db.execute(
            select(LinkClick.platform, func.count())
            .where(LinkClick.link_id == link_id, LinkClick.counted)
            .group_by(LinkClick.platform)
        ):
            counts[platform] += int(count)
        for platform, count in self.db.execute(
            select(ClickHour.platform, func.sum(ClickHour.counted))
            .where(ClickHour.link_id == link_id)
            .group_by(ClickHour.platform)
        ):
            counts[platform] += int(count or 0)
        return {platform: count for platform, count in counts.items() if count}

    def has_illustrative_clicks(self, *, workspace_id: int) -> bool:
        """One row is enough."""
        found = self.db.scalar(
            select(LinkClick.id)
            .where(LinkClick.workspace_id == workspace_id, LinkClick.illustrative)
            .limit(1)
        )
        return found is not None

    def counted_by_link(
        self, *, workspace_id: int, link_ids: Sequence[int], start: datetime, end: datetime
    ) -> dict[int, int]:
        """Raw counted rows by click time, plus the deleted clicks' hours starting in range."""
        if not link_ids:
            return {}
        db = self.db
        found: Counter[int] = Counter()
        for condition in each_among(db, LinkClick.link_id, link_ids):
            for link_id, count in db.execute(
                select(LinkClick.link_id, func.count())
                .where(
                    condition,
                    LinkClick.workspace_id == workspace_id,
                    LinkClick.counted,
                    LinkClick.bot.is_(False),
                    LinkClick.clicked_at >= start,
                    LinkClick.clicked_at < end,
                )
                .group_by(LinkClick.link_id)
            ):
                found[int(link_id)] += int(count)
        for condition in each_among(db, ClickHour.link_id, link_ids):
            for link_id, count in db.execute(
                select(ClickHour.link_id, func.sum(ClickHour.counted))
                .where(
                    condition,
                    ClickHour.workspace_id == workspace_id,
                    ClickHour.hour_start >= start,
                    ClickHour.hour_start < end,
                )
                .group_by(ClickHour.link_id)
            ):
                found[int(link_id)] += int(count or 0)
        return {link_id: count for link_id, count in found.items() if count}

    def click_touches(
        self, *, workspace_id: int, click_ids: Sequence[str], with_bots: bool = False
    ) -> dict[str, ClickTouch]:
        """The rows among ``click_ids`` (through the click id's unique index)."""
        db = self.db
        found: dict[str, ClickTouch] = {}
        for condition in each_among(db, LinkClick.click_id, click_ids):
            query = select(
                LinkClick.click_id, LinkClick.link_id, LinkClick.clicked_at, LinkClick.platform
            ).where(condition, LinkClick.workspace_id == workspace_id)
            if not with_bots:
                query = query.where(LinkClick.bot.is_(False))
            for click_id, link_id, clicked_at, platform in db.execute(query):
                found[click_id] = ClickTouch(link_id, clicked_at, platform or "")
        return found

    def order_clicks(
        self,
        orders: Select[*tuple[Any, ...]],
        *,
        workspace_id: int,
        chunk: int,
        with_bots: bool = False,
    ) -> Iterator[list[tuple[tuple[Any, ...], ClickTouch | None]]]:
        """One statement: the orders outer-joined to their clicks (the click id's unique
        index), streamed (a server-side cursor on PostgreSQL)."""
        width = len(orders.selected_columns)
        carried = (LinkClick.click_id == Order.click_id) & (LinkClick.workspace_id == workspace_id)
        if not with_bots:
            carried &= LinkClick.bot.is_(False)
        rows = self.db.execute(
            orders.add_columns(LinkClick.link_id, LinkClick.clicked_at, LinkClick.platform)
            .outerjoin(LinkClick, carried)
            .execution_options(yield_per=chunk)
        )
        for part in rows.partitions():
            yield [
                (
                    row[:width],
                    None
                    if row[width] is None
                    else ClickTouch(row[width], row[width + 1], row[width + 2] or ""),
                )
                for row in part
            ]

    @staticmethod
    def _old_clicks(workspace_id: int, before: datetime) -> tuple[ColumnElement[bool], ...]:
        ordered = exists().where(
            Order.workspace_id == workspace_id, Order.click_id == LinkClick.click_id
        )
        return (LinkClick.workspace_id == workspace_id, LinkClick.clicked_at < before, ~ordered)

    def count_clicks_before(
        self,
        *,
        workspace_id: int,
        before: datetime,
        kept: Kept,  # noqa: ARG002 - the orders are asked in the same statement
    ) -> int:
        """The old rows no order points back to."""
        query = (
            select(func.count())
            .select_from(LinkClick)
            .where(*self._old_clicks(workspace_id, before))
        )
        return int(self.db.scalar(query) or 0)

    def prune_clicks(
        self,
        *,
        workspace_id: int,
        before: datetime,
        limit: int,
        kept: Kept,  # noqa: ARG002 - the orders are asked in the same statement
    ) -> int:
        """Delete, then count into ``ClickHour`` exactly the rows this statement deleted
        (a run beside it that deleted the same rows first counted them itself)."""
        db = self.db
        ids = list(
            db.scalars(
                select(LinkClick.id).where(*self._old_clicks(workspace_id, before)).limit(limit)
            )
        )
        if not ids:
            return 0
        rows = db.execute(
            delete(LinkClick)
            .where(among(db, LinkClick.id, ids))
            .returning(
                LinkClick.link_id,
                LinkClick.clicked_at,
                LinkClick.platform,
                LinkClick.counted,
                LinkClick.bot,
            )
        ).all()
        hours: dict[tuple[Any, ...], Counter[str]] = {}
        for row in rows:
            figures = hours.setdefault(
                (row.link_id, hour_start(row.clicked_at), row.platform), Counter()
            )
            figures["visits"] += 1
            figures["counted"] += int(row.counted)
            figures["bots"] += int(row.bot)
        counts = {k: {n: v[n] for n in ("visits", "counted", "bots")} for k, v in hours.items()}
        _add_counts(
            db,
            ClickHour,
            counts,
            key=("link_id", "hour_start", "platform"),
            workspace_id=workspace_id,
        )
        return len(rows)

    # --- Scene-code events -------------------------------------------------------------

    def record_code_event(self, event: CodeEventFact) -> bool:
        """One INSERT that does nothing on the channel's (event id) conflict."""
        values = asdict(event)
        values.pop("id")
        statement = (
            insert_statement(self.db, CodeEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["channel_id", "event_id"])
            .returning(CodeEvent.id)
        )
        return self.db.execute(statement).scalar_one_or_none() is not None

    def pending_origins(self, *, limit: int) -> list[CodeEventFact]:
        """By row id."""
        pending = self.db.scalars(
            select(CodeEvent)
            .where(
                CodeEvent.kind == CodeEventKind.FOLLOW,
                CodeEvent.scene == "",
                CodeEvent.origin_checked.is_(False),
            )
            .order_by(CodeEvent.id)
            .limit(limit)
        ).all()
        return [_event_fact(event) for event in pending]

    def set_origin(self, event: CodeEventFact, *, scene: str, code_id: int | None) -> None:
        """Update the row."""
        values: dict[str, Any] = {"origin_checked": True}
        if scene:
            values.update(scene=scene, code_id=code_id)
        self.db.execute(update(CodeEvent).where(CodeEvent.id == event.id).values(**values))

    def code_event_counts(
        self,
        *,
        workspace_id: int,
        code_ids: Sequence[int] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[tuple[int, str], int]:
        """Raw rows by event time, plus the deleted events' hours starting in range."""
        raw: list[ColumnElement[bool]] = [
            CodeEvent.workspace_id == workspace_id,
            CodeEvent.code_id.is_not(None),
        ]
        hours: list[ColumnElement[bool]] = [CodeEventHour.workspace_id == workspace_id]
        if start is not None:
            raw.append(CodeEvent.occurred_at >= start)
            hours.append(CodeEventHour.hour_start >= start)
        if end is not None:
            raw.append(CodeEvent.occurred_at < end)
            hours.append(CodeEventHour.hour_start < end)
        if code_ids is not None:
            if not code_ids:
                return {}
            raw.append(among(self.db, CodeEvent.code_id, code_ids))
            hours.append(among(self.db, CodeEventHour.code_id, code_ids))
        tallies: Counter[tuple[int, str]] = Counter()
        for code_id, kind, count in (
            *self.db.execute(
                select(CodeEvent.code_id, CodeEvent.kind, func.count())
                .where(*raw)
                .group_by(CodeEvent.code_id, CodeEvent.kind)
            ),
            *self.db.execute(
                select(CodeEventHour.code_id, CodeEventHour.kind, func.sum(CodeEventHour.events))
                .where(*hours)
                .group_by(CodeEventHour.code_id, CodeEventHour.kind)
            ),
        ):
            if code_id is not None:
                tallies[(int(code_id), str(kind))] += int(count or 0)
        return {key: count for key, count in tallies.items() if count}

    def scans_of(
        self, *, workspace_id: int, openids: Collection[str], since: datetime, until: datetime
    ) -> dict[str, list[tuple[datetime, int]]]:
        """Through the (workspace, OpenID, time) index."""
        found: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        if not openids:
            return found
        for condition in each_among(self.db, CodeEvent.openid, openids):
            for openid, occurred_at, code_id in self.db.execute(
                select(CodeEvent.openid, CodeEvent.occurred_at, CodeEvent.code_id)
                .where(
                    CodeEvent.workspace_id == workspace_id,
                    condition,
                    CodeEvent.code_id.is_not(None),
                    CodeEvent.occurred_at >= since,
                    CodeEvent.occurred_at <= until,
                )
                .order_by(CodeEvent.openid, CodeEvent.occurred_at, CodeEvent.id)
            ):
                if code_id is not None:  # the query leaves them out; the column may be NULL
                    found[openid].append((occurred_at, code_id))
        return found

    def code_paths(
        self, *, workspace_id: int, since: datetime, until: datetime
    ) -> Iterator[tuple[str, datetime, int]]:
        """One ordered query, streamed."""
        rows = self.db.execute(
            select(CodeEvent.openid, CodeEvent.occurred_at, CodeEvent.code_id)
            .where(
                CodeEvent.workspace_id == workspace_id,
                CodeEvent.code_id.is_not(None),
                CodeEvent.occurred_at >= since,
                CodeEvent.occurred_at < until,
            )
            .order_by(CodeEvent.openid, CodeEvent.occurred_at, CodeEvent.id)
        )
        for openid, at, code_id in rows:
            if code_id is not None:
                yield openid, at, code_id

    @staticmethod
    def _old_events(workspace_id: int, before: datetime) -> tuple[ColumnElement[bool], ...]:
        ordered = exists().where(
            Order.workspace_id == workspace_id, Order.openid == CodeEvent.openid
        )
        return (CodeEvent.workspace_id == workspace_id, CodeEvent.occurred_at < before, ~ordered)

    def count_code_events_before(
        self,
        *,
        workspace_id: int,
        before: datetime,
        kept: Kept,  # noqa: ARG002 - the orders are asked in the same statement
    ) -> int:
        """The old rows of people who never ordered."""
        query = (
            select(func.count())
            .select_from(CodeEvent)
            .where(*self._old_events(workspace_id, before))
        )
        return int(self.db.scalar(query) or 0)

    def prune_code_events(
        self,
        *,
        workspace_id: int,
        before: datetime,
        limit: int,
        kept: Kept,  # noqa: ARG002 - the orders are asked in the same statement
    ) -> int:
        """Delete, then count into ``CodeEventHour`` the rows this statement deleted."""
        db = self.db
        ids = list(
            db.scalars(
                select(CodeEvent.id).where(*self._old_events(workspace_id, before)).limit(limit)
            )
        )
        if not ids:
            return 0
        rows = db.execute(
            delete(CodeEvent)
            .where(among(db, CodeEvent.id, ids))
            .returning(CodeEvent.code_id, CodeEvent.kind, CodeEvent.occurred_at)
        ).all()
        # An event of no code (a follow from search) is counted nowhere: it goes uncounted.
        hours = Counter(
            (row.code_id, hour_start(row.occurred_at), str(row.kind))
            for row in rows
            if row.code_id is not None
        )
        counts = {key: {"events": count} for key, count in hours.items()}
        _add_counts(
            db,
            CodeEventHour,
            counts,
            key=("code_id", "hour_start", "kind"),
            workspace_id=workspace_id,
        )
        return len(rows)
