"""Any CSV, JSON Lines or Excel file, read through a column mapping.

The mapping says which column holds each field of a mention (``{"text": "内容", ...}``);
the user picks it once per source in the import page, and guanxi remembers it. JSON objects
are flattened first, so ``user.id`` names a nested field. Excel files are streamed with
openpyxl's read-only mode (first sheet, first row is the header).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guanxi.core.errors import N_, UserError
from guanxi.core.tables import xlsx_rows
from guanxi.listening.intake.importers.base import (
    ParsedAuthor,
    ParsedMention,
    ParsedRow,
    Progress,
    RowError,
    TextStream,
    check_platform,
    check_text,
    clean,
    csv_dict_rows,
    jsonl_objects,
    raw_record,
    read_count,
    read_optional_count,
    read_optional_int,
    read_row,
    read_time,
    read_url,
    require_id,
)

# The fields a mapping can fill, in the order the mapping form shows them.
FIELDS: dict[str, str] = {
    "external_id": N_("Post id"),
    "text": N_("Text"),
    "posted_at": N_("Published at"),
    "author_id": N_("Author id"),
    "author_name": N_("Author name"),
    "author_followers": N_("Author's followers"),
    "author_verified_type": N_("Author's verified type (Weibo)"),
    "url": N_("Link"),
    "likes": N_("Likes"),
    "comments": N_("Comments"),
    "reposts": N_("Reposts"),
    "reply_to": N_("Post it answers (comments)"),
    "repost_of": N_("Post it reposts"),
}
REQUIRED = ("external_id", "text", "posted_at")
# Column names seen in the wild, for the first guess of a mapping.
GUESSES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "mid", "post_id", "note_id", "weibo_id", "微博id", "编号"),
    "text": ("text", "content", "正文", "内容", "微博正文", "desc"),
    "posted_at": (
        "posted_at",
        "created_at",
        "create_time",
        "time",
        "date",
        "发布时间",
        "完整日期",
        "日期",
        "时间",
    ),
    "author_id": ("user_id", "uid", "author_id", "用户id", "user.id"),
    "author_name": (
        "nickname",
        "screen_name",
        "author",
        "user_name",
        "用户昵称",
        "昵称",
        "user.screen_name",
    ),
    "author_followers": ("followers", "followers_count", "fans", "粉丝数"),
    "author_verified_type": ("verified_type", "认证类型", "user.verified_type"),
    "url": ("url", "link", "note_url", "链接"),
    "likes": ("likes", "liked_count", "attitudes_count", "点赞数"),
    "comments": ("comments", "comments_count", "评论数"),
    "reposts": ("reposts", "reposts_count", "shared_count", "转发数"),
}
PREVIEW_ROWS = 5


@dataclass(frozen=True)
class Preview:
    """The columns of a file and its first rows, for the mapping step."""

    columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys (``{"user": {"id": 1}}`` → ``{"user.id": 1}``)."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(flatten(item, prefix=f"{name}."))
        else:
            flat[name] = item
    return flat


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """A first mapping from the column names (the user confirms or corrects it)."""
    lowered = {column.lower(): column for column in columns}
    mapping: dict[str, str] = {}
    for name, candidates in GUESSES.items():
        for candidate in candidates:
            if candidate.lower() in lowered:
                mapping[name] = lowered[candidate.lower()]
                break
    return mapping


def check_mapping(mapping: Mapping[str, str], columns: list[str] | None = None) -> dict[str, str]:
    """The mapping without empty entries; raises ``UserError`` when it cannot work."""
    cleaned = {name: column for name, column in mapping.items() if name in FIELDS and column}
    missing = [FIELDS[name] for name in REQUIRED if name not in cleaned]
    if missing:
        raise UserError(
            N_("Choose the columns that hold the post id, the text and the publication time.")
        )
    if columns is not None:
        unknown = sorted({column for column in cleaned.values() if column not in columns})
        if unknown:
            raise UserError(
                N_("The file has no column {columns}. Choose the columns again."),
                columns=", ".join(unknown),
            )
    return cleaned


@dataclass(frozen=True)
class GenericImporter:
    """Reads CSV, JSON Lines or XLSX with a mapping from mention fields to columns."""

    format: str  # "csv" | "jsonl" | "xlsx"
    mapping: Mapping[str, str]
    platform: str = "weibo"

    def rows(self, path: Path, *, progress: Progress | None = None) -> Iterator[ParsedRow]:
        """Every row of ``path`` read through the mapping."""
        mapping = check_mapping(self.mapping)

        def check_columns(header: list[str]) -> None:
            check_mapping(mapping, header)  # a mapped column the file lacks fails every row

        for line, record in records(path, self.format, progress=progress, on_header=check_columns):
            if isinstance(record, RowError):
                yield ParsedRow(line, error=record)
                continue
            yield read_row(line, self._row, record, mapping)

    def _row(self, line: int, record: Mapping[str, Any], mapping: Mapping[str, str]) -> ParsedRow:
        return ParsedRow(line, mentions=(self._mention(record, mapping),))

    def _mention(self, record: Mapping[str, Any], mapping: Mapping[str, str]) -> ParsedMention:
        def column(name: str) -> str:
            return mapping.get(name, "")

        def count(name: str) -> int:
            return read_count(record, column(name)) if column(name) else 0

        author: ParsedAuthor | None = None
        author_id = clean(record.get(column("author_id"))) if column("author_id") else ""
        author_name = clean(record.get(column("author_name"))) if column("author_name") else ""
        if author_id or author_name:
            author = ParsedAuthor(
                # A source that only names authors keys them by name.
                external_id=(author_id or author_name)[:120],
                name=author_name[:120],
                followers=read_optional_count(record, column("author_followers"))
                if column("author_followers")
                else None,
                verified_type=read_optional_int(record, column("author_verified_type"))
                if column("author_verified_type")
                else None,
            )
        text_column = column("text")
        return ParsedMention(
            platform=check_platform(self.platform),
            external_id=require_id(record, column("external_id")),
            text=check_text(clean(record.get(text_column)), text_column),
            posted_at=read_time(record, column("posted_at")),
            url=read_url(record, column("url")) if column("url") else "",
            author=author,
            likes=count("likes"),
            comments=count("comments"),
            reposts=count("reposts"),
            kind="comment"
            if column("reply_to") and clean(record.get(column("reply_to")))
            else "post",
            reply_to_external_id=clean(record.get(column("reply_to")))[:120]
            if column("reply_to")
            else "",
            repost_of_external_id=clean(record.get(column("repost_of")))[:120]
            if column("repost_of")
            else "",
            raw=raw_record(record),
        )


def records(
    path: Path,
    file_format: str,
    *,
    progress: Progress | None = None,
    on_header: Callable[[list[str]], object] | None = None,
) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """The rows of a CSV / JSONL / XLSX file as flat dicts, with their line numbers;
    ``on_header`` sees the header row of CSV and XLSX files (JSON objects have none)."""
    if file_format == "xlsx":
        yield from xlsx_rows(path, progress=progress, on_header=on_header)
        return
    stream = TextStream(path)
    try:
        if file_format == "csv":
            yield from csv_dict_rows(stream, progress=progress, on_header=on_header)
        else:
            for line, record in jsonl_objects(stream, progress=progress):
                yield line, record if isinstance(record, RowError) else flatten(record)
    finally:
        stream.close()


def preview(path: Path, file_format: str) -> Preview:
    """The columns and first rows of ``path``; the mapping step shows them."""
    columns: list[str] = []
    rows: list[dict[str, str]] = []
    for _line, record in records(path, file_format):
        if isinstance(record, RowError):
            continue
        for name in record:
            if name not in columns:
                columns.append(name)
        rows.append({key: clean(value)[:120] for key, value in record.items()})
        if len(rows) >= PREVIEW_ROWS:
            break
    if not columns:
        raise UserError(N_("guanxi found no columns in the file. Check its format."))
    return Preview(columns=columns, rows=rows)
