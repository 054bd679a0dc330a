"""Values from outside, checked once before they are stored: times, counts, text, links.

Every importer, connector ingest and push handler turns a raw value into a stored value
through these functions, so the database never holds a value a page or an export cannot
show: a time that overflows when converted to a workspace's zone, a count that does not fit
its INTEGER column, a NUL byte that PostgreSQL and Excel refuse, a ``javascript:`` link.

A value that cannot be stored raises ``InvalidValue`` (a ``ValueError``) with a problem and a
fix (English msgids, translated where shown); callers turn it into a row error, a skipped
item or a 400. Nothing here raises anything else, whatever the input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from guanxi.core.errors import N_

# Nothing any platform guanxi reads from is older than this; a time before it is a broken
# value (a zero timestamp, a year 1), not an old post.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# A post may be stamped a little ahead of our clock (clock skew, a zone misread by a few
# hours); beyond this it is a post "from the future": a broken value.
MAX_FUTURE = timedelta(days=1)
# The largest count stored: PostgreSQL's INTEGER, the narrowest column counts go to.
MAX_COUNT = 2**31 - 1
# Unix times above this are milliseconds (10**11 seconds is the year 5138).
MILLISECONDS_FROM = 10**11
MAX_URL = 1000  # characters; the narrowest link column is 400, a longer link is cut off there
SCHEMES = frozenset({"http", "https"})
MAX_RAW_DEPTH = 20  # nesting kept in a raw record; deeper parts are stored as text
MAX_RAW_TEXT = 20_000

# C0 controls except tab and newline (carriage returns become newlines first), DEL, C1
# controls, lone surrogates (not encodable as UTF-8) and U+FFFE/U+FFFF (not XML): what
# PostgreSQL, SQLite's UTF-8 or an XLSX sheet refuses, and what no post means to hold.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NEWLINES = re.compile("\r\n?")
_SPACE = re.compile(r"\s")  # str.isspace's characters, found in C (a link is read per row)
_LAST = datetime.max.replace(tzinfo=UTC)


class InvalidValue(ValueError):  # noqa: N818 - reads as what it is: a value refused
    """A value that cannot be stored; ``problem`` and ``fix`` are English msgids."""

    def __init__(self, problem: str, fix: str, value: object = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.value = _shown(value)


def _shown(value: object) -> str:
    """``value`` as the row report shows it: short, and cleaned like any stored text."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # a repr that fails must not hide the real problem
        text = type(value).__name__
    return clean_text(text[:200])


# --- Times ------------------------------------------------------------------------------


def moment(value: datetime, *, now: datetime | None = None) -> datetime:
    """``value`` (aware) in UTC, when it lies between ``EARLIEST`` and now + ``MAX_FUTURE``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(
            N_("The time has no time zone."),
            N_("Write the time with its zone, e.g. 2024-05-01T12:30:00+08:00."),
            value.isoformat(),
        )
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        in_utc = EARLIEST - MAX_FUTURE if value.year < EARLIEST.year else _LAST
    if in_utc < EARLIEST:
        raise InvalidValue(
            N_("The time is before the year 2000: it is not a real publication time."),
            N_("Check the time column; write the time the post was published."),
            value.isoformat(),
        )
    latest = (now or datetime.now(UTC)) + MAX_FUTURE
    if in_utc > latest:
        raise InvalidValue(
            N_("The time is in the future: a post cannot be published after today."),
            N_("Check the time column and its time zone; write when the post was published."),
            value.isoformat(),
        )
    return in_utc


def day(value: date, *, now: datetime | None = None) -> date:
    """A calendar day (a chart's date) in the same window as ``moment``'s times."""
    latest = ((now or datetime.now(UTC)) + MAX_FUTURE).date()
    if value < EARLIEST.date():
        raise InvalidValue(
            N_("The date is before the year 2000."),
            N_("Check the date column; write the day as YYYY-MM-DD."),
            value.isoformat(),
        )
    if value > latest:
        raise InvalidValue(
            N_("The date is in the future."),
            N_("Check the date column; write the day as YYYY-MM-DD."),
            value.isoformat(),
        )
    return value


def parse_unix(value: object, *, milliseconds: bool = True) -> datetime | None:
    """Unix seconds (or, with ``milliseconds``, milliseconds when that large) as an aware
    UTC time; ``None`` when unreadable.

    The time is not checked against the window: ``unix_time`` or ``moment`` does that.
    """
    try:
        number = _number(value)
    except InvalidValue:
        return None
    if number is None or not math.isfinite(number) or number < 0:
        return None
    if milliseconds and number >= MILLISECONDS_FROM:
        number /= 1000
    try:
        return datetime.fromtimestamp(int(number), UTC)
    except (OverflowError, OSError, ValueError):  # beyond year 9999, or the C time_t
        return None


def unix_time(value: object, *, milliseconds: bool = True, now: datetime | None = None) -> datetime:
    """Unix seconds (or milliseconds) as a checked UTC time (see ``moment``)."""
    parsed = parse_unix(value, milliseconds=milliseconds)
    if parsed is None:
        raise InvalidValue(
            N_("The time is not a Unix timestamp guanxi can read."),
            N_("Write the time as Unix seconds, e.g. 1714537800."),
            value,
        )
    return moment(parsed, now=now)


# --- Counts -----------------------------------------------------------------------------


def _number(value: object) -> float | None:
    """``value`` as a float; ``None`` for empty; raises for text that is no number."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise InvalidValue(
            N_("The count is not a number."),
            N_("Write a whole number such as 12, or leave the cell empty."),
            value,
        )
    if isinstance(value, int):
        return float(value) if abs(value) < 2**63 else math.inf
    if isinstance(value, float):
        return value
    text = clean_text(str(value)).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidValue(
            N_("The count is not a number."),
            N_("Write a whole number such as 12, or leave the cell empty."),
            value,
        ) from None
    if number.is_nan():
        return math.nan
    return float(number)  # 1e400 and "Infinity" become infinity, refused by the callers


def count(value: object, *, scale: int = 1, maximum: int = MAX_COUNT) -> int:
    """A count (likes, followers): a whole number from 0 to ``maximum``; empty is 0.

    ``scale`` multiplies first (Chinese "1.2万" is 1.2 × 10,000), and the result is
    rounded, since a scaled figure is an approximation; unscaled it must be whole.
    """
    number = _number(value)
    if number is None:
        return 0
    if math.isnan(number):
        raise InvalidValue(
            N_("The count is not a number."),
            N_("Write a whole number such as 12, or leave the cell empty."),
            value,
        )
    number *= scale
    if number < 0:
        raise InvalidValue(N_("The count is negative."), N_("Write 0 or a positive number."), value)
    if number > maximum:  # also infinity
        raise InvalidValue(
            N_("The count is larger than guanxi can store (2,147,483,647)."),
            N_("Check the column: it probably holds something else than a count."),
            value,
        )
    if scale == 1 and not number.is_integer():
        raise InvalidValue(
            N_("The count is not a whole number."),
            N_("Write a whole number such as 12, or leave the cell empty."),
            value,
        )
    return round(number)


def optional_count(value: object, *, maximum: int = MAX_COUNT) -> int | None:
    """A count, or ``None`` when the value is empty (the source does not say)."""
    if _number(value) is None:
        return None
    return count(value, maximum=maximum)


def code(value: object) -> int | None:
    """A small whole-number code (Weibo's ``verified_type``, -1 and up); ``None`` if empty."""
    number = _number(value)
    if number is None:
        return None
    if not math.isfinite(number) or not number.is_integer() or abs(number) > MAX_COUNT:
        raise InvalidValue(
            N_("The value is not a whole number."),
            N_("Write a whole number, or leave the cell empty."),
            value,
        )
    return int(number)


# --- Text -------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """``value`` without control characters (tab and newline stay; CR becomes newline)."""
    return _CONTROLS.sub("", _NEWLINES.sub("\n", value))


def text(value: object, *, limit: int) -> str:
    """Text to store in a column of ``limit`` characters: cleaned, stripped, cut to fit."""
    if value is None:
        return ""
    return clean_text(str(value)).strip()[:limit]


def long_text(value: object, *, limit: int) -> str:
    """A post's text: cleaned; refused when longer than ``limit`` (a broken row, not a post)."""
    cleaned = "" if value is None else clean_text(str(value))
    if len(cleaned) > limit:
        raise InvalidValue(
            N_("The text is longer than guanxi keeps for one post: the row is probably broken."),
            N_("Check the quotes around this row's text in the file."),
            cleaned[:80],
        )
    return cleaned


# --- Links ------------------------------------------------------------------------------


def web_url(value: object, *, limit: int = MAX_URL) -> str:
    """An http(s) link to store, or "" when ``value`` is anything else.

    A link is an extra of a post, not the post: one that is not http(s) (``javascript:``,
    ``data:``), has no host or does not fit is dropped, and the post is kept without it.
    """
    if value is None:
        return ""
    url = clean_text(str(value)).strip()
    if not url or len(url) > limit or _SPACE.search(url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket
        return ""
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return ""
    return url


def is_web_url(value: object) -> bool:
    """Whether ``value`` is an http(s) link a page may render as ``href``."""
    return bool(value) and web_url(value) == value


# --- Platforms --------------------------------------------------------------------------


def platform(value: object, *, known: Collection[str]) -> str:
    """A platform slug from ``known`` (the catalog's platforms); refuses any other."""
    slug = text(value, limit=40)
    if slug not in known:
        raise InvalidValue(
            N_("The platform is not one guanxi knows."),
            N_("Choose a platform of the catalog, e.g. weibo, douyin or xiaohongshu."),
            value,
        )
    return slug


# --- Raw records ------------------------------------------------------------------------


def raw_record(value: Mapping[str, Any]) -> dict[str, Any]:
    """A source's raw record as JSON every database stores: text cleaned, no NaN or
    infinity (JSON has none), nesting bounded."""
    return {text(key, limit=200): _raw(item, 1) for key, item in value.items()}


def _raw(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int):
        return value if not isinstance(value, int) or abs(value) < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return clean_text(value[:MAX_RAW_TEXT])
    if depth >= MAX_RAW_DEPTH:
        return text(value, limit=200)
    if isinstance(value, Mapping):
        return {text(key, limit=200): _raw(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_raw(item, depth + 1) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return text(value, limit=MAX_RAW_TEXT)
