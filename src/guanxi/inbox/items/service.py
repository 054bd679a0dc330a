"""The inbox list and the team's work on items: filters, search, statuses, assignment,
internal notes, tags, bulk actions and the unread count.

The list is one query over every platform and account of the workspace, newest first,
served by the ``(workspace_id, created_at)`` and ``(workspace_id, status, created_at)``
indexes; a search is served by ``guanxi.inbox.items.search`` and comes newest-id first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, func, literal, select, union_all, update
from sqlalchemy.orm import Session, selectinload

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import list_members, record_audit, require
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.upsert import get_or_create, insert_missing, upsert
from guanxi.inbox.items import search
from guanxi.inbox.items.models import InboxItem, InternalNote, ItemStatus, ItemTag, ReadMark, Tag

PAGE_SIZE = 50
# The list's default status filter: what still needs the team (done items via a filter).
ACTIVE = "active"
ACTIVE_STATUSES = (ItemStatus.OPEN, ItemStatus.PENDING)
BULK_LIMIT = 500
NOTE_MAX_LENGTH = 5000
TAG_MAX_LENGTH = 60


class InvalidInboxInputError(UserError):
    """Input to the inbox that cannot be used."""


@dataclass(frozen=True)
class ItemFilters:
    """What the list is narrowed to; empty means any."""

    platform: str = ""
    channel_id: int | None = None
    status: str = ""  # one ItemStatus, ACTIVE (open or pending), or "" for any
    assignee_id: int | None = None
    unassigned: bool = False
    sentiment: str = ""
    tag: str = ""
    priority: int | None = None
    query: str = ""


def items_statement(db: Session, *, workspace_id: int, filters: ItemFilters) -> Select[InboxItem]:
    """The list's query for ``filters`` (newest first), without a limit."""
    statement = select(InboxItem).where(InboxItem.workspace_id == workspace_id)
    if filters.platform:
        statement = statement.where(InboxItem.platform == filters.platform)
    if filters.channel_id is not None:
        statement = statement.where(InboxItem.channel_id == filters.channel_id)
    if filters.status == ACTIVE:
        statement = statement.where(InboxItem.status.in_(ACTIVE_STATUSES))
    elif filters.status:
        if filters.status not in set(ItemStatus):
            raise InvalidInboxInputError(N_("Unknown status: choose open, pending or done."))
        statement = statement.where(InboxItem.status == filters.status)
    if filters.unassigned:
        statement = statement.where(InboxItem.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        statement = statement.where(InboxItem.assignee_id == filters.assignee_id)
    if filters.sentiment:
        statement = statement.where(InboxItem.sentiment == filters.sentiment)
    if filters.priority is not None:
        statement = statement.where(InboxItem.priority == filters.priority)
    if filters.tag:
        tagged = (
            select(ItemTag.item_id)
            .join(Tag, Tag.id == ItemTag.tag_id)
            .where(Tag.workspace_id == workspace_id, Tag.name == filters.tag)
        )
        statement = statement.where(InboxItem.id.in_(tagged))
    statement = statement.order_by(InboxItem.created_at.desc(), InboxItem.id.desc())
    if filters.query.strip():
        statement = search.apply_search(db, statement, filters.query)
    return statement


class ItemRow(NamedTuple):
    """What a line of the list shows of an item (and its response targets read): columns,
    not the item, whose texts, JSON fields and instance state a list of 50 does not need."""

    id: int
    platform: str
    kind: str
    text: str
    author_external_id: str
    author_name: str
    author_followers: int | None
    created_at: datetime
    status: str
    assignee_id: int | None
    priority: int
    sentiment: str | None
    sentiment_scorer: str | None
    hidden_on_platform: bool
    first_response_at: datetime | None
    resolved_at: datetime | None


_ROW_COLUMNS = tuple(getattr(InboxItem, name) for name in ItemRow._fields)


def _rows(db: Session, statement: Select[Any]) -> list[ItemRow]:
    """The list's lines of ``statement`` (a select of ``InboxItem``), in its order."""
    return [ItemRow(*row) for row in db.execute(statement.with_only_columns(*_ROW_COLUMNS))]


def list_items(
    db: Session, *, workspace_id: int, filters: ItemFilters, limit: int = PAGE_SIZE, offset: int = 0
) -> list[ItemRow]:
    """One page of the workspace's items across platforms and accounts."""
    statement = items_statement(db, workspace_id=workspace_id, filters=filters)
    return _rows(db, statement.limit(limit).offset(offset))


# Up to this many items newer than the poll's last one are sorted by themselves.
FEW_NEW_ITEMS = 5000


def items_after(
    db: Session, *, workspace_id: int, filters: ItemFilters, after: int, limit: int = PAGE_SIZE
) -> list[ItemRow]:
    """The items matching ``filters`` that arrived after item ``after`` (the live poll).

    The poll asks every few seconds for the few items newer than the page's: those are
    found by id and sorted apart. Asked as the list is (newest first, then newer than
    ``after``), SQLite walks the workspace's whole date index to find none (12 ms for
    50,000 items); a count by id first tells which way is quick.
    """
    newer = InboxItem.id > after
    statement = items_statement(db, workspace_id=workspace_id, filters=filters)
    arrived = db.scalar(select(func.count()).where(newer)) or 0
    if arrived <= FEW_NEW_ITEMS:
        newer = InboxItem.id.in_(select(InboxItem.id).where(newer).scalar_subquery())
    return _rows(db, statement.where(newer).limit(limit))


def get_item(db: Session, *, workspace_id: int, item_id: int) -> InboxItem:
    """Item ``item_id`` of the workspace, or NotFoundError."""
    item = db.get(InboxItem, item_id)
    if item is None or item.workspace_id != workspace_id:
        raise NotFoundError(N_("This inbox item does not exist (any more)."))
    return item


@dataclass(frozen=True)
class ThreadWindow:
    """A window of a thread around one entry, oldest first, and whether more lie beyond."""

    entries: list[InboxItem]
    earlier: bool  # older entries exist before the first one shown
    later: bool  # newer entries exist after the last one shown


THREAD_SIDE = 25  # entries shown on each side of the one a thread is centred on


def _thread_statement(item: InboxItem) -> Select[InboxItem]:
    """The items of ``item``'s thread: the same post, or (messages) the same person."""
    statement = select(InboxItem).where(
        InboxItem.workspace_id == item.workspace_id, InboxItem.channel_id == item.channel_id
    )
    if item.post_external_id:
        return statement.where(InboxItem.post_external_id == item.post_external_id)
    return statement.where(InboxItem.author_external_id == item.author_external_id)


def thread_of(
    db: Session, *, item: InboxItem, around: InboxItem | None = None, side: int = THREAD_SIDE
) -> ThreadWindow:
    """The thread of ``item`` centred on ``around`` (the item itself by default): up to
    ``side`` entries before it and after it, each with our replies, oldest first.

    A busy post has thousands of comments: the selected one and the reply just sent must be
    on the page, so the window is read around the centre, not from the oldest comment.
    """
    centre = around or item
    # The centre's time as stored, so that the database compares like with like.
    at = select(InboxItem.created_at).where(InboxItem.id == centre.id).scalar_subquery()
    before = (InboxItem.created_at < at) | (
        (InboxItem.created_at == at) & (InboxItem.id < centre.id)
    )
    after = (InboxItem.created_at > at) | (
        (InboxItem.created_at == at) & (InboxItem.id > centre.id)
    )
    ids = _thread_statement(item).with_only_columns(InboxItem.id)
    older_ids = (
        ids.where(before)
        .order_by(InboxItem.created_at.desc(), InboxItem.id.desc())
        .limit(side + 1)
        .subquery()
    )
    newer_ids = (
        ids.where(after).order_by(InboxItem.created_at, InboxItem.id).limit(side + 1).subquery()
    )
    # Both sides and the centre in one statement, and all their replies in one more.
    window = union_all(select(older_ids.c.id), select(newer_ids.c.id), select(literal(centre.id)))
    found = db.scalars(
        select(InboxItem)
        .where(InboxItem.id.in_(window))
        .options(selectinload(InboxItem.replies))
        .order_by(InboxItem.created_at, InboxItem.id)
    ).all()
    position = next(index for index, entry in enumerate(found) if entry.id == centre.id)
    older, newer = found[:position], found[position + 1 :]
    entries = [*older[-side:], found[position], *newer[:side]]
    return ThreadWindow(entries=entries, earlier=len(older) > side, later=len(newer) > side)


def in_thread(db: Session, *, item: InboxItem, other_id: int) -> InboxItem | None:
    """Item ``other_id`` when it belongs to ``item``'s thread (a page of it is centred there)."""
    return db.scalar(_thread_statement(item).where(InboxItem.id == other_id))


# --- Status and assignment ---------------------------------------------------------------


def _audit(
    membership: Membership, db: Session, action: str, item_ids: Sequence[int], **after: object
) -> None:
    record_audit(
        db,
        actor=membership.user,
        action=f"inbox.{action}",
        entity_type="inbox_item",
        entity_id=",".join(str(i) for i in item_ids[:20])
        if len(item_ids) <= 20
        else f"{len(item_ids)} items",
        workspace=membership.workspace,
        after={"items": list(item_ids[:BULK_LIMIT]), **after},
    )


def _owned_ids(db: Session, *, workspace_id: int, item_ids: Sequence[int]) -> list[int]:
    if not item_ids:
        raise InvalidInboxInputError(N_("Select at least one item."))
    if len(item_ids) > BULK_LIMIT:
        raise InvalidInboxInputError(
            N_("Select at most {limit} items at a time."), limit=BULK_LIMIT
        )
    owned = list(
        db.scalars(
            select(InboxItem.id).where(
                InboxItem.workspace_id == workspace_id, InboxItem.id.in_(item_ids)
            )
        )
    )
    if not owned:
        raise NotFoundError(N_("This inbox item does not exist (any more)."))
    return owned


def set_status(db: Session, *, membership: Membership, item_ids: Sequence[int], status: str) -> int:
    """Set the status of items (done also stamps the resolution time); how many changed."""
    require(membership, Permission.WRITE)
    try:
        chosen = ItemStatus(status)
    except ValueError:
        raise InvalidInboxInputError(N_("Unknown status: choose open, pending or done.")) from None
    owned = _owned_ids(db, workspace_id=membership.workspace_id, item_ids=item_ids)
    values: dict[str, object] = {"status": chosen}
    values["resolved_at"] = utcnow() if chosen is ItemStatus.DONE else None
    db.execute(
        update(InboxItem)
        .where(InboxItem.id.in_(owned))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    _audit(membership, db, "status", owned, status=str(chosen))
    db.flush()
    return len(owned)


def assign(
    db: Session, *, membership: Membership, item_ids: Sequence[int], assignee_id: int | None
) -> int:
    """Assign items to a member who can reply (or to nobody); how many changed."""
    require(membership, Permission.WRITE)
    if assignee_id is not None:
        # The assignee's membership alone: the workspace's 200 members were read for it.
        found = list_members(db, workspace=membership.workspace, user_ids=[assignee_id])
        if not any(m.can(Permission.WRITE) for m in found):
            raise InvalidInboxInputError(
                N_("Assign to a member who can reply (an editor, manager or owner).")
            )
    owned = _owned_ids(db, workspace_id=membership.workspace_id, item_ids=item_ids)
    db.execute(
        update(InboxItem)
        .where(InboxItem.id.in_(owned))
        .values(assignee_id=assignee_id)
        .execution_options(synchronize_session="fetch")
    )
    _audit(membership, db, "assign", owned, assignee_id=assignee_id)
    db.flush()
    return len(owned)


# --- Tags and notes ----------------------------------------------------------------------


def ensure_tag(db: Session, *, workspace_id: int, name: str) -> Tag:
    """The workspace's tag ``name``, created when new."""
    clean = name.strip()[:TAG_MAX_LENGTH]
    if not clean:
        raise InvalidInboxInputError(N_("Enter a tag name."))
    tag = db.scalar(select(Tag).where(Tag.workspace_id == workspace_id, Tag.name == clean))
    if tag is None:  # created by this request, or by another one at the same moment
        tag, _ = get_or_create(db, Tag, key={"workspace_id": workspace_id, "name": clean})
    return tag


def list_tags(db: Session, *, workspace_id: int) -> list[Tag]:
    """The workspace's tags by name."""
    return list(db.scalars(select(Tag).where(Tag.workspace_id == workspace_id).order_by(Tag.name)))


def tag_items(
    db: Session, *, membership: Membership, item_ids: Sequence[int], name: str, remove: bool = False
) -> int:
    """Add (or remove) tag ``name`` on items; how many items were touched."""
    require(membership, Permission.WRITE)
    owned = _owned_ids(db, workspace_id=membership.workspace_id, item_ids=item_ids)
    tag = ensure_tag(db, workspace_id=membership.workspace_id, name=name)
    present = set(
        db.scalars(
            select(ItemTag.item_id).where(ItemTag.tag_id == tag.id, ItemTag.item_id.in_(owned))
        )
    )
    if remove:
        for item_id in present:
            db.delete(db.get_one(ItemTag, (item_id, tag.id)))
    else:  # another member may tag the same items at the same moment
        rows = [{"item_id": i, "tag_id": tag.id} for i in owned if i not in present]
        insert_missing(db, ItemTag, rows, unique=["item_id", "tag_id"])
    _audit(membership, db, "untag" if remove else "tag", owned, tag=tag.name)
    db.flush()
    return len(owned)


def tags_of(db: Session, *, item_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tag names of each item."""
    if not item_ids:
        return {}
    rows = db.execute(
        select(ItemTag.item_id, Tag.name)
        .join(Tag, Tag.id == ItemTag.tag_id)
        .where(ItemTag.item_id.in_(item_ids))
    )
    found: dict[int, list[str]] = {}
    for item_id, name in rows:
        found.setdefault(item_id, []).append(name)
    return found


def add_note(db: Session, *, membership: Membership, item_id: int, text: str) -> InternalNote:
    """An internal note on an item, for the team only."""
    require(membership, Permission.WRITE)
    get_item(db, workspace_id=membership.workspace_id, item_id=item_id)
    if not text.strip():
        raise InvalidInboxInputError(N_("Write the note first."))
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidInboxInputError(
            N_("Shorten the note to {limit} characters."), limit=NOTE_MAX_LENGTH
        )
    note = InternalNote(item_id=item_id, author_id=membership.user_id, text=text.strip())
    db.add(note)
    db.flush()
    return note


def notes_of(db: Session, *, item_id: int) -> list[InternalNote]:
    """The item's internal notes, oldest first."""
    return list(
        db.scalars(
            select(InternalNote).where(InternalNote.item_id == item_id).order_by(InternalNote.id)
        )
    )


# --- Unread ------------------------------------------------------------------------------


def unread_count(db: Session, *, user_id: int, workspace_id: int) -> int:
    """Items that arrived since the member last looked at the list."""
    mark = db.get(ReadMark, (user_id, workspace_id))
    seen = mark.seen_item_id if mark else 0
    statement = select(func.count()).where(
        InboxItem.workspace_id == workspace_id, InboxItem.id > seen
    )
    return int(db.scalar(statement) or 0)


def mark_seen(db: Session, *, user_id: int, workspace_id: int) -> int:
    """Everything in the list up to now counts as seen by the member; the newest item id.

    Writes only when something new arrived (most visits change nothing), and then in a
    transaction of its own: what was read so far is committed first, so that on SQLite the
    write waits its turn for the lock instead of failing on a stale snapshot.
    """
    newest = (
        db.scalar(select(func.max(InboxItem.id)).where(InboxItem.workspace_id == workspace_id)) or 0
    )
    mark = db.get(ReadMark, (user_id, workspace_id))
    if mark is not None and mark.seen_item_id >= newest:
        return int(newest)
    db.commit()
    # One statement: the page and its live poll (or two tabs) mark the list at once.
    upsert(
        db,
        ReadMark,
        {"user_id": user_id, "workspace_id": workspace_id, "seen_item_id": newest},
        unique=["user_id", "workspace_id"],
        update=["seen_item_id"],
        only_if=lambda new: ReadMark.seen_item_id < new.seen_item_id,
    )
    if mark is not None:
        db.expire(mark)  # the statement above changed its row
    return int(newest)
