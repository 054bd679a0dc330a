"""What every importer shares: the parsed records, and the row errors and streaming file
readers of ``guanxi.core.tables``.

An importer turns a file into a stream of ``ParsedRow`` values, one per line (or JSON
object, or sheet row): either the mentions that row holds, or a ``RowError`` that says what
is wrong with it and what to do. Nothing reads a whole file: text is decoded as it streams,
and ``progress`` reports how many bytes of the file are behind us.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from guanxi.core import filelimits, values
from guanxi.core.errors import N_
from guanxi.core.tables import (
    CHINA,
    FieldError,
    Progress,
    RowError,
    TextStream,
    clean,
    csv_dict_rows,
    read_count,
    read_time,
    sniff_encoding,
)
from guanxi.core.tables import field_value as _field
from guanxi.listening.mentions.service import known_platforms

# The readers every importer uses live in guanxi.core.tables (analytics reads the platforms'
# exports with them too); they are named here for the importers.
__all__ = [
    "CHINA",
    "FieldError",
    "Progress",
    "RowError",
    "TextStream",
    "clean",
    "csv_dict_rows",
    "read_count",
    "read_time",
    "sniff_encoding",
]
MAX_TEXT = 20_000  # characters; a longer "post" is a broken row, not a post
REPLACEMENT = filelimits.REPLACEMENT


@dataclass(frozen=True)
class ParsedAuthor:
    """An author as a source describes them; ``None`` means "the source does not say"."""

    external_id: str
    name: str = ""
    verified_type: int | None = None
    verified_reason: str = ""
    followers: int | None = None
    url: str = ""


@dataclass(frozen=True)
class ParsedMention:
    """One post or comment read from a source, before it is stored."""

    platform: str
    external_id: str
    text: str
    posted_at: datetime  # aware
    kind: str = "post"  # MentionKind
    url: str = ""
    author: ParsedAuthor | None = None
    likes: int = 0
    comments: int = 0
    reposts: int = 0
    reply_to_external_id: str = ""
    repost_of_external_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedRow:
    """What one row of a file gave: its mentions, or an error (never both)."""

    line: int
    mentions: tuple[ParsedMention, ...] = ()
    authors: tuple[ParsedAuthor, ...] = ()  # author records that are not posts (users.csv)
    error: RowError | None = None


class Importer(Protocol):
    """Reads one file format as a stream of rows."""

    def rows(self, path: Path, *, progress: Progress | None = None) -> Iterator[ParsedRow]:
        """Every row of ``path``, in order; raises ``UserError`` if the file cannot be read."""
        ...


# --- Reading values ---------------------------------------------------------------------


def read_optional_count(row: Mapping[str, Any], column: str) -> int | None:
    """A count (followers), or ``None`` when the cell is empty."""
    if not clean(row.get(column)):
        return None
    return read_count(row, column)


def read_optional_int(row: Mapping[str, Any], column: str) -> int | None:
    """A whole-number code (a verified type), or ``None`` when the cell is empty."""
    value = row.get(column)
    return _field(column, lambda: values.code(clean(value) if isinstance(value, str) else value))


def read_url(row: Mapping[str, Any], column: str, *, limit: int = 400) -> str:
    """An http(s) link, or "" (a link that is anything else is dropped, see ``values``)."""
    return values.web_url(row.get(column), limit=limit)


def check_platform(platform: str) -> str:
    """``platform`` when the catalog knows it; a row error of column "platform" otherwise."""
    return _field("platform", lambda: values.platform(platform, known=known_platforms()))


def check_text(text: str, column: str) -> str:
    """The post text, refused when it is broken (undecodable bytes) or absurdly long."""
    if REPLACEMENT in text:
        raise FieldError(
            column,
            N_("The text holds bytes that are not valid in the file's encoding."),
            N_("Save the file again as UTF-8 and import it again."),
            text[:80],
        )
    if len(text) > MAX_TEXT:
        raise FieldError(
            column,
            N_("The text is longer than 20,000 characters: the row is probably broken."),
            N_("Check the quotes around this row's text in the file."),
            text[:80],
        )
    return values.clean_text(text)


def raw_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The row as kept with the mention (``values.raw_record``: JSON any database stores)."""
    return values.raw_record(record)


def require_id(row: Mapping[str, Any], column: str) -> str:
    """A post or author id; refused when empty or longer than the database keeps."""
    value = clean(row.get(column))
    if not value:
        raise FieldError(
            column,
            N_("The id is missing."),
            N_("Every row needs the post's id on its platform; fill it in or remove the row."),
        )
    if len(value) > 120:
        raise FieldError(
            column,
            N_("The id is longer than 120 characters."),
            N_("Check that the right column holds the id."),
            value,
        )
    return value


# --- Streaming files --------------------------------------------------------------------


def jsonl_objects(
    stream: TextStream, *, progress: Progress | None, every: int = 1000
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """The JSON objects of a JSON Lines file (also a JSON array written one item a line)."""
    line_number = 0
    for line_number, line in enumerate(stream.text, start=1):
        if progress is not None and line_number % every == 0:
            progress(stream.bytes_done())
        text = line.strip().rstrip(",")
        if not text or text in {"[", "]"}:
            continue
        try:
            value = filelimits.loads_json(text)
        except filelimits.JsonTooDeepError as exc:
            yield line_number, json_too_deep(line_number, exc)
            continue
        except ValueError as exc:
            yield (
                line_number,
                RowError(
                    line_number,
                    "",
                    N_("The line is not valid JSON."),
                    N_("Write one JSON object per line (JSON Lines)."),
                    str(exc)[:200],
                ),
            )
            continue
        if not isinstance(value, dict):
            yield (
                line_number,
                RowError(
                    line_number,
                    "",
                    N_("The line is JSON but not an object."),
                    N_("Write one JSON object per line (JSON Lines)."),
                    text[:80],
                ),
            )
            continue
        yield line_number, value
    if progress is not None:
        progress(stream.bytes_done())


def json_too_deep(line: int, exc: filelimits.JsonTooDeepError) -> RowError:
    """The row report's entry for a JSON value nested too deeply."""
    return RowError(
        line,
        "",
        N_("The JSON is nested too deeply (more than 64 levels)."),
        N_("Export the record again: real exports nest a few levels."),
        str(exc),
    )


def pick(row: Mapping[str, Any], *names: str) -> str:
    """The first of ``names`` the row has (sources rename columns between versions)."""
    for name in names:
        if name in row:
            return name
    return names[0]


def error_row(line: int, exc: FieldError) -> ParsedRow:
    """The ``ParsedRow`` reporting ``exc`` for ``line``."""
    return ParsedRow(line, error=exc.row_error(line))


def unreadable(line: int, exc: Exception) -> RowError:
    """The row report's entry for a row whose reading raised ``exc`` (whatever it is)."""
    if isinstance(exc, FieldError):
        return exc.row_error(line)
    if isinstance(exc, filelimits.JsonTooDeepError):
        return json_too_deep(line, exc)
    return RowError(
        line,
        "",
        N_(
            "A value in this row cannot be read (a number or a time out of range, or a "
            "broken value)."
        ),
        N_("Check the row's numbers and times; the other rows were imported."),
        f"{type(exc).__name__}: {exc}"[:200],
    )


def read_row(line: int, read: Callable[..., ParsedRow], *args: Any) -> ParsedRow:
    """``read(line, *args)``, or the row's error when reading it raises anything: one bad
    value costs its row, never the file."""
    try:
        return read(line, *args)
    except Exception as exc:
        return ParsedRow(line, error=unreadable(line, exc))
