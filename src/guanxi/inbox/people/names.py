"""What a person is called on the pages: the team's remark, else the platform's nickname,
else "WeChat fan ·3f9a" (WeChat tells an Official Account a follower's OpenID but, since
2021, no nickname; a raw OpenID means nothing to a community manager).

Also the people list's rows: each person with their platforms, reach and last contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import record_audit, require
from guanxi.catalog.service import platform_name
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.core.in_lists import scalars_among
from guanxi.inbox.people.models import Person, PersonIdentity

REMARK_MAX_LENGTH = 80
TAIL = 4  # characters of an account id that tell two nameless fans apart


class InvalidRemarkError(UserError):
    """A remark that cannot be saved."""


def nameless(platform: str, external_id: str) -> str:
    """The name of someone the platform gave no nickname: platform and the id's end."""
    # The short name: "WeChat", not the catalog's "WeChat (Weixin)".
    short = platform_name(platform).split(" (")[0]
    return i18n.gettext(N_("{platform} fan ·{tail}")).format(
        platform=short, tail=external_id[-TAIL:]
    )


def readable_name(*, name: str, platform: str, external_id: str, remark: str = "") -> str:
    """The remark, else the nickname (when it is one, not the raw account id), else
    ``nameless``."""
    if remark.strip():
        return remark.strip()
    if name.strip() and name.strip() != external_id:
        return name.strip()
    return nameless(platform, external_id)


class Authored(Protocol):
    """What names an item's author (an ``InboxItem``, or a line of the list)."""

    @property
    def platform(self) -> str: ...
    @property
    def author_external_id(self) -> str: ...
    @property
    def author_name(self) -> str: ...


class AuthorNames:
    """Items' authors as the pages name them, worked out while the page is drawn (in its
    language): ``author_names(item)``."""

    def __init__(self, remarks: dict[tuple[str, str], str]) -> None:
        self._remarks = remarks

    def __call__(self, item: Authored) -> str:
        """The remark, nickname or "WeChat fan ·3f9a" of ``item``'s author."""
        return readable_name(
            name=item.author_name,
            platform=item.platform,
            external_id=item.author_external_id,
            remark=self._remarks.get((item.platform, item.author_external_id), ""),
        )


def remarks_of(
    db: Session, *, workspace_id: int, authors: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The team's remark on each of these (platform, account id) authors that has one."""
    wanted = sorted(set(authors))
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        rows = db.execute(
            select(PersonIdentity.platform, PersonIdentity.external_id, Person.remark)
            .join(Person, Person.id == PersonIdentity.person_id)
            .where(
                PersonIdentity.workspace_id == workspace_id,
                PersonIdentity.external_id.in_([external_id for _, external_id in chunk]),
                Person.remark != "",
            )
        )
        for platform, external_id, remark in rows:
            if (platform, external_id) in chunk:
                found[(platform, external_id)] = remark
    return found


def person_name(person: Person, identities: Sequence[PersonIdentity]) -> str:
    """A person's readable name from their first identity (the remark first)."""
    if person.remark.strip():
        return person.remark.strip()
    if identities:
        first = identities[0]
        return readable_name(
            name=person.name if person.name != first.external_id else first.name,
            platform=first.platform,
            external_id=first.external_id,
        )
    return person.name


@dataclass(frozen=True)
class PersonRow:
    """One line of the people list."""

    person: Person
    identities: list[PersonIdentity]
    platforms: list[str]
    followers: int | None
    last_contact: datetime | None

    @property
    def name(self) -> str:
        """The readable name, in the language of the page being drawn."""
        return person_name(self.person, self.identities)


def people_rows(db: Session, people: Sequence[Person]) -> list[PersonRow]:
    """The people list's lines: readable name, platforms, most followers, last contact."""
    identities: dict[int, list[PersonIdentity]] = {}
    ids = [person.id for person in people]
    query = select(PersonIdentity).order_by(PersonIdentity.id)
    for identity in scalars_among(db, query, PersonIdentity.person_id, ids):
        identities.setdefault(identity.person_id, []).append(identity)
    rows = []
    for person in people:
        own = identities.get(person.id, [])
        followers = [i.followers for i in own if i.followers is not None]
        rows.append(
            PersonRow(
                person=person,
                identities=own,
                platforms=sorted({i.platform for i in own}),
                followers=max(followers) if followers else None,
                last_contact=max((i.last_seen_at for i in own), default=None),
            )
        )
    return rows


def set_remark(db: Session, *, membership: Membership, person: Person, remark: str) -> None:
    """Give ``person`` the name the team knows them by (empty: back to the platform's)."""
    require(membership, Permission.WRITE)
    clean = " ".join(remark.split())
    if len(clean) > REMARK_MAX_LENGTH:
        raise InvalidRemarkError(
            N_("Shorten the remark to {limit} characters."), limit=REMARK_MAX_LENGTH
        )
    before = person.remark
    person.remark = clean
    record_audit(
        db,
        actor=membership.user,
        action="inbox.person.remark",
        entity_type="person",
        entity_id=person.id,
        workspace=membership.workspace,
        before={"remark": before},
        after={"remark": clean},
    )
    db.flush()
