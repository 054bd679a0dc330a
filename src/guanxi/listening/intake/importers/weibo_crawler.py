"""The CSV files of weibo-crawler (github.com/dataabc/weibo-crawler).

weibo-crawler writes one ``<user_id>.csv`` per crawled account (UTF-8 with a BOM) and one
``users.csv`` describing the accounts. A post row has no author column: its author is the
account the file is named after, described in ``users.csv`` (looked for next to the file
and one folder up, or given). A repost row carries the reposted post in the columns
prefixed ``源微博`` (with ``源用户id`` / ``源用户昵称`` for its author); that post is imported
too, and the repost points at it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from guanxi.core.errors import N_, UserError
from guanxi.listening.intake.importers.base import (
    FieldError,
    ParsedAuthor,
    ParsedMention,
    ParsedRow,
    Progress,
    RowError,
    TextStream,
    check_text,
    clean,
    csv_dict_rows,
    error_row,
    raw_record,
    read_count,
    read_optional_count,
    read_optional_int,
    read_row,
    read_time,
    read_url,
    require_id,
)

PLATFORM = "weibo"
POST_COLUMNS = ("id", "正文")
TIME_COLUMNS = ("完整日期", "日期")
USER_ID_COLUMNS = ("用户id", "id")
REPOST_PREFIX = "源微博"
NOT_ORIGINAL = frozenset({"false", "否", "0", "no"})
POSTS, USERS = "posts", "users"


@dataclass(frozen=True)
class WeiboCrawlerImporter:
    """Reads a weibo-crawler post CSV, or its ``users.csv`` (told apart by the header)."""

    users_path: Path | None = None

    def rows(self, path: Path, *, progress: Progress | None = None) -> Iterator[ParsedRow]:
        """Every row of ``path`` as mentions (post files) or authors (``users.csv``)."""
        kinds: list[str] = []  # set from the header, before the first row
        stream = TextStream(path)
        try:
            records = csv_dict_rows(
                stream, progress=progress, on_header=lambda header: kinds.append(_kind(header))
            )
            author = self._file_author(path)
            for line, record in records:
                if isinstance(record, RowError):
                    yield ParsedRow(line, error=record)
                elif kinds[0] == USERS:
                    yield _user(line, record)
                else:
                    yield read_row(line, _post_row, record, author)
        finally:
            stream.close()

    def _file_author(self, path: Path) -> ParsedAuthor | None:
        """The account a post file belongs to, from its name and ``users.csv``."""
        uid = path.stem.strip() if path.stem.strip().isdigit() else ""
        users = self.users_path or next(
            (
                p
                for p in (path.with_name("users.csv"), path.parent.parent / "users.csv")
                if p.is_file()
            ),
            None,
        )
        known = read_users(users) if users is not None else {}
        if uid:
            return known.get(uid, ParsedAuthor(external_id=uid))
        if len(known) == 1:  # the file was renamed, but users.csv names one account
            return next(iter(known.values()))
        return None


def read_users(path: Path) -> dict[str, ParsedAuthor]:
    """The accounts of a ``users.csv`` by user id (rows that cannot be read are skipped)."""
    authors: dict[str, ParsedAuthor] = {}
    stream = TextStream(path)
    try:
        for line, record in csv_dict_rows(stream, progress=None):
            if isinstance(record, dict):
                parsed = _user(line, record)
                if parsed.authors:
                    authors[parsed.authors[0].external_id] = parsed.authors[0]
    finally:
        stream.close()
    return authors


def _kind(header: list[str]) -> str:
    """``USERS`` for a users.csv, ``POSTS`` for a post file; refuses any other CSV."""
    if "用户id" in header or ("昵称" in header and "认证类型" in header):
        return USERS
    missing = [name for name in POST_COLUMNS if name not in header]
    if not any(name in header for name in TIME_COLUMNS):
        missing.append("完整日期")
    if missing:
        raise UserError(
            N_(
                "This is not a weibo-crawler CSV: the columns {columns} are missing. Choose "
                "the format of the file (or CSV with a column mapping)."
            ),
            columns=", ".join(missing),
        )
    return POSTS


def _user(line: int, record: Mapping[str, str]) -> ParsedRow:
    return read_row(line, _user_row, record)


def _user_row(line: int, record: Mapping[str, str]) -> ParsedRow:
    try:
        uid = require_id(record, "用户id" if "用户id" in record else "id")
        author = ParsedAuthor(
            external_id=uid,
            name=clean(record.get("昵称") or record.get("用户昵称"))[:120],
            verified_type=read_optional_int(record, "认证类型"),
            verified_reason=clean(record.get("认证信息"))[:400],
            followers=read_optional_count(record, "粉丝数"),
            url=read_url(record, "主页") or f"https://weibo.com/u/{uid}",
        )
    except FieldError as exc:
        return error_row(line, exc)
    return ParsedRow(line, authors=(author,))


def _split(value: str | None, separator: str) -> list[str]:
    return [part.strip() for part in clean(value).split(separator) if part.strip()]


def _time_column(record: Mapping[str, str], prefix: str = "") -> str:
    full = f"{prefix}完整日期"
    return full if clean(record.get(full)) else f"{prefix}日期"


def _post_row(line: int, record: dict[str, str], author: ParsedAuthor | None) -> ParsedRow:
    try:
        return ParsedRow(line, mentions=_post(record, author))
    except FieldError as exc:
        return error_row(line, exc)


def _post(record: dict[str, str], author: ParsedAuthor | None) -> tuple[ParsedMention, ...]:
    post_id = require_id(record, "id")
    text = check_text(clean(record.get("正文")), "正文")
    bid = clean(record.get("bid"))
    uid = author.external_id if author else ""
    record = {**record, "id": post_id}  # the raw record keeps every column, id without its tab
    raw = {
        "row": record,
        "pictures": _split(record.get("原始图片url"), ","),
        "videos": _split(record.get("视频url"), ";") + _split(record.get("Live Photo视频url"), ";"),
        "topics": _split(record.get("话题"), ","),
        "at_users": _split(record.get("@用户"), ","),
    }
    original = _reposted(record)
    mention = ParsedMention(
        platform=PLATFORM,
        external_id=post_id,
        text=text,
        posted_at=read_time(record, _time_column(record)),
        url=f"https://weibo.com/{uid}/{bid}"
        if uid and bid
        else f"https://m.weibo.cn/detail/{post_id}",
        author=author,
        likes=read_count(record, "点赞数"),
        comments=read_count(record, "评论数"),
        reposts=read_count(record, "转发数"),
        repost_of_external_id=original.external_id if original else "",
        raw=raw_record(raw),
    )
    return (mention, original) if original else (mention,)


def _reposted(record: Mapping[str, str]) -> ParsedMention | None:
    """The post a repost row reposts (its ``源微博`` columns), if this row is a repost."""
    if clean(record.get("是否原创")).lower() not in NOT_ORIGINAL:
        return None
    source_id = clean(record.get(f"{REPOST_PREFIX}id"))[:120]
    if not source_id:
        return None
    prefix = REPOST_PREFIX
    uid = clean(record.get("源用户id"))[:120]
    author = (
        ParsedAuthor(external_id=uid, name=clean(record.get("源用户昵称"))[:120]) if uid else None
    )
    return ParsedMention(
        platform=PLATFORM,
        external_id=source_id,
        text=check_text(clean(record.get(f"{prefix}正文")), f"{prefix}正文"),
        posted_at=read_time(record, _time_column(record, prefix)),
        url=f"https://m.weibo.cn/detail/{source_id}",
        author=author,
        likes=read_count(record, f"{prefix}点赞数"),
        comments=read_count(record, f"{prefix}评论数"),
        reposts=read_count(record, f"{prefix}转发数"),
        raw=raw_record({"row": {k: v for k, v in record.items() if k.startswith("源")}}),
    )
