"""Values typed into a form or a filter, read once: whole numbers, numbers, days.

Views that read a field by hand (``form_value``, ``await request.form()``, a query string)
turn its text into a value through these functions, so a value that is not one (``³``,
``1e400``, ``nan``, a year 9999 that overflows the first date sum) is a ``FieldError``
that names the field and says what to write, never a crash and never a stored value that
breaks a page later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from guanxi.core.bounds import DB_INT_MAX
from guanxi.core.errors import N_, UserError
from guanxi.core.values import clean_text

# The days any page works with: charts, campaigns, the calendar, filters. A day outside
# is a typing mistake, and date sums near year 1 or 9999 overflow.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
_WHOLE_RE = re.compile(r"[+-]?[0-9]{1,30}")  # ASCII only: "³" is a digit to str.isdigit()
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})")
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ZONE_MAX_LENGTH = 64  # the longest IANA name is 32 characters


class FieldError(UserError):
    """A field whose value cannot be used; ``field`` is its label (an English msgid)."""

    def __init__(self, message: str, *, field: str, value: str = "", **params: object) -> None:
        super().__init__(message, field=field, value=_shown(value), **params)
        self.field = field

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message and the field's label in the language of ``gettext``."""
        params = {**self.params, "field": gettext(self.field)}
        return gettext(self.message).format(**params)


def _shown(value: str) -> str:
    text = clean_text(value).strip()
    return text[:40] + "…" if len(text) > 40 else text


def whole_number(
    value: str | None, *, field: str, minimum: int, maximum: int, default: int | None = None
) -> int:
    """A whole number from ``minimum`` to ``maximum``; ``default`` when empty (if given)."""
    text = (value or "").strip()
    if not text and default is not None:
        return default
    if not _WHOLE_RE.fullmatch(text):
        raise FieldError(
            N_("{field}: “{value}” is not a whole number. Write one such as 12."),
            field=field,
            value=text,
        )
    number = int(text)
    if not minimum <= number <= maximum:
        raise FieldError(
            N_("{field}: {value} is out of range. Write a number from {minimum} to {maximum}."),
            field=field,
            value=text,
            minimum=minimum,
            maximum=maximum,
        )
    return number


def decimal_number(
    value: str | None,
    *,
    field: str,
    minimum: float,
    maximum: float,
    default: float | None = None,
) -> float:
    """A number such as ``2.5`` from ``minimum`` to ``maximum``; ``default`` when empty."""
    text = (value or "").strip()
    if not text and default is not None:
        return default
    number = float(text) if _NUMBER_RE.fullmatch(text) else math.nan
    if math.isnan(number):
        raise FieldError(
            N_("{field}: “{value}” is not a number. Write one such as 2.5."),
            field=field,
            value=text,
        )
    if not minimum <= number <= maximum:
        raise FieldError(
            N_("{field}: {value} is out of range. Write a number from {minimum} to {maximum}."),
            field=field,
            value=text,
            minimum=f"{minimum:g}",
            maximum=f"{maximum:g}",
        )
    return number


def optional_id(value: str | None, *, field: str) -> int | None:
    """The id a select or hidden field names; ``None`` when empty."""
    if not (value or "").strip():
        return None
    return whole_number(value, field=field, minimum=1, maximum=DB_INT_MAX)


def day(value: str | None, *, field: str) -> date:
    """A day written ``YYYY-MM-DD`` between ``FIRST_DAY`` and ``LAST_DAY``."""
    text = (value or "").strip()
    try:
        found = date.fromisoformat(text) if _DAY_RE.fullmatch(text) else None
    except ValueError:  # 2024-02-30
        found = None
    if found is None:
        raise FieldError(
            N_("{field}: “{value}” is not a date. Write it as YYYY-MM-DD, such as 2026-11-11."),
            field=field,
            value=text or '""',
        )
    return usable_day(found, field=field)


def usable_day(found: date, *, field: str) -> date:
    """``found`` when it lies between ``FIRST_DAY`` and ``LAST_DAY``: for a parser that
    reads the day itself and must still refuse year 1 or 9999."""
    if not FIRST_DAY <= found <= LAST_DAY:
        raise FieldError(
            N_("{field}: {value} is too far away. Choose a day from 2000 to 2099."),
            field=field,
            value=found.isoformat(),
        )
    return found


def day_or_none(value: str | None) -> date | None:
    """The day ``value`` writes (as ``day``), or ``None`` when it writes none: for filters,
    which ignore what they cannot read."""
    try:
        return day(value, field="")
    except FieldError:
        return None


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` names, or ``None``: an unknown name, a path, a folder of
    the zone database ("Asia") or a name too long for a file name are all no zone."""
    if not name or len(name) > ZONE_MAX_LENGTH:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a directory: OSError
        return None
