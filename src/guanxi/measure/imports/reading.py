"""Reading a creator centre's export through a column mapping: the fields, the first guess
of the mapping from the headers the creator centres write, and each row as figures or as a
``RowError`` that says which column is wrong and what to fix.

The files are read with ``guanxi.core.tables`` (GBK/GB18030 and UTF-8 with or without BOM,
XLSX), within the limits below, checked where the file comes in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from guanxi.connectors.metrics import Metric
from guanxi.core import values
from guanxi.core.errors import N_, UserError
from guanxi.core.tables import (
    CHINA,
    FieldError,
    RowError,
    clean,
    field_value,
    read_count,
    read_time,
    table_rows,
)
from guanxi.mappings import service as mappings
from guanxi.measure.imports.models import ExportKind

MAX_BYTES = 20 * 1024 * 1024  # a creator centre's export is a few hundred KB
MAX_ROWS = 50_000  # rows of one file; the rest are reported, not imported
MAX_COLUMNS = 200
MAX_CELL = 2_000  # characters of one cell; longer is a broken row
PREVIEW_ROWS = 5
FILE_FORMATS = {".csv": "csv", ".xlsx": "xlsx"}
WRONG_FORMAT = N_(
    "guanxi imports the creator centres' exports as .csv or .xlsx files. Export "
    "the data again in one of these formats."
)

# The fields a mapping fills, in the order the mapping step shows them.
POST_FIELDS: dict[str, str] = {
    "external_id": N_("Post id"),
    "url": N_("Link"),
    "title": N_("Title or text"),
    "published_at": N_("Published at"),
    "views": N_("Views (reads, plays)"),
    "likes": N_("Likes"),
    "comments": N_("Comments"),
    "shares": N_("Shares"),
    "saves": N_("Saves (收藏)"),
    "wows": N_("Wows (在看)"),
    "new_followers": N_("New followers"),
}
ACCOUNT_FIELDS: dict[str, str] = {
    "day": N_("Day"),
    "followers": N_("Followers"),
    "new_followers": N_("New followers"),
    "lost_followers": N_("Lost followers"),
    "views": N_("Views (reads, plays)"),
    "likes": N_("Likes"),
    "comments": N_("Comments"),
    "shares": N_("Shares"),
    "saves": N_("Saves (收藏)"),
}
FIELDS: dict[ExportKind, dict[str, str]] = {
    ExportKind.POSTS: POST_FIELDS,
    ExportKind.ACCOUNT: ACCOUNT_FIELDS,
}
# A post needs its id or its link (either names it), and when it was published.
REQUIRED: dict[ExportKind, tuple[str, ...]] = {
    ExportKind.POSTS: ("published_at",),
    ExportKind.ACCOUNT: ("day",),
}

# Header names as the creator centres write them (normalised: lower case, no spaces, no
# unit in brackets), for the first guess; the first field that claims a column keeps it.
GUESSES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id",
        "笔记id",
        "作品id",
        "视频id",
        "稿件id",
        "bv号",
        "bvid",
        "avid",
        "文章id",
        "微博id",
        "mid",
        "内容id",
        "post_id",
        "note_id",
    ),
    "url": (
        "url",
        "link",
        "链接",
        "笔记链接",
        "作品链接",
        "视频链接",
        "稿件链接",
        "文章链接",
        "内容链接",
        "微博链接",
    ),
    "title": (
        "title",
        "text",
        "标题",
        "笔记标题",
        "作品名称",
        "作品标题",
        "作品",
        "视频标题",
        "视频描述",
        "稿件标题",
        "文章标题",
        "内容标题",
        "内容",
        "笔记内容",
        "微博内容",
        "微博正文",
        "描述",
    ),
    "published_at": (
        "published_at",
        "发布时间",
        "首次发布时间",
        "发表时间",
        "发文时间",
        "投稿时间",
        "创建时间",
        "群发时间",
        "时间",
        "日期",
        "date",
    ),
    "day": ("day", "date", "日期", "时间", "统计日期", "数据日期"),
    "views": (
        "views",
        "reads",
        "plays",
        "观看量",
        "观看数",
        "阅读量",
        "阅读数",
        "阅读次数",
        "阅读",
        "播放量",
        "播放数",
        "播放次数",
        "播放",
        "浏览量",
        "曝光量",
        "曝光",
        "观看",
        "总阅读量",
        "总播放量",
    ),
    "likes": (
        "likes",
        "点赞",
        "点赞数",
        "点赞量",
        "点赞次数",
        "赞",
        "赞同",
        "赞同数",
        "获赞",
        "获赞数",
    ),
    "comments": ("comments", "评论", "评论数", "评论量", "评论次数"),
    "shares": ("shares", "分享", "分享数", "分享量", "分享次数", "转发", "转发数", "转发量"),
    "saves": ("saves", "收藏", "收藏数", "收藏量", "收藏次数"),
    "wows": ("在看", "在看数", "在看次数"),
    "followers": (
        "followers",
        "粉丝数",
        "粉丝总数",
        "总粉丝数",
        "累计粉丝",
        "累计粉丝数",
        "累计关注人数",
        "关注总数",
    ),
    "new_followers": (
        "new_followers",
        "涨粉",
        "涨粉数",
        "新增粉丝",
        "新增粉丝数",
        "新增关注",
        "新增关注人数",
        "新关注人数",
    ),
    "lost_followers": (
        "lost_followers",
        "掉粉",
        "掉粉数",
        "取关",
        "取关粉丝",
        "取关粉丝数",
        "取消关注",
        "取消关注人数",
        "流失粉丝",
    ),
}
# Days as the creator centres write them: 2026/2/1, 2026.02.01, 2026年2月1日, 20260201.
_DAY = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))(?=$|[ T])")
_MISSING = frozenset({"", "-", "--", "—", "/", "n/a", "null"})


@dataclass(frozen=True)
class Preview:
    """The columns of a file and its first rows as text, for the mapping step."""

    columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PostRow:
    """One post of a post export, with its figures (a missing key: not in the file)."""

    line: int
    external_id: str
    url: str
    title: str
    published_at: datetime
    figures: dict[Metric, int]


@dataclass(frozen=True)
class DayRow:
    """One day of an account export, with its figures."""

    line: int
    day: date
    figures: dict[Metric, int]


def file_format(filename: str) -> str:
    """ "csv" or "xlsx" for ``filename``; a ``UserError`` for any other kind of file."""
    found = FILE_FORMATS.get(Path(filename).suffix.lower())
    if found is None:
        raise UserError(
            N_(
                "guanxi imports the creator centres' exports as .csv or .xlsx files. Export "
                "the data again in one of these formats."
            )
        )
    return found


def check_size(size: int) -> None:
    """Refuse a file larger than ``MAX_BYTES``."""
    if size > MAX_BYTES:
        raise UserError(
            N_("The file is larger than {limit} MB. Export a shorter period and import the parts."),
            limit=MAX_BYTES // (1024 * 1024),
        )


def guess_mapping(kind: ExportKind, columns: list[str]) -> dict[str, str]:
    """The first guess of which column holds each field, from the headers' names."""
    return mappings.guess({name: GUESSES.get(name, ()) for name in FIELDS[kind]}, columns)


def check_mapping(
    kind: ExportKind, mapping: Mapping[str, str], columns: list[str]
) -> dict[str, str]:
    """The mapping's chosen columns, refused when a required field has none or a column is
    not in the file."""
    chosen = {name: column for name, column in mapping.items() if name in FIELDS[kind] and column}
    for name in REQUIRED[kind]:
        if name not in chosen:
            raise UserError(
                N_("Choose the column that holds “{field}”: it is needed for every row."),
                field=FIELDS[kind][name],
            )
    if kind == ExportKind.POSTS and not ({"external_id", "url"} & chosen.keys()):
        raise UserError(
            N_(
                "Choose the column that holds the post's id or its link: each row's post is "
                "known by one of them."
            )
        )
    for column in chosen.values():
        if column not in columns:
            raise UserError(N_("The file has no column “{column}”."), column=column)
    return chosen


def _check_header(header: list[str]) -> None:
    if len(header) > MAX_COLUMNS:
        raise UserError(
            N_(
                "The file has {columns} columns; guanxi reads at most {limit}. Check that it is "
                "a creator centre's export."
            ),
            columns=len(header),
            limit=MAX_COLUMNS,
        )


def preview(path: Path, file_format: str) -> Preview:
    """The columns and first rows of the file."""
    columns: list[str] = []
    rows: list[dict[str, str]] = []

    def keep_header(header: list[str]) -> None:
        _check_header(header)
        columns.extend(header)

    for _line, record in table_rows(path, file_format, on_header=keep_header):
        if isinstance(record, RowError):
            continue
        rows.append({key: clean(value)[:120] for key, value in record.items()})
        if len(rows) >= PREVIEW_ROWS:
            break
    if not any(columns):
        raise UserError(
            N_(
                "guanxi found no columns in the file. Check that it is a CSV or "
                "an Excel file with a header row."
            )
        )
    return Preview(columns=columns, rows=rows)


def _too_long(line: int, record: Mapping[str, Any]) -> RowError | None:
    for column, value in record.items():
        if isinstance(value, str) and len(value) > MAX_CELL:
            return RowError(
                line,
                column or "",
                N_("A cell is longer than 2,000 characters: the row is probably broken."),
                N_("Check the quotes around this row's cells in the file."),
                value[:80],
            )
    return None


def _figure(record: Mapping[str, Any], column: str) -> int | None:
    """A figure; an empty cell or a dash is "not in the file"."""
    value = record.get(column)
    if value is None or (isinstance(value, str) and clean(value).lower() in _MISSING):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = clean(value).removesuffix("次").removesuffix("人")
    return read_count({column: value}, column)


def _figures(record: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[Metric, int]:
    found: dict[Metric, int] = {}
    for metric in Metric:
        column = mapping.get(metric.value)
        if column:
            value = _figure(record, column)
            if value is not None:
                found[metric] = value
    return found


def _time_cell(record: Mapping[str, Any], column: str) -> dict[str, Any]:
    """The cell of ``column`` with its day written as ISO (2026-02-01), for ``read_time``."""
    value = record.get(column)
    if isinstance(value, str):
        text = clean(value)
        found = _DAY.match(text)
        if found:
            year, month, day = found[1], found[2] or found[4], found[3] or found[5]
            value = f"{year}-{int(month):02d}-{int(day):02d}{text[found.end() :]}"
    return {column: value}


def _post(line: int, record: Mapping[str, Any], mapping: Mapping[str, str]) -> PostRow:
    url_column, id_column = mapping.get("url", ""), mapping.get("external_id", "")
    url = values.web_url(record.get(url_column), limit=1000) if url_column else ""
    external_id = clean(record.get(id_column)) if id_column else ""
    if not external_id and url:
        external_id = url  # a creator centre that gives only the link: the link names the post
    if not external_id:
        raise FieldError(
            id_column or url_column,
            N_("The post's id (or link) is missing."),
            N_("Fill in the post's id or link, or remove the row."),
        )
    if len(external_id) > 200:
        raise FieldError(
            id_column or url_column,
            N_("The post's id is longer than 200 characters."),
            N_("Check that the right column holds the id."),
            external_id,
        )
    title_column = mapping.get("title", "")
    title = values.text(clean(record.get(title_column)), limit=280) if title_column else ""
    column = mapping["published_at"]
    published_at = read_time(_time_cell(record, column), column, zone=CHINA)
    return PostRow(line, external_id, url, title, published_at, _figures(record, mapping))


def _day(line: int, record: Mapping[str, Any], mapping: Mapping[str, str]) -> DayRow:
    column = mapping["day"]
    moment = read_time(_time_cell(record, column), column, zone=CHINA)  # midnight, Beijing
    day = moment.astimezone(CHINA).date()
    field_value(column, lambda: values.day(day))
    return DayRow(line, day, _figures(record, mapping))


def parsed_rows(
    path: Path, file_format: str, *, kind: ExportKind, mapping: Mapping[str, str]
) -> Iterator[PostRow | DayRow | RowError]:
    """Every row of the file as a post or a day, or as the error that says what to fix;
    rows past ``MAX_ROWS`` are one error, not imported."""
    read = _post if kind == ExportKind.POSTS else _day
    count = 0
    for line, record in table_rows(path, file_format, on_header=_check_header):
        if isinstance(record, RowError):
            yield record
            continue
        count += 1
        if count > MAX_ROWS:
            yield RowError(
                line,
                "",
                N_(
                    "The file has more than 50,000 rows: this row and the ones after it were "
                    "not imported."
                ),
                N_("Export a shorter period and import the rest as another file."),
            )
            return
        broken = _too_long(line, record)
        if broken is not None:
            yield broken
            continue
        try:
            yield read(line, record, mapping)
        except FieldError as exc:
            yield exc.row_error(line)
        except (ValueError, OverflowError) as exc:
            yield RowError(
                line,
                "",
                N_("A value in this row cannot be read (a number or a time out of range)."),
                N_("Check the row's numbers and times; the other rows were imported."),
                str(exc)[:200],
            )
