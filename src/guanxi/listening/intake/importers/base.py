"""What every importer shares: the parsed records, row errors, and streaming file readers.

An importer turns a file into a stream of ``ParsedRow`` values, one per line (or JSON
object, or sheet row): either the mentions that row holds, or a ``RowError`` that says what
is wrong with it and what to do. Nothing reads a whole file: text is decoded as it streams,
and ``progress`` reports how many bytes of the file are behind us.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from guanxi.core import filelimits, values
from guanxi.core.errors import N_, UserError
from guanxi.listening.mentions.service import known_platforms

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # crawlers write Beijing time
MAX_TEXT = 20_000  # characters; a longer "post" is a broken row, not a post
MAX_FIELD = 1_000_000  # characters the CSV reader accepts in one field before it gives up
SNIFF_BYTES = 256 * 1024
MAX_REREADS = 1000  # runaway rows read again per file; beyond, the swallowed lines are lost
REPLACEMENT = filelimits.REPLACEMENT
_T = TypeVar("_T")


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
    """A cell as text: stripped, without control characters, with the tab weibo-crawler
    appends to ids removed."""
    if value is None:
        return ""
    return values.clean_text(str(value)).strip().strip("\t").strip()


def _field(column: str, read: Callable[[], _T]) -> _T:
    """``read()``, its ``InvalidValue`` reported as this column's ``FieldError``."""
    try:
        return read()
    except values.InvalidValue as exc:
        raise FieldError(column, exc.problem, exc.fix, exc.value) from exc


def read_count(row: Mapping[str, Any], column: str) -> int:
    """A count from 0 to ``values.MAX_COUNT``; empty is 0. Crawlers sometimes write "1.2万"
    or "100万+"."""
    value = row.get(column)
    if not isinstance(value, str):  # a number from JSON or Excel
        return _field(column, lambda: values.count(value))
    text = clean(value).replace(",", "").rstrip("+")
    scale = 1
    if text.endswith("万"):
        text, scale = text[:-1], 10_000
    elif text.endswith("亿"):
        text, scale = text[:-1], 100_000_000
    return _field(column, lambda: values.count(text, scale=scale))


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

    Times without a zone are taken in ``zone`` (Beijing time for Chinese crawlers). A time
    before 2000 or in the future is refused (``values.moment``).
    """
    value = row.get(column)
    parsed = _time_of(value, zone)
    if parsed is None:
        text = clean(value)
        if not text:
            raise FieldError(
                column,
                N_("The time is missing."),
                N_("Fill in when the post was published, e.g. 2024-05-01 12:30:00."),
            )
        raise FieldError(
            column,
            N_("The time cannot be read."),
            N_("Write it as 2024-05-01 12:30:00, as an ISO time, or as Unix seconds."),
            text,
        )
    return _field(column, lambda: values.moment(parsed))


def _time_of(value: object, zone: timezone) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    text = clean(value)
    return _parse_time(text, zone) if text else None


def _parse_time(text: str, zone: timezone) -> datetime | None:
    if text.isdecimal():
        return values.parse_unix(text)
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


def sniff_encoding(path: Path) -> str:
    """The file's encoding, judged on its start (see ``guanxi.core.filelimits``): UTF-8
    with or without BOM, UTF-16 with a BOM, or GB18030 (which reads GBK too)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return filelimits.sniff_encoding(head)


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


class _Lines:
    """The lines of a text stream as the CSV reader takes them, numbered; the lines of the
    row being read are kept so that a runaway row can be read again from its second line."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._again: deque[str] = deque()
        self.taken: list[str] = []
        self.number = 0  # lines taken so far
        self.exhausted = False  # the reader asked for a line after the last one

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            line = self._again.popleft()
        else:
            line = self._text.readline()
            if not line:
                self.exhausted = True
                raise StopIteration
        self.number += 1
        self.taken.append(line)
        return line

    def start_row(self) -> int:
        """Forget the last row's lines; the line number the next row starts on."""
        self.taken = []
        return self.number + 1

    def read_again(self, lines: list[str]) -> None:
        """Give ``lines`` to the reader again, in order, before the rest of the file."""
        self._again.extendleft(reversed(lines))
        self.number -= len(lines)
        self.exhausted = False


def _runaway_error(line: int, problem: str, detail: str) -> RowError:
    return RowError(
        line, "", problem,
        N_("Close or remove the quote in this row; the rows after it were read on their own."),
        detail[:200],
    )  # fmt: skip


def csv_dict_rows(
    stream: TextStream,
    *,
    progress: Progress | None,
    every: int = 1000,
    on_header: Callable[[list[str]], object] | None = None,
) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    """The rows of a CSV as dicts keyed by its header, with the line each row starts on.

    A row the CSV reader cannot parse (a runaway field, a NUL) or a quote never closed
    becomes a ``RowError`` for the line the row starts on, and the lines the runaway row
    swallowed are read again as rows of their own: one stray quote costs one row.
    """
    csv.field_size_limit(MAX_FIELD)
    lines = _Lines(stream.text)
    reader = csv.reader(lines)
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
    rereads = 0
    while True:
        line = lines.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield line, _runaway_error(
                line, N_("The row cannot be read as CSV: a field is unterminated or too large."),
                str(exc),
            )  # fmt: skip
            if rereads < MAX_REREADS:
                rereads += 1
                lines.read_again(lines.taken[1:])
            reader = csv.reader(lines)
            continue
        if lines.exhausted and rereads < MAX_REREADS:
            # The reader hit the end of the file inside a quoted field: the quote opened on
            # this row is never closed, and every line after it was swallowed.
            rereads += 1
            yield line, _runaway_error(
                line, N_("A quote in this row is never closed: it swallowed the rest of the file."),
                lines.taken[0],
            )  # fmt: skip
            lines.read_again(lines.taken[1:])
            reader = csv.reader(lines)
            continue
        count += 1
        if progress is not None and count % every == 0:
            progress(stream.bytes_done())
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        if len(cells) != len(header):
            yield (
                line,
                RowError(
                    line,
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
        yield line, dict(zip(header, cells, strict=True))
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
        line, "",
        N_("The JSON is nested too deeply (more than 64 levels)."),
        N_("Export the record again: real exports nest a few levels."),
        str(exc),
    )  # fmt: skip


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
        line, "",
        N_("A value in this row cannot be read (a number or a time out of range, or a "
           "broken value)."),
        N_("Check the row's numbers and times; the other rows were imported."),
        f"{type(exc).__name__}: {exc}"[:200],
    )  # fmt: skip


def read_row(line: int, read: Callable[..., ParsedRow], *args: Any) -> ParsedRow:
    """``read(line, *args)``, or the row's error when reading it raises anything: one bad
    value costs its row, never the file."""
    try:
        return read(line, *args)
    except Exception as exc:
        return ParsedRow(line, error=unreadable(line, exc))
