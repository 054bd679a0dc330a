"""The JSONL and CSV files of MediaCrawler (github.com/NanmiCoder/MediaCrawler).

MediaCrawler stores three kinds of records per platform: contents (posts: ``note_id``, or
``aweme_id`` / ``video_id`` on Douyin / Bilibili), comments (``comment_id`` with the
``note_id`` they answer) and creators (accounts with ``fans``). Authors come as
``user_id`` + ``nickname``, or, in the anonymised schema, as one opaque ``creator_hash``.
Times are Unix seconds or milliseconds in ``create_time`` (``create_date_time`` is the same
moment as Beijing time). Each record is recognised by its fields, so one file may mix them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guanxi.core import filelimits, values
from guanxi.core.errors import N_, UserError
from guanxi.listening.intake.importers.base import (
    FieldError,
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
    error_row,
    jsonl_objects,
    pick,
    raw_record,
    read_count,
    read_optional_int,
    read_row,
    read_time,
    read_url,
    require_id,
)

CONTENT_IDS = ("note_id", "aweme_id", "video_id", "content_id")
WHOLE_JSON_LIMIT = 50 * 1024 * 1024  # a .json array is read whole: only small ones
DETAIL_URLS = {
    "weibo": "https://m.weibo.cn/detail/{id}",
    "douyin": "https://www.douyin.com/video/{id}",
    "xiaohongshu": "https://www.xiaohongshu.com/explore/{id}",
    "bilibili": "https://www.bilibili.com/video/av{id}",
}


@dataclass(frozen=True)
class MediaCrawlerImporter:
    """Reads MediaCrawler contents, comments and creators (JSONL, a JSON array, or CSV)."""

    platform: str = "weibo"

    def rows(self, path: Path, *, progress: Progress | None = None) -> Iterator[ParsedRow]:
        """Every record of ``path``, as mentions (contents, comments) or authors (creators)."""
        if path.suffix.lower() == ".json":
            yield from self._json_array(path)
            return
        stream = TextStream(path)
        try:
            if path.suffix.lower() == ".csv":
                records: Iterator[tuple[int, Any]] = csv_dict_rows(stream, progress=progress)
            else:
                records = jsonl_objects(stream, progress=progress)
            for line, record in records:
                yield self._row(line, record)
        finally:
            stream.close()

    def _json_array(self, path: Path) -> Iterator[ParsedRow]:
        if path.stat().st_size > WHOLE_JSON_LIMIT:
            raise UserError(
                N_(
                    "This JSON file is too large to read at once. Set MediaCrawler's "
                    "SAVE_DATA_OPTION to jsonl (or csv) and import that file."
                )
            )
        try:
            items = filelimits.loads_json(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise UserError(
                N_("The file is not valid JSON ({error}). Export it again as JSON Lines."),
                error=str(exc),
            ) from exc
        if not isinstance(items, list):
            items = [items]
        for index, item in enumerate(items, start=1):
            if isinstance(item, dict):
                yield self._row(index, item)
            else:
                yield ParsedRow(
                    index,
                    error=RowError(
                        index,
                        "",
                        N_("The item is not a JSON object."),
                        N_("Export the data again with MediaCrawler."),
                    ),
                )

    def _row(self, line: int, record: Mapping[str, Any] | RowError) -> ParsedRow:
        if isinstance(record, RowError):
            return ParsedRow(line, error=record)
        return read_row(line, self._record, record)

    def _record(self, line: int, record: Mapping[str, Any]) -> ParsedRow:
        try:
            if "comment_id" in record:
                return ParsedRow(line, mentions=(self._comment(record),))
            if any(name in record for name in CONTENT_IDS):
                return ParsedRow(line, mentions=(self._content(record),))
            if "fans" in record or "follows" in record:
                return ParsedRow(line, authors=(_creator(record),))
        except FieldError as exc:
            return error_row(line, exc)
        return ParsedRow(
            line,
            error=RowError(
                line,
                "",
                N_("The record is neither a content, a comment nor a creator of MediaCrawler."),
                N_(
                    "Check that the file comes from MediaCrawler, or import it as CSV or "
                    "JSON Lines with a column mapping."
                ),
            ),
        )

    def _content(self, record: Mapping[str, Any]) -> ParsedMention:
        id_column = pick(record, *CONTENT_IDS)
        post_id = require_id(record, id_column)
        title, body = clean(record.get("title")), clean(record.get("content") or record.get("desc"))
        text = body if not title or title in body else f"{title}\n{body}".strip()
        url = values.web_url(
            record.get("note_url") or record.get("aweme_url") or record.get("video_url"),
            limit=400,
        )
        return ParsedMention(
            platform=check_platform(self.platform),
            external_id=post_id,
            text=check_text(text, "content"),
            posted_at=read_time(record, _time_column(record)),
            url=url or values.web_url(DETAIL_URLS.get(self.platform, "").format(id=post_id)),
            author=_author(record),
            likes=read_count(record, pick(record, "liked_count", "like_count")),
            comments=read_count(record, pick(record, "comments_count", "comment_count")),
            reposts=read_count(record, pick(record, "shared_count", "share_count")),
            raw=raw_record(record),
        )

    def _comment(self, record: Mapping[str, Any]) -> ParsedMention:
        comment_id = require_id(record, "comment_id")
        post_id = clean(record.get(pick(record, *CONTENT_IDS)))
        return ParsedMention(
            platform=check_platform(self.platform),
            external_id=comment_id,
            kind="comment",
            text=check_text(clean(record.get("content")), "content"),
            posted_at=read_time(record, _time_column(record)),
            url=values.web_url(DETAIL_URLS.get(self.platform, "").format(id=post_id))
            if post_id
            else "",
            author=_author(record),
            likes=read_count(record, pick(record, "comment_like_count", "like_count")),
            comments=read_count(record, "sub_comment_count"),
            reply_to_external_id=post_id[:120],
            raw=raw_record(record),
        )


def _time_column(record: Mapping[str, Any]) -> str:
    for name in ("create_time", "create_date_time", "time", "publish_time"):
        if clean(record.get(name)):
            return name
    return "create_time"


def _author(record: Mapping[str, Any]) -> ParsedAuthor | None:
    """The author of a content or comment: ``user_id``/``nickname`` or ``creator_hash``."""
    uid = clean(record.get("user_id"))
    if uid:
        return ParsedAuthor(
            external_id=uid[:120],
            name=clean(record.get("nickname"))[:120],
            url=read_url(record, "profile_url"),
        )
    anonymous = clean(record.get("creator_hash"))
    if anonymous:
        return ParsedAuthor(external_id=anonymous[:120])
    return None


def _creator(record: Mapping[str, Any]) -> ParsedAuthor:
    uid_column = "user_id" if clean(record.get("user_id")) else "creator_hash"
    uid = require_id(record, uid_column)
    followers = read_count(record, "fans") if clean(record.get("fans")) else None
    return ParsedAuthor(
        external_id=uid,
        name=clean(record.get("nickname"))[:120],
        verified_type=read_optional_int(record, "verified_type"),
        followers=followers,
        url=read_url(record, "profile_url"),
    )
