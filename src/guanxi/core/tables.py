"""Rows of the spreadsheets people export (CSV and XLSX), read the same way everywhere.

A CSV is decoded as it streams, in the encoding its first bytes show (UTF-8 with or
without BOM, UTF-16, GB18030 which reads GBK: ``filelimits.sniff_encoding``); an XLSX is
read with openpyxl's read-only mode (first sheet, first row the header) after its zip is
checked. Each row comes with the line it starts on; a row that cannot be read becomes a
``RowError`` (line, column, problem, fix) and the rows after it are still read. The value
readers (counts written "1.2万", times in many shapes) raise ``FieldError``, which becomes
the row's error. Listening's importers and analytics' creator-centre imports read with these.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO, Any, TypeVar

from guanxi.core import filelimits, values
from guanxi.core.errors import N_, UserError

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # Chinese exports write Beijing time
MAX_FIELD = 1_000_000  # characters the CSV reader accepts in one field before it gives up
SNIFF_BYTES = 256 * 1024
MAX_REREADS = 1000  # runaway rows read again per file; beyond, the swallowed lines are lost
MAX_COLUMNS = 1000  # of an XLSX sheet (rows are limited by GUANXI_IMPORT_MAX_ROWS)
_T = TypeVar("_T")


@dataclass(frozen=True)
class RowError:
    """A row that cannot be imported; ``problem`` and ``fix`` are English msgids."""

    line: int
    column: str
    problem: str
    fix: str
    value: str = ""


Progress = Callable[[int], None]  # bytes (or rows, for XLSX) done so far


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


def field_value(column: str, read: Callable[[], _T]) -> _T:
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
        return field_value(column, lambda: values.count(value))
    text = clean(value).replace(",", "").rstrip("+")
    scale = 1
    if text.endswith("万"):
        text, scale = text[:-1], 10_000
    elif text.endswith("亿"):
        text, scale = text[:-1], 100_000_000
    return field_value(column, lambda: values.count(text, scale=scale))


DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%a %b %d %H:%M:%S %z %Y",  # Weibo's API
)


def read_time(row: Mapping[str, Any], column: str, *, zone: tzinfo = CHINA) -> datetime:
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
    return field_value(column, lambda: values.moment(parsed))


def _time_of(value: object, zone: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    text = clean(value)
    return _parse_time(text, zone) if text else None


def _parse_time(text: str, zone: tzinfo) -> datetime | None:
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


# Days as Chinese reports write them: 2026/2/1, 2026.02.01, 2026年2月1日, 20260201.
_DAY = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))$")


def read_day(row: Mapping[str, Any], column: str) -> date:
    """A calendar day: ISO, 2026/2/1, 2026.02.01, 2026年2月1日, 20260201, or a date cell."""
    value = row.get(column)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean(value).split(" ", 1)[0]
    found = _DAY.match(text)
    if not found:
        raise FieldError(
            column,
            N_("The day cannot be read."),
            N_("Write days as 2026-05-01."),
            text,
        )
    year, month, day = found[1], found[2] or found[4], found[3] or found[5]
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise FieldError(
            column, N_("The day does not exist."), N_("Write days as 2026-05-01."), text
        ) from None


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
        line,
        "",
        problem,
        N_("Close or remove the quote in this row; the rows after it were read on their own."),
        detail[:200],
    )


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
            yield (
                line,
                _runaway_error(
                    line,
                    N_("The row cannot be read as CSV: a field is unterminated or too large."),
                    str(exc),
                ),
            )
            if rereads < MAX_REREADS:
                rereads += 1
                lines.read_again(lines.taken[1:])
            reader = csv.reader(lines)
            continue
        if lines.exhausted and rereads < MAX_REREADS:
            # The reader hit the end of the file inside a quoted field: the quote opened on
            # this row is never closed, and every line after it was swallowed.
            rereads += 1
            yield (
                line,
                _runaway_error(
                    line,
                    N_("A quote in this row is never closed: it swallowed the rest of the file."),
                    lines.taken[0],
                ),
            )
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


def xlsx_rows(
    path: Path, *, progress: Progress | None, on_header: Callable[[list[str]], object] | None
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    from openpyxl import load_workbook  # noqa: PLC0415 - heavy: openpyxl, ~150 ms; only an Excel file needs it

    filelimits.check_archive(path)  # a zip bomb is refused before openpyxl inflates it
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not XLSX
        raise UserError(
            N_("The file is not an Excel workbook (.xlsx) guanxi can read ({error})."),
            error=type(exc).__name__,
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        if (sheet.max_column or 0) > MAX_COLUMNS:  # every row would be padded to that width
            raise UserError(
                N_(
                    "The sheet is {columns} columns wide; guanxi reads at most {limit}. Delete "
                    "the empty columns, or export the data as CSV."
                ),
                columns=sheet.max_column,
                limit=MAX_COLUMNS,
            )
        rows = _sheet_rows(sheet.iter_rows(values_only=True))
        header_cells = next(rows, None)
        if header_cells is None:
            raise UserError(N_("The file is empty. Export the data again."))
        header = [clean(cell) for cell in header_cells]
        if on_header is not None:
            on_header(header)
        for line, cells in enumerate(rows, start=2):
            if progress is not None and line % 1000 == 0:
                progress(line)
            if all(cell is None or clean(cell) == "" for cell in cells):
                continue
            yield line, dict(zip(header, cells, strict=False))
    finally:
        workbook.close()


def _sheet_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows; a sheet that breaks part-way is refused with the row it reached
    (the rows before it are kept)."""
    line = 0
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # openpyxl raises many types for a broken sheet
            raise UserError(
                N_(
                    "The workbook cannot be read after row {row} ({error}). Save it again "
                    "from Excel, or export the sheet as CSV."
                ),
                row=line,
                error=type(exc).__name__,
            ) from exc
        line += 1
        yield cells


def table_rows(
    path: Path,
    file_format: str,
    *,
    progress: Progress | None = None,
    on_header: Callable[[list[str]], object] | None = None,
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """The rows of a CSV (``file_format`` "csv") or XLSX ("xlsx") file as dicts keyed by
    its header, with their line numbers; ``on_header`` sees the header first and may refuse
    the file (raise ``UserError``) before any row is read."""
    if file_format == "xlsx":
        yield from xlsx_rows(path, progress=progress, on_header=on_header)
        return
    stream = TextStream(path)
    try:
        yield from csv_dict_rows(stream, progress=progress, on_header=on_header)
    finally:
        stream.close()


def header_of(path: Path, file_format: str) -> list[str]:
    """The names in the file's header row (cleaned, without WeChat Pay's backticks)."""
    columns: list[str] = []
    for _row in table_rows(path, file_format, on_header=columns.extend):
        break
    return [clean(name).lstrip("`") for name in columns]


# --- Uploads ----------------------------------------------------------------------------

COPY_CHUNK = 1024 * 1024


def save_upload(
    *,
    data_dir: Path,
    folder: str,
    filename: str,
    content: IO[bytes],
    max_bytes: int,
    suffixes: frozenset[str],
    wrong_suffix: UserError,
) -> str:
    """Copy an uploaded file to a new name under ``data_dir / folder`` (streamed); returns
    its path relative to ``data_dir``.

    A name not ending in one of ``suffixes`` raises ``wrong_suffix``; a file larger than
    ``max_bytes`` is refused (and not kept) once that much is copied; so is an empty one.
    """
    name = Path(filename or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise wrong_suffix
    relative = Path(folder) / f"{uuid.uuid4().hex}{suffix}"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    copied = 0
    with target.open("wb") as out:
        while chunk := content.read(COPY_CHUNK):
            copied += len(chunk)
            if copied > max_bytes:
                break
            out.write(chunk)
    if copied > max_bytes:
        target.unlink()
        raise UserError(
            N_("The file is larger than {limit} MB. Split it and import the parts."),
            limit=max_bytes // (1024 * 1024),
        )
    if target.stat().st_size == 0:
        target.unlink()
        raise UserError(N_("The file is empty. Export the data again."))
    return relative.as_posix()
