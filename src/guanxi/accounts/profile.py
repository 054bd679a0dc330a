"""A person's own settings: the name others see, the UI language and the time zone every
time is shown in (None: the workspace's zone)."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from guanxi.accounts.models import User
from guanxi.accounts.service import record_audit
from guanxi.core import fields
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import SUPPORTED_LANGUAGES

NAME_MAX_LENGTH = 120


@cache
def zone_choices() -> tuple[str, ...]:
    """Every time zone a person can choose, sorted (the searchable list's options).

    Read once per process: listing and opening every zone of the tz database took half of
    the calendar page's CPU."""
    return tuple(sorted(zone for zone in available_timezones() if fields.zone_or_none(zone)))


def parse_zone(value: str) -> str | None:
    """The zone ``value`` names; None for an empty value (the workspace's zone)."""
    value = value.strip()
    if not value:
        return None
    if fields.zone_or_none(value) is None:
        raise UserError(
            N_(
                "“{zone}” is not a time zone. Pick one from the list, such as Asia/Shanghai "
                "or Europe/Paris, or leave it empty to use the workspace's zone."
            ),
            zone=value,
        )
    return value


def update_profile(db: Session, *, user: User, name: str, language: str, timezone: str) -> bool:
    """Set the person's name, language and time zone; True if anything changed.

    Raises a ``UserError`` naming the value to fix; nothing changes then.
    """
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX_LENGTH:
        raise UserError(N_("Enter a name of 1 to 120 characters."))
    if language not in SUPPORTED_LANGUAGES:
        raise UserError(
            N_("Unknown language {language}. Choose one of: {choices}."),
            language=language,
            choices=", ".join(SUPPORTED_LANGUAGES),
        )
    zone = parse_zone(timezone)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in (("name", name), ("language", language), ("timezone", zone)):
        if getattr(user, key) != value:
            before[key], after[key] = getattr(user, key), value
            setattr(user, key, value)
    if not after:
        return False
    record_audit(
        db,
        actor=user,
        action="user.profile",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=after,
    )
    return True


def set_zone(db: Session, *, user: User, zone: str) -> None:
    """Make ``zone`` (already checked) the person's time zone, as the calendar's picker does."""
    if user.timezone == zone:
        return
    record_audit(
        db,
        actor=user,
        action="user.profile",
        entity_type="user",
        entity_id=user.id,
        before={"timezone": user.timezone},
        after={"timezone": zone},
    )
    user.timezone = zone
