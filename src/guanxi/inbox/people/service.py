"""The relationship book: people across platforms, merged by hand or by suggestion.

Every inbox author gets a ``PersonIdentity`` (platform + account id) on ingest, and one
``Person`` per new identity. A merge moves the identities, notes and tags of one person to
another and deletes the emptied one (audited). Suggestions pair people with the same name
on different platforms, or the same linked id (e.g. a WeChat unionid).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import record_audit, require
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.in_lists import among, is_postgresql, scalars_among
from guanxi.core.upsert import insert_missing
from guanxi.inbox.bulk import (
    insert_from_json,
    insert_rows_missing,
    insert_with_ids,
    next_ids,
    update_by_id,
)
from guanxi.inbox.items.models import InboxItem, Tag
from guanxi.inbox.items.service import ensure_tag
from guanxi.inbox.people.influence import Influence, guess_kind, influence
from guanxi.inbox.people.models import Person, PersonIdentity, PersonKind, PersonNote, PersonTag
from guanxi.inbox.replies.models import Reply

NOTE_MAX_LENGTH = 5000
IDENTITY_KEY = ("workspace_id", "platform", "external_id")


def link_authors(
    db: Session, *, workspace_id: int, items: Sequence[InboxItem]
) -> dict[tuple[str, str], PersonKind]:
    """The kind of the person behind each item's author (platform, account id), adding a
    person and an identity for each new author. Batched: ingest calls it per page."""
    keys = {(item.platform, item.author_external_id) for item in items if item.author_external_id}
    if not keys:
        return {}
    external_ids = sorted({external_id for _, external_id in keys})
    platforms = sorted({platform for platform, _ in keys})
    identities = cast(Table, PersonIdentity.__table__)
    latest = {(item.platform, item.author_external_id): item for item in items}
    # Plain rows, not ORM objects: ingest links thousands of authors a second.
    found: dict[tuple[str, str], int] = {}
    result: dict[tuple[str, str], PersonKind] = {}
    now = utcnow()
    seen = []
    for start in range(0, len(external_ids), 500):
        rows = db.execute(
            select(
                identities.c.id,
                identities.c.platform,
                identities.c.external_id,
                identities.c.name,
                identities.c.followers,
                identities.c.verified_type,
                Person.kind,
            )
            .join(Person, Person.id == identities.c.person_id)
            .where(
                identities.c.workspace_id == workspace_id,
                # The platform too, so the unique index (workspace, platform, id) finds them.
                identities.c.platform.in_(platforms),
                among(db, identities.c.external_id, external_ids[start : start + 500]),
            )
        )
        for row in rows:
            key = (row.platform, row.external_id)
            if key not in keys:  # the same id on another platform is someone else
                continue
            found[key], result[key] = row.id, PersonKind(row.kind)
            item = latest[key]
            # What the platform says now, and when the person was last seen: one UPDATE
            # of each known identity (what did not change keeps its value).
            seen.append(
                {
                    "id": row.id,
                    "name": item.author_name or row.name,
                    "followers": row.followers
                    if item.author_followers is None
                    else item.author_followers,
                    "verified_type": row.verified_type
                    if item.author_verified_type is None
                    else item.author_verified_type,
                    "last_seen_at": now,
                }
            )
    update_by_id(db, identities, sorted(seen, key=lambda row: row["id"]))
    new_keys = sorted(keys - found.keys())
    if new_keys:
        for key in new_keys:
            item = latest[key]
            result[key] = guess_kind(
                followers=item.author_followers, verified_type=item.author_verified_type
            )
        _add_people(
            db,
            workspace_id=workspace_id,
            authors=[latest[key] for key in new_keys],
            kinds=[result[key] for key in new_keys],
            now=now,
        )
    return result


def _add_people(
    db: Session,
    *,
    workspace_id: int,
    authors: Sequence[InboxItem],
    kinds: Sequence[PersonKind],
    now: datetime,
) -> None:
    """A person and an identity for the author of each of ``authors`` (Core inserts: ingest
    adds thousands of people a second, ORM objects cost too much)."""
    people = cast(Table, Person.__table__)
    identities = cast(Table, PersonIdentity.__table__)
    people_rows = [
        {
            "workspace_id": workspace_id,
            "name": item.author_name or item.author_external_id,
            "kind": kind,
            "kind_by_hand": False,
            "segment": "",
            "created_at": now,
            "updated_at": now,
        }
        for item, kind in zip(authors, kinds, strict=True)
    ]
    postgres = is_postgresql(db)
    if postgres:  # the ids first: then both inserts are one statement
        person_ids = next_ids(db, people, len(people_rows))
        people_rows = [row | {"id": id_} for row, id_ in zip(people_rows, person_ids, strict=True)]
    else:
        person_ids = insert_with_ids(db, people, people_rows)
    identity_rows = [
        {
            "workspace_id": workspace_id,
            "person_id": person_id,
            "platform": item.platform,
            "external_id": item.author_external_id,
            "name": item.author_name,
            "followers": item.author_followers,
            "verified_type": item.author_verified_type,
            "url": item.author_url,
            "linked_id": "",
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for item, person_id in zip(authors, person_ids, strict=True)
    ]
    # Another ingest may link the same authors at the same moment: its identities stay,
    # and the people added here for them go again.
    add_people = insert_from_json(people, people_rows).cte("added_people") if postgres else None
    linked = insert_rows_missing(db, identities, identity_rows, unique=IDENTITY_KEY, cte=add_people)
    if linked < len(identity_rows):
        has_identity = select(identities.c.id).where(identities.c.person_id == Person.id).exists()
        db.execute(delete(Person).where(Person.id.in_(person_ids), ~has_identity))


def _people_by_id(db: Session, ids: set[int]) -> list[Person]:
    return scalars_among(db, select(Person), Person.id, sorted(ids))


def get_person(db: Session, *, workspace_id: int, person_id: int) -> Person:
    """Person ``person_id`` of the workspace, or NotFoundError."""
    person = db.get(Person, person_id)
    if person is None or person.workspace_id != workspace_id:
        raise NotFoundError(N_("This person is not in the relationship book (any more)."))
    return person


def identities_of(db: Session, *, person_id: int) -> list[PersonIdentity]:
    """The person's platform accounts."""
    return list(
        db.scalars(
            select(PersonIdentity)
            .where(PersonIdentity.person_id == person_id)
            .order_by(PersonIdentity.platform, PersonIdentity.id)
        )
    )


@dataclass(frozen=True)
class Profile:
    """What the profile page shows about a person."""

    person: Person
    identities: list[PersonIdentity]
    followers: int
    verified_type: int | None
    interactions: int
    influence: Influence


def _author_filter(identities: Sequence[PersonIdentity]) -> list[object]:
    return [
        (InboxItem.platform == identity.platform)
        & (InboxItem.author_external_id == identity.external_id)
        for identity in identities
    ]


def profile(db: Session, *, workspace_id: int, person_id: int) -> Profile:
    """The person's profile: accounts, reach, verification and influence with reasons."""
    person = get_person(db, workspace_id=workspace_id, person_id=person_id)
    identities = identities_of(db, person_id=person.id)
    followers = max((identity.followers or 0 for identity in identities), default=0)
    verified = [
        i.verified_type for i in identities if i.verified_type is not None and i.verified_type >= 0
    ]
    verified_type = verified[0] if verified else None
    interactions = 0
    if identities:
        interactions = int(
            db.scalar(
                select(func.count(InboxItem.id)).where(
                    InboxItem.workspace_id == workspace_id,
                    or_(*_author_filter(identities)),  # type: ignore[arg-type]
                )
            )
            or 0
        )
    return Profile(
        person=person,
        identities=identities,
        followers=followers,
        verified_type=verified_type,
        interactions=interactions,
        influence=influence(
            followers=followers, verified_type=verified_type, interactions=interactions
        ),
    )


@dataclass(frozen=True)
class Interaction:
    """One entry of a person's history: what they wrote, or what we answered."""

    item: InboxItem
    reply: Reply | None = None


def history(
    db: Session, *, workspace_id: int, person_id: int, limit: int = 200
) -> list[Interaction]:
    """Their comments, messages and mentions, each followed by our replies, newest first."""
    identities = identities_of(db, person_id=person_id)
    if not identities:
        return []
    items = db.scalars(
        select(InboxItem)
        .where(InboxItem.workspace_id == workspace_id, or_(*_author_filter(identities)))  # type: ignore[arg-type]
        .order_by(InboxItem.created_at.desc())
        .limit(limit)
    )
    entries: list[Interaction] = []
    for item in items:
        entries.append(Interaction(item=item))
        entries.extend(Interaction(item=item, reply=reply) for reply in item.replies)
    return entries


def list_people(
    db: Session,
    *,
    workspace_id: int,
    kind: str = "",
    segment: str = "",
    query: str = "",
    limit: int = 200,
) -> list[Person]:
    """The workspace's people by name, filtered by kind, segment and a name substring."""
    statement = select(Person).where(Person.workspace_id == workspace_id)
    if kind:
        statement = statement.where(Person.kind == kind)
    if segment:
        statement = statement.where(Person.segment == segment)
    if query.strip():
        text = query.strip()
        statement = statement.where(Person.name.contains(text) | Person.remark.contains(text))
    return list(db.scalars(statement.order_by(Person.name, Person.id).limit(limit)))


class InvalidPersonError(UserError):
    """A change to a person that cannot be made."""


def update_person(
    db: Session, *, membership: Membership, person_id: int, kind: str, segment: str
) -> Person:
    """Set a person's kind (by hand, so ingest no longer guesses it) and segment."""
    require(membership, Permission.WRITE)
    person = get_person(db, workspace_id=membership.workspace_id, person_id=person_id)
    try:
        chosen = PersonKind(kind)
    except ValueError:
        raise InvalidPersonError(N_("Choose a kind from the list.")) from None
    before = {"kind": str(person.kind), "segment": person.segment}
    person.kind = chosen
    person.kind_by_hand = True
    person.segment = segment.strip()[:80]
    record_audit(
        db,
        actor=membership.user,
        action="inbox.person.update",
        entity_type="person",
        entity_id=person.id,
        workspace=membership.workspace,
        before=before,
        after={"kind": str(person.kind), "segment": person.segment},
    )
    db.flush()
    return person


def add_person_note(
    db: Session, *, membership: Membership, person_id: int, text: str
) -> PersonNote:
    """A team note on a person."""
    require(membership, Permission.WRITE)
    get_person(db, workspace_id=membership.workspace_id, person_id=person_id)
    if not text.strip():
        raise InvalidPersonError(N_("Write the note first."))
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidPersonError(
            N_("Shorten the note to {limit} characters."), limit=NOTE_MAX_LENGTH
        )
    note = PersonNote(person_id=person_id, author_id=membership.user_id, text=text.strip())
    db.add(note)
    db.flush()
    return note


def tag_person(
    db: Session, *, membership: Membership, person_id: int, name: str, remove: bool = False
) -> None:
    """Add (or remove) tag ``name`` on a person (the same tags as items)."""
    require(membership, Permission.WRITE)
    person = get_person(db, workspace_id=membership.workspace_id, person_id=person_id)
    tag = ensure_tag(db, workspace_id=membership.workspace_id, name=name)
    if remove:
        existing = db.get(PersonTag, (person.id, tag.id))
        if existing is not None:
            db.delete(existing)
    else:  # another member may tag the same person at the same moment
        insert_missing(
            db,
            PersonTag,
            {"person_id": person.id, "tag_id": tag.id},
            unique=["person_id", "tag_id"],
        )
    db.flush()


def person_tags(db: Session, *, person_id: int) -> list[str]:
    """The names of the person's tags."""
    rows = db.scalars(
        select(Tag.name)
        .join(PersonTag, PersonTag.tag_id == Tag.id)
        .where(PersonTag.person_id == person_id)
        .order_by(Tag.name)
    )
    return list(rows)


def person_notes(db: Session, *, person_id: int) -> list[PersonNote]:
    """The notes on a person, newest first."""
    return list(
        db.scalars(
            select(PersonNote)
            .where(PersonNote.person_id == person_id)
            .order_by(PersonNote.id.desc())
        )
    )


def merge_people(db: Session, *, membership: Membership, keep_id: int, merge_id: int) -> Person:
    """Move everything of person ``merge_id`` to ``keep_id`` and delete the former."""
    require(membership, Permission.WRITE)
    if keep_id == merge_id:
        raise InvalidPersonError(N_("Choose two different people to merge."))
    keep = get_person(db, workspace_id=membership.workspace_id, person_id=keep_id)
    merged = get_person(db, workspace_id=membership.workspace_id, person_id=merge_id)
    moved = [f"{i.platform}:{i.external_id}" for i in identities_of(db, person_id=merged.id)]
    db.execute(
        update(PersonIdentity)
        .where(PersonIdentity.person_id == merged.id)
        .values(person_id=keep.id)
    )
    db.execute(
        update(PersonNote).where(PersonNote.person_id == merged.id).values(person_id=keep.id)
    )
    moved_tags = list(db.scalars(select(PersonTag).where(PersonTag.person_id == merged.id)))
    # The kept person may get the same tag from another member meanwhile: insert-or-ignore.
    insert_missing(
        db,
        PersonTag,
        [{"person_id": keep.id, "tag_id": t.tag_id} for t in moved_tags],
        unique=["person_id", "tag_id"],
    )
    for tag in moved_tags:
        db.delete(tag)
    if keep.kind == PersonKind.UNKNOWN:
        keep.kind = merged.kind
    record_audit(
        db,
        actor=membership.user,
        action="inbox.person.merge",
        entity_type="person",
        entity_id=keep.id,
        workspace=membership.workspace,
        before={"merged_person": merged.id, "merged_name": merged.name},
        after={"identities": moved},
    )
    db.flush()
    db.delete(merged)
    db.flush()
    return keep


@dataclass(frozen=True)
class MergeSuggestion:
    """Two people who are probably one, and why (a message id)."""

    first: Person
    second: Person
    reason: str


def merge_suggestions(db: Session, *, workspace_id: int, limit: int = 50) -> list[MergeSuggestion]:
    """Pairs with the same name on different platforms, or the same linked id."""
    rows = db.execute(
        select(
            PersonIdentity.person_id,
            PersonIdentity.platform,
            PersonIdentity.name,
            PersonIdentity.linked_id,
        ).where(PersonIdentity.workspace_id == workspace_id)
    ).all()
    by_name: dict[str, set[tuple[int, str]]] = {}
    by_link: dict[str, set[int]] = {}
    for person_id, platform, name, linked_id in rows:
        if name.strip():
            by_name.setdefault(name.strip().lower(), set()).add((person_id, platform))
        if linked_id:
            by_link.setdefault(linked_id, set()).add(person_id)
    pairs: dict[tuple[int, int], str] = {}
    for people in by_link.values():
        ordered = sorted(people)
        for other in ordered[1:]:
            pairs.setdefault((ordered[0], other), N_("Same linked account id"))
    for entries in by_name.values():
        platforms = {platform for _, platform in entries}
        persons = sorted({person_id for person_id, _ in entries})
        if len(persons) > 1 and len(platforms) > 1:
            for other in persons[1:]:
                pairs.setdefault((persons[0], other), N_("Same name on another platform"))
    chosen = list(pairs.items())[:limit]
    by_id = {p.id: p for p in _people_by_id(db, {i for pair, _ in chosen for i in pair})}
    return [MergeSuggestion(by_id[a], by_id[b], reason) for (a, b), reason in chosen]


def export_kols(db: Session, *, workspace_id: int, minimum_score: int = 0) -> str:
    """The KOL and media list as CSV for a campaign, highest influence first."""
    rows = []
    for person in db.scalars(
        select(Person).where(
            Person.workspace_id == workspace_id, Person.kind.in_([PersonKind.KOL, PersonKind.MEDIA])
        )
    ):
        shown = profile(db, workspace_id=workspace_id, person_id=person.id)
        if shown.influence.score < minimum_score:
            continue
        accounts = "; ".join(f"{i.platform}:{i.name or i.external_id}" for i in shown.identities)
        urls = "; ".join(i.url for i in shown.identities if i.url)
        reasons = "; ".join(r.message.format(**r.params) for r in shown.influence.reasons)
        rows.append(
            (
                shown.influence.score,
                person.name,
                str(person.kind),
                shown.followers,
                accounts,
                urls,
                shown.interactions,
                reasons,
                person.segment,
            )
        )
    rows.sort(key=lambda row: (-row[0], row[1]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "influence",
            "name",
            "kind",
            "followers",
            "accounts",
            "urls",
            "interactions",
            "reasons",
            "segment",
        ]
    )
    for row in rows:
        writer.writerow([_safe_cell(value) for value in row])
    return buffer.getvalue()


def _safe_cell(value: object) -> object:
    # A cell starting with = + - @ is a formula in spreadsheets: names come from strangers.
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value
