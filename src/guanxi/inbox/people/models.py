"""The relationship book: a ``Person`` with one ``PersonIdentity`` per platform account,
the team's notes on people and their tags (the tags of items, ``guanxi.inbox.items.models.Tag``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanxi.core.db import Base, TimestampMixin, UTCDateTime, utcnow
from guanxi.core.errors import N_


class PersonKind(StrEnum):
    """Who a person is to the brand."""

    UNKNOWN = ""
    FAN = "fan"
    KOL = "kol"
    MEDIA = "media"
    CUSTOMER = "customer"
    COMPETITOR = "competitor"


PERSON_KIND_LABELS: dict[PersonKind, str] = {
    PersonKind.UNKNOWN: N_("Not set"),
    PersonKind.FAN: N_("Fan"),
    PersonKind.KOL: N_("KOL"),
    PersonKind.MEDIA: N_("Media"),
    PersonKind.CUSTOMER: N_("Customer"),
    PersonKind.COMPETITOR: N_("Competitor"),
}


class Person(TimestampMixin, Base):
    """Someone the brand talks with, on one or several platforms."""

    __tablename__ = "inbox_people"
    __table_args__ = (Index("ix_inbox_people_workspace_name", "workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PersonKind] = mapped_column(String(20), default=PersonKind.UNKNOWN)
    # The kind a person chose wins over the one guessed from verification and followers.
    kind_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    segment: Mapped[str] = mapped_column(String(80), default="", index=True)
    # The name the team gives someone (WeChat tells an Official Account no nickname).
    remark: Mapped[str] = mapped_column(String(80), default="")


class PersonIdentity(Base):
    """One platform account of a person; a merge moves identities to the kept person."""

    __tablename__ = "inbox_person_identities"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_people.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    followers: Mapped[int | None] = mapped_column(Integer, default=None)
    verified_type: Mapped[int | None] = mapped_column(Integer, default=None)
    url: Mapped[str] = mapped_column(String(1000), default="")
    # An id the platform links across its products (e.g. a WeChat unionid).
    linked_id: Mapped[str] = mapped_column(String(200), default="", index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonNote(Base):
    """A team note on a person."""

    __tablename__ = "inbox_person_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_people.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonTag(Base):
    """A tag on a person."""

    __tablename__ = "inbox_person_tags"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_people.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_tags.id", ondelete="CASCADE"), primary_key=True
    )
