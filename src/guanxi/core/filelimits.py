"""Reading files that strangers made: encodings, JSON nesting, archives, spreadsheet cells.

Every capability that imports or exports user files goes through these helpers, so a file
that one importer reads (a GBK CSV, a UTF-16 export) reads the same everywhere, and a
hostile file (a zip bomb, JSON nested thousands deep) is refused with a clear message
before the memory is spent.
"""

from __future__ import annotations

import codecs
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guanxi.core import values
from guanxi.core.errors import N_, UserError

REPLACEMENT = "\ufffd"
MAX_JSON_DEPTH = 64  # real exports nest a few levels; deeper is an attack or a bug
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- Encodings --------------------------------------------------------------------------


def sniff_encoding(head: bytes) -> str:
    """The encoding of a text file judged on its first bytes.

    A BOM decides (UTF-8, UTF-16); else UTF-8 when its non-ASCII text is mostly valid
    UTF-8 (a few broken bytes: those rows are reported), else GB18030 (a superset of GBK
    and GB2312: Excel on Chinese Windows) when that decodes, else UTF-8.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    broken = sample.count(REPLACEMENT)
    valid = sum(1 for char in sample if char > "\x7f") - broken
    if broken == 0 or valid >= 10 * broken:
        return "utf-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
    except UnicodeDecodeError:
        return "utf-8"  # neither: every undecodable row goes to the error report
    return "gb18030"


def decode_text(raw: bytes) -> str | None:
    """``raw`` as text in its sniffed encoding, or ``None`` when it does not decode."""
    first = sniff_encoding(raw[: 256 * 1024])
    for encoding in (first, "utf-8", "gb18030"):
        try:
            return raw.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    return None


# --- JSON -------------------------------------------------------------------------------


class JsonTooDeepError(ValueError):
    """JSON nested deeper than ``MAX_JSON_DEPTH``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels")
        self.limit = limit


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``limit`` (walks without recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth`` (``JsonTooDeepError``).

    Raises ``ValueError`` (``json.JSONDecodeError`` or ``JsonTooDeepError``) for any text
    that is not acceptable JSON, never ``RecursionError``.
    """
    brackets = (
        text.count("[") + text.count("{")
        if isinstance(text, str)
        else (text.count(b"[") + text.count(b"{"))
    )
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeepError(max_depth) from None
    if brackets > max_depth and json_depth_exceeds(value, max_depth):
        raise JsonTooDeepError(max_depth)
    return value


# --- Archives (XLSX is a zip) -----------------------------------------------------------


@dataclass(frozen=True)
class ArchiveLimits:
    """What a zip may hold before guanxi refuses to open it."""

    max_entries: int = 10_000
    max_entry_bytes: int = 100 * 1024 * 1024  # one part (e.g. the shared strings) in memory
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 100  # real XML compresses 5-20 times; a bomb, a thousand
    ratio_from_bytes: int = 1024 * 1024  # small parts may compress well without harm


def check_archive(path: Path, limits: ArchiveLimits | None = None) -> None:
    """Refuse a zip (XLSX) whose contents would expand too far, reading only its directory.

    Raises ``UserError`` saying what is too large. A file that is not a zip passes: the
    reader that opens it reports that.
    """
    limits = limits or ArchiveLimits()
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return
    if len(entries) > limits.max_entries:
        raise UserError(
            N_(
                "The file holds more than {limit} parts: guanxi does not open it. Save it "
                "again from Excel, or export the data as CSV."
            ),
            limit=limits.max_entries,
        )
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        too_big = entry.file_size > limits.max_entry_bytes or total > limits.max_total_bytes
        if too_big or (entry.file_size > limits.ratio_from_bytes and ratio > limits.max_ratio):
            raise UserError(
                N_(
                    "The file unpacks to far more data than it holds ({part}: {size} MB): "
                    "guanxi does not open it. Export the data as CSV, or split the workbook."
                ),
                part=entry.filename[:80],
                size=entry.file_size // (1024 * 1024),
            )


# --- Spreadsheet cells ------------------------------------------------------------------


def xlsx_safe(value: object) -> object:
    """``formula_safe``, without the control characters an XLSX cell cannot hold."""
    value = formula_safe(value)
    return values.clean_text(value) if isinstance(value, str) else value


def formula_safe(value: object) -> object:
    """A cell that a spreadsheet will not run as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
