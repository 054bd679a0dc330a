"""The ordered steps that take a page of fetched items into the inbox.

Every step follows one contract (after paperless-ngx's consume plugins, as the NLP
pipeline's steps do): ``able_to_run`` says whether it has anything to do for the page,
``run`` does it on the ``Page`` that carries the rows from step to step and returns a
``StepResult``: how many rows it handled, and how many it left out, by reason. The order
is what makes each row right the first time it is written:

1. ``CheckRows``: the fetched items as rows, every value checked; the account's own items,
   broken ones and repeats within the page are left out.
2. ``DropStored``: the rows already in the inbox (a page read again) are left out, so
   that nothing after this scores them or gives them a turn of an assignment rotation.
3. ``Score``: sentiment and priority.
4. ``Assign``: the assignee the assignment rules give each new row.
5. ``Insert``: each row written once, with all of the above (insert-or-ignore).
6. ``MoveCursor``: a sync's cursor moves past the page, in the same transaction.
7. ``Moderate``: search index, relationship book and moderation rules, in a savepoint.
8. ``Commit``: the page, its cursor and what moderation did, in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.connectors.base import FetchedItem, FetchedKind
from guanxi.core import values
from guanxi.core.db import utcnow
from guanxi.core.in_lists import each_among
from guanxi.inbox.bulk import (
    as_stored,
    insert_new,
    plan_for_pages,
    with_defaults,
)
from guanxi.inbox.intake.models import SyncCursor
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.inbox.triage import moderation

log = logging.getLogger(__name__)

MAX_TEXT = 20_000  # characters of one comment or message; longer is a broken item
UNIQUE_KEY = ("channel_id", "kind", "external_id")


@dataclass
class StepResult:
    """What one step did: the rows (or items) it handled, and those it left out by reason."""

    step: str
    done: int = 0
    left_out: dict[str, int] = field(default_factory=dict)

    def leave_out(self, reason: str, count: int = 1) -> StepResult:
        """Count ``count`` rows left out for ``reason``; this result."""
        if count:
            self.left_out[reason] = self.left_out.get(reason, 0) + count
        return self

    def add(self, other: StepResult) -> None:
        """Count ``other`` (the same step on another page) in."""
        self.done += other.done
        for reason, count in other.left_out.items():
            self.leave_out(reason, count)


@dataclass
class Page:
    """One page on its way into the inbox: what was fetched, the rows made of it, the items
    stored, and what each step did."""

    db: Session
    workspace_id: int
    channel: Channel | None = None  # None: the items are stored already (``after_insert``)
    fetched: Sequence[FetchedItem] = ()
    now: datetime = field(default_factory=utcnow)
    cursor: SyncCursor | None = None  # a sync's cursor, moved to ``next_cursor``
    next_cursor: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    stored: list[InboxItem] = field(default_factory=list)
    results: list[StepResult] = field(default_factory=list)


class IngestStep(Protocol):
    """One step of the ingest."""

    name: str

    def able_to_run(self, page: Page) -> bool:
        """Whether this step has anything to do for ``page``."""
        ...

    def run(self, page: Page) -> StepResult:
        """Do this step's part of ``page``; what it did."""
        ...


def run_steps(page: Page, steps: Iterable[IngestStep]) -> Page:
    """Run ``steps`` in order on ``page`` (those able to run); ``page`` with their results."""
    for step in steps:
        if step.able_to_run(page):
            page.results.append(step.run(page))
    return page


class OnRows:
    """A step that works on the page's rows: it has something to do when there are some."""

    def able_to_run(self, page: Page) -> bool:
        """There are rows."""
        return bool(page.rows)


class CheckRows:
    """The fetched items as inbox rows, every value checked."""

    name = "check"

    def able_to_run(self, page: Page) -> bool:
        """There are fetched items of a channel."""
        return page.channel is not None and bool(page.fetched)

    def run(self, page: Page) -> StepResult:
        """Make ``page.rows``; an item whose values cannot be stored is logged and left out
        (one broken item must not stop the page)."""
        channel = cast(Channel, page.channel)
        result = StepResult(self.name)
        seen: set[tuple[str, str]] = set()
        for item in page.fetched:
            row, reason = _checked(channel, item, page.now)
            if row is None:
                result.leave_out(reason)
            elif (key := (str(row["kind"]), row["external_id"])) in seen:
                result.leave_out("repeated in the page")  # the first stays, as an insert keeps it
            else:
                seen.add(key)
                page.rows.append(row)
        result.done = len(page.rows)
        return result


def _checked(
    channel: Channel, item: FetchedItem, now: datetime
) -> tuple[dict[str, Any] | None, str]:
    """``item`` as a row, or None and why it is left out."""
    if item.kind is FetchedKind.POST:
        return None, "a post"
    if not item.external_id:
        return None, "no id"
    if item.author.external_id == channel.external_id:
        return None, "written by the account"
    try:
        return _row(channel, item, now), ""
    except values.InvalidValue as exc:
        log.warning(
            "channel %s: %s %r left out: %s (%s)",
            channel.id,
            item.kind,
            item.external_id[:200],
            exc.problem,
            exc.value,
        )
        return None, "invalid value"


def _row(channel: Channel, item: FetchedItem, now: datetime) -> dict[str, Any]:
    """The item as an inbox row, every value checked (``InvalidValue`` when one cannot be
    stored: a time before 2000 or in the future, an overlong text)."""
    author = item.author
    return {
        "workspace_id": channel.workspace_id,
        "channel_id": channel.id,
        "platform": channel.platform,
        "kind": ItemKind(str(item.kind)),
        "external_id": values.text(item.external_id, limit=200),
        "post_external_id": values.text(item.post_external_id, limit=200),
        "parent_external_id": values.text(item.parent_external_id, limit=200),
        "text": values.long_text(item.text, limit=MAX_TEXT),
        "url": values.web_url(item.url),
        "author_external_id": values.text(author.external_id, limit=200),
        "author_name": values.text(author.name, limit=200),
        "author_followers": _or_none(values.optional_count, author.followers),
        "author_verified_type": _or_none(values.code, author.verified_type),
        "author_url": values.web_url(author.url),
        "author_avatar_url": values.web_url(author.avatar_url),
        "created_at": values.moment(item.created_at),
        "fetched_at": now,
        "metrics": {
            values.text(name, limit=40): number
            for name, value in item.metrics.items()
            if (number := _or_none(values.count, value)) is not None
        },
        "raw": values.raw_record(item.raw),
        "assignee_id": None,  # or the assignment rules' choice (``Assign``)
    }


def _or_none(read: Callable[[object], int | None], value: object) -> int | None:
    """``read(value)``, or ``None`` for a figure that cannot be stored (the item is kept)."""
    try:
        return read(value)
    except values.InvalidValue:
        return None


class DropStored(OnRows):
    """Leave out the rows already in the inbox (one look-up by the unique key a kind)."""

    name = "drop stored"

    def run(self, page: Page) -> StepResult:
        """Keep in ``page.rows`` the rows not stored yet."""
        db = page.db
        plan_for_pages(db)  # the look-up and every statement after it go by key
        stored = _stored_keys(db, channel_id=page.rows[0]["channel_id"], rows=page.rows)
        if stored:
            page.rows = [
                row for row in page.rows if (str(row["kind"]), row["external_id"]) not in stored
            ]
        return StepResult(self.name, done=len(page.rows)).leave_out("in the inbox", len(stored))


def _stored_keys(
    db: Session, *, channel_id: int, rows: Sequence[dict[str, Any]]
) -> set[tuple[str, str]]:
    """The (kind, external id) of ``rows`` that the inbox holds for channel ``channel_id``."""
    table = cast(Table, InboxItem.__table__)
    by_kind: dict[str, list[str]] = {}
    for row in rows:
        by_kind.setdefault(str(row["kind"]), []).append(row["external_id"])
    found: set[tuple[str, str]] = set()
    for kind, external_ids in by_kind.items():
        for among_ids in each_among(db, table.c.external_id, external_ids):
            query = select(table.c.external_id).where(
                table.c.channel_id == channel_id, table.c.kind == kind, among_ids
            )
            found.update((kind, external_id) for external_id in db.scalars(query))
    return found


class Score(OnRows):
    """Sentiment and priority, so that the row goes in with them."""

    name = "score"

    def run(self, page: Page) -> StepResult:
        """Fill each row's sentiment and priority."""
        moderation.score_rows(page.db, workspace_id=page.workspace_id, rows=page.rows)
        return StepResult(self.name, done=len(page.rows))


class Assign(OnRows):
    """The assignee the assignment rules give each new row, so that it goes in with it."""

    name = "assign"

    def run(self, page: Page) -> StepResult:
        """Fill the rows' assignees (each new row takes its turn of a rotation)."""
        assigned = moderation.assign_rows(page.db, workspace_id=page.workspace_id, rows=page.rows)
        if assigned is None:  # a rule that assigns looks at the author's kind: moderation does
            return StepResult(self.name).leave_out("assigned by moderation", len(page.rows))
        return StepResult(self.name, done=assigned)


class Insert(OnRows):
    """Each new row written once: an insert-or-ignore by channel, kind and external id."""

    name = "insert"

    def run(self, page: Page) -> StepResult:
        """Insert ``page.rows``; ``page.stored`` are the items inserted, in id order.

        A sync running at the same time may have stored a row since ``DropStored`` looked;
        the insert turns that one away.
        """
        db = page.db
        table = cast(Table, InboxItem.__table__)
        rows = with_defaults(table, page.rows)
        ids = insert_new(db, table, rows, unique=UNIQUE_KEY)
        new = [
            as_stored(db, InboxItem, _as_read(table, row, ids[key]))
            for row in rows
            if (key := (row["channel_id"], row["kind"], row["external_id"])) in ids
        ]
        page.stored = sorted(new, key=lambda item: item.id)
        return StepResult(self.name, done=len(new)).leave_out(
            "stored meanwhile", len(rows) - len(new)
        )


def _as_read(table: Table, row: dict[str, Any], item_id: int) -> dict[str, Any]:
    """``row`` as its columns read back: every column, times in UTC."""
    read = {column.name: row.get(column.name) for column in table.c}
    read["id"] = item_id
    for name in ("created_at", "fetched_at"):
        read[name] = cast(datetime, read[name]).astimezone(UTC)
    return read


class MoveCursor:
    """A sync's cursor moves past the page, with the page's items."""

    name = "move cursor"

    def able_to_run(self, page: Page) -> bool:
        """The page was read by a sync."""
        return page.cursor is not None

    def run(self, page: Page) -> StepResult:
        """Move the cursor, count the new items in its total, clear its last error."""
        cursor = cast(SyncCursor, page.cursor)
        cursor.cursor, cursor.synced_at = page.next_cursor, page.now
        cursor.items_total = (cursor.items_total or 0) + len(page.stored)
        cursor.last_error, cursor.last_error_params, cursor.last_error_code = "", {}, ""
        return StepResult(self.name, done=len(page.stored))


class Moderate:
    """The workspace's moderation rules on the stored items, in a savepoint: when moderation
    fails, the items (and the cursor) are committed without it.

    Before any call to the platform (hide, auto-reply) moderation commits what it has, so
    no write transaction is held across those calls and a failure there loses nothing.
    """

    name = "moderate"

    def able_to_run(self, page: Page) -> bool:
        """Items were stored."""
        return bool(page.stored)

    def run(self, page: Page) -> StepResult:
        """Moderate ``page.stored``."""
        db, items = page.db, page.stored
        savepoint = db.begin_nested()
        try:
            moderation.moderate_new(
                db, workspace_id=page.workspace_id, items=items, before_platform=db.commit
            )
        except Exception:  # the items are stored; a moderation bug must not stop the ingest
            log.exception("moderation of %d new items failed", len(items))
            if savepoint.is_active:
                savepoint.rollback()
            else:  # moderation committed before a platform call; drop what came after
                db.rollback()
            return StepResult(self.name).leave_out("moderation failed", len(items))
        return StepResult(self.name, done=len(items))


class Commit:
    """The page's items, its cursor and what moderation did, in one transaction."""

    name = "commit"

    def able_to_run(self, page: Page) -> bool:  # noqa: ARG002 - every page ends with it
        """Always: a page with nothing new still moves its cursor."""
        return True

    def run(self, page: Page) -> StepResult:
        """Commit."""
        page.db.commit()
        return StepResult(self.name, done=len(page.stored))


# Storing a page: its items, each written once with sentiment, priority and assignee.
STORE_STEPS: tuple[IngestStep, ...] = (CheckRows(), DropStored(), Score(), Assign(), Insert())
# After the insert: the cursor, moderation, and the commit of it all.
AFTER_INSERT_STEPS: tuple[IngestStep, ...] = (MoveCursor(), Moderate(), Commit())
INGEST_STEPS: tuple[IngestStep, ...] = (*STORE_STEPS, *AFTER_INSERT_STEPS)
