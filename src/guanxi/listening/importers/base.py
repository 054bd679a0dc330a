"""What every importer shares: the parsed records, row errors, and streaming file readers.

An importer turns a file into a stream of ``ParsedRow`` values, one per line (or JSON
object, or sheet row): either the mentions that row holds, or a ``RowError`` that says what
is wrong with it and what to do. Nothing reads a whole file: text is decoded as it streams,
and ``progress`` reports how many bytes of the file are behind us.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Protocol

from guanxi.core.errors import N_, UserError

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # crawlers write Beijing time
MAX_TEXT = 20_000  # characters; a longer "post" is a broken row, not a post
MAX_FIELD = 1_000_000  # characters the CSV reader accepts in one field before it gives up
SNIFF_BYTES = 256 * 1024
REPLACEMENT = "\ufffd"


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
class RowError:
    """A row that cannot be imported; ``problem`` and ``fix`` are English msgids."""

    line: int
    column: str
    problem: str
    fix: str
    value: str = ""


@dataclass(frozen=True)
class ParsedRow:
    """What one row of a file gave: its mentions, or an error (never both)."""

    line: int
    mentions: tuple[ParsedMention, ...] = ()
    authors: tuple[ParsedAuthor, ...] = ()  # author records that are not posts (users.csv)
    error: RowError | None = None


Progress = Callable[[int], None]  # bytes (or rows, for XLSX) done so far


class Importer(Protocol):
    """Reads one file format as a stream of rows."""

    def rows(self, path: Path, *, progress: Progress | None = None) -> Iterator[ParsedRow]:
        """Every row of ``path``, in order; raises ``UserError`` if the file cannot be read."""
        ...


class FieldError(ValueError):
    """A value that cannot be read; carries the column and the fix for the row report."""

    def __init__(self, column: str, problem: str, fix: str, value: object = "") -> None:
        super().__init__(problem)
        self.column = column
        self.problem = problem
        self.fix = fix
        self.value = str(value)[:200]

    def row_error(self, line: int) -> RowError:
        """This error as the row report's entry for ``line``."""
        return RowError(line, self.column, self.problem, self.fix, self.value)


# --- Reading values ---------------------------------------------------------------------


def clean(value: object) -> str:
    """A cell as text: stripped, with the tab weibo-crawler appends to ids removed."""
    if value is None:
        return ""
    return str(value).strip().strip("\t").strip()


def read_count(row: Mapping[str, Any], column: str) -> int:
    """A non-negative count; empty is 0. Crawlers sometimes write "1.2万" or "100万+"."""
    text = clean(row.get(column)).replace(",", "").rstrip("+")
    if not text:
        return 0
    scale = 1
    if text.endswith("万"):
        text, scale = text[:-1], 10_000
    elif text.endswith("亿"):
        text, scale = text[:-1], 100_000_000
    try:
        number = float(text) * scale
    except ValueError as exc:
        raise FieldError(
            column,
            N_("The count is not a number."),
            N_("Write a whole number such as 12, or leave the cell empty."),
            row.get(column),
        ) from exc
    if number < 0 or math.isnan(number):
        raise FieldError(
            column, N_("The count is negative."), N_("Write 0 or a positive number."), text
        )
    return int(number)


def read_optional_int(row: Mapping[str, Any], column: str) -> int | None:
    """An integer, or ``None`` when the cell is empty."""
    text = clean(row.get(column))
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError as exc:
        raise FieldError(
            column,
            N_("The value is not a whole number."),
            N_("Write a whole number, or leave the cell empty."),
            text,
        ) from exc


DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%a %b %d %H:%M:%S %z %Y",  # Weibo's API
)


def read_time(row: Mapping[str, Any], column: str, *, zone: timezone = CHINA) -> datetime:
    """A point in time: ISO, "YYYY-MM-DD hh:mm[:ss]", a date, or Unix seconds/ms.

    Times without a zone are taken in ``zone`` (Beijing time for Chinese crawlers).
    """
    value = row.get(column)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    text = clean(value)
    if not text:
        raise FieldError(
            column,
            N_("The time is missing."),
            N_("Fill in when the post was published, e.g. 2024-05-01 12:30:00."),
        )
    parsed = _parse_time(text, zone)
    if parsed is None:
        raise FieldError(
            column,
            N_("The time cannot be read."),
            N_("Write it as 2024-05-01 12:30:00, as an ISO time, or as Unix seconds."),
            text,
        )
    return parsed


def _parse_time(text: str, zone: timezone) -> datetime | None:
    if text.isdecimal():
        number = int(text)
        if number > 10**11:  # milliseconds
            number //= 1000
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:  # the common case ("2024-05-01 12:30:00", ISO), parsed in C
        parsed = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    for pattern in DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, pattern)  # noqa: DTZ007 - zone added below
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    return None


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
    return text


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


def sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030, judged on the start of the file.

    A UTF-8 file with a few broken bytes stays UTF-8 (its broken rows are reported); a file
    that is mostly not UTF-8 but decodes as GB18030 (Excel on Chinese Windows) is GB18030.
    """
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    sample = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    if sample.count(REPLACEMENT) <= max(2, len(sample) // 1000):
        return "utf-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
    except UnicodeDecodeError:
        return "utf-8"  # neither: every undecodable row goes to the error report
    return "gb18030"


class TextStream:
    """A file opened as text for streaming, with the bytes read so far for progress."""

    def __init__(self, path: Path) -> None:
        self.encoding = sniff_encoding(path)
        self._binary = path.open("rb")
        # Undecodable bytes become U+FFFD so one bad row cannot stop the file; check_text
        # then puts that row in the error report.
        self.text: IO[str] = io.TextIOWrapper(
            self._binary, encoding=self.encoding, errors="replace", newline=""
        )

    def bytes_done(self) -> int:
        """How far into the file (in bytes) the reader is."""
        return self._binary.tell()

    def close(self) -> None:
        """Close the file."""
        self.text.close()


def csv_dict_rows(
    stream: TextStream,
    *,
    progress: Progress | None,
    every: int = 1000,
    on_header: Callable[[list[str]], object] | None = None,
) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    """The rows of a CSV as dicts keyed by its header, with their line number.

    A row the CSV reader cannot parse (a runaway field) becomes a ``RowError`` and
    reading goes on with the next row.
    """
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(stream.text)
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(N_("The file is empty. Export the data again.")) from None
    except csv.Error as exc:
        raise UserError(
            N_("The file's first line is not a CSV header ({error}). Check the file."),
            error=str(exc),
        ) from exc
    header = [clean(name) for name in header]
    if on_header is not None:
        on_header(header)  # may refuse the file before any row is read
    count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield (
                reader.line_num,
                RowError(
                    reader.line_num,
                    "",
                    N_("The row cannot be read as CSV: a field is unterminated or too large."),
                    N_("Check the quotes in this row, or split the huge field."),
                    str(exc)[:200],
                ),
            )
            continue
        count += 1
        if progress is not None and count % every == 0:
            progress(stream.bytes_done())
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        if len(cells) != len(header):
            yield (
                reader.line_num,
                RowError(
                    reader.line_num,
                    "",
                    N_(
                        "The row does not have as many cells as the header (cells found / "
                        "expected)."
                    ),
                    N_("Check this row for a missing or extra comma (or unquoted text)."),
                    f"{len(cells)}/{len(header)}",
                ),
            )
            continue
        yield reader.line_num, dict(zip(header, cells, strict=True))
    if progress is not None:
        progress(stream.bytes_done())


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
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield (
                line_number,
                RowError(
                    line_number,
                    "",
                    N_("The line is not valid JSON."),
                    N_("Write one JSON object per line (JSON Lines)."),
                    exc.msg,
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


def pick(row: Mapping[str, Any], *names: str) -> str:
    """The first of ``names`` the row has (sources rename columns between versions)."""
    for name in names:
        if name in row:
            return name
    return names[0]


def error_row(line: int, exc: FieldError) -> ParsedRow:
    """The ``ParsedRow`` reporting ``exc`` for ``line``."""
    return ParsedRow(line, error=exc.row_error(line))
