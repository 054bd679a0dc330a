"""The importers read each source format exactly, and report broken rows without stopping."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from guanxi.core.errors import UserError
from guanxi.listening.intake.importers import importer_for
from guanxi.listening.intake.importers.base import ParsedRow
from guanxi.listening.intake.importers.generic import guess_mapping, preview
from tests.listening_data_support import FIXTURES, WEIBO_CRAWLER


def read(file_format: str, path: Path, **options: object) -> list[ParsedRow]:
    return list(importer_for(file_format, **options).rows(path))  # type: ignore[arg-type]


def test_weibo_crawler_post_file_with_its_users_csv() -> None:
    """Given weibo-crawler's 1669879400.csv (utf-8-sig, tab after ids) beside users.csv,
    the posts are read with their author, times, counts, pictures and videos."""
    rows = read("weibo-crawler", WEIBO_CRAWLER)
    first = rows[0].mentions[0]
    assert first.external_id == "4954001234567801"  # the trailing tab is gone
    assert first.posted_at == datetime(2024, 5, 1, 4, 30, tzinfo=UTC)  # 完整日期, Beijing time
    assert (first.likes, first.comments, first.reposts) == (120, 15, 3)
    assert first.raw["pictures"] == [
        "https://wx1.sinaimg.cn/large/a.jpg",
        "https://wx1.sinaimg.cn/large/b.jpg",
    ]
    assert first.raw["videos"] == [
        "https://f.video.weibocdn.com/a.mp4",
        "https://f.video.weibocdn.com/b.mp4",
    ]
    assert first.raw["topics"] == ["普罗旺斯桃红"]
    assert first.url == "https://weibo.com/1669879400/Oq1AbCdE1"
    assert first.author is not None
    assert (first.author.name, first.author.verified_type, first.author.followers) == (
        "爱喝酒的小王",
        -1,
        1280,
    )


def test_weibo_crawler_repost_brings_the_reposted_post() -> None:
    """A repost row (是否原创 False) points at its 源微博, imported with its own author."""
    repost, original = read("weibo-crawler", WEIBO_CRAWLER)[1].mentions
    assert repost.repost_of_external_id == original.external_id == "4954000000000001"
    assert original.text.startswith("夏天喝什么酒")
    assert original.author is not None
    assert original.author.name == "葡萄酒小课堂"
    assert original.likes == 300


def test_weibo_crawler_bad_rows_are_reported_and_the_rest_kept() -> None:
    rows = read("weibo-crawler", WEIBO_CRAWLER)
    errors = [row.error for row in rows if row.error]
    assert [(e.line, e.column, e.value) for e in errors] == [(4, "点赞数", "很多"), (5, "日期", "")]
    assert all(e.problem and e.fix for e in errors)
    assert sum(len(row.mentions) for row in rows) == 4
    assert rows[-1].mentions[0].likes == 12_000  # "1.2万"


def test_weibo_crawler_file_without_repost_columns_and_dates_only(tmp_path: Path) -> None:
    """Only the 18 base columns; 日期 alone (no 完整日期) gives midnight Beijing time."""
    path = tmp_path / "123.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "bid", "正文", "日期", "点赞数", "评论数", "转发数"])
        writer.writerow(["42\t", "b", "文本", "2024-06-01", "0", "0", "0"])
    (mention,) = read("weibo-crawler", path)[0].mentions
    assert mention.posted_at == datetime(2024, 5, 31, 16, tzinfo=UTC)
    assert mention.author is not None
    assert mention.author.external_id == "123"
    assert len(read("weibo-crawler", FIXTURES / "weibo_crawler" / "original_only.csv")) == 1


def test_weibo_crawler_users_csv_gives_authors() -> None:
    rows = read("weibo-crawler", FIXTURES / "weibo_crawler" / "users.csv")
    authors = {row.authors[0].external_id: row.authors[0] for row in rows}
    assert authors["6032174958"].verified_type == 0
    assert authors["6032174958"].followers == 250_000
    assert authors["6032174958"].verified_reason == "知名美食博主"


def test_weibo_crawler_refuses_another_file_with_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        read("weibo-crawler", path)
    assert "id, 正文, 完整日期" in str(error.value)


def test_gbk_file_is_read_and_undecodable_rows_reported(tmp_path: Path) -> None:
    """Given a GB18030 export (Excel on Chinese Windows), it reads; a row of broken bytes
    in a UTF-8 file becomes a row error while the others import."""
    gbk = tmp_path / "1.csv"
    gbk.write_bytes("id,正文,完整日期\n1\t,你好,2024-01-01 00:00:00\n".encode("gb18030"))
    assert read("weibo-crawler", gbk)[0].mentions[0].text == "你好"
    broken = tmp_path / "2.csv"
    broken.write_bytes(
        "id,正文,完整日期\n1,好,2024-01-01 00:00:00\n".encode()
        + b"2,\xff\xfe,2024-01-01 00:00:00\n3,ok,2024-01-01 00:00:00\n"
    )
    rows = read("weibo-crawler", broken)
    assert [bool(row.error) for row in rows] == [False, True, False]
    assert rows[1].error is not None
    assert rows[1].error.column == "正文"


def test_huge_field_and_unterminated_quote_are_row_errors(tmp_path: Path) -> None:
    path = tmp_path / "1.csv"
    huge = "长" * 30_000
    path.write_text(
        f"id,正文,完整日期\n1,{huge},2024-01-01 00:00:00\n2,ok,2024-01-01 00:00:00\n",
        encoding="utf-8",
    )
    rows = read("weibo-crawler", path)
    assert rows[0].error is not None
    assert "20,000" in rows[0].error.problem
    assert rows[1].mentions[0].external_id == "2"
    runaway = tmp_path / "2.csv"
    runaway.write_text(
        'id,正文,完整日期\n1,ok,2024-01-01 00:00:00\n2,"' + "x" * 1_100_000 + "\n",
        encoding="utf-8",
    )
    rows = read("weibo-crawler", runaway)
    assert rows[0].mentions
    assert rows[-1].error is not None


def test_empty_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "1.csv"
    path.write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        read("weibo-crawler", path)


@pytest.mark.parametrize("name", ["mediacrawler_contents.jsonl", "mediacrawler_contents.csv"])
def test_mediacrawler_contents_with_user_id_schema(name: str) -> None:
    rows = read("mediacrawler", FIXTURES / name)
    first = rows[0].mentions[0]
    assert first.external_id == "5000000000000001"
    assert first.posted_at == datetime(2024, 5, 1, 8, tzinfo=UTC)  # create_time, seconds
    assert rows[1].mentions[0].posted_at == datetime(2024, 5, 2, 8, tzinfo=UTC)  # milliseconds
    assert first.author is not None
    assert first.author.name == "杭州吃货"
    assert (first.likes, first.comments, first.reposts) == (12, 3, 1)
    assert first.raw["source_keyword"] == "桃红葡萄酒"


def test_mediacrawler_broken_lines_are_reported() -> None:
    rows = read("mediacrawler", FIXTURES / "mediacrawler_contents.jsonl")
    assert [(row.line, row.error.column) for row in rows if row.error] == [
        (3, ""),
        (4, "create_time"),
    ]


def test_mediacrawler_comments_and_creators() -> None:
    (comment,) = read("mediacrawler", FIXTURES / "mediacrawler_comments.jsonl")[0].mentions
    assert comment.kind == "comment"
    assert comment.reply_to_external_id == "5000000000000001"
    (creator,) = read("mediacrawler", FIXTURES / "mediacrawler_creators.jsonl")[0].authors
    assert (creator.external_id, creator.followers) == ("7000000001", 5600)


def test_mediacrawler_anonymised_schema_keys_authors_by_creator_hash() -> None:
    rows = read("mediacrawler", FIXTURES / "mediacrawler_anonymised.jsonl")
    post, comment = rows[0].mentions[0], rows[1].mentions[0]
    assert post.author is not None
    assert post.author.external_id == "c0ffee1234abcd5678"
    assert post.author.name == ""
    assert comment.author is not None
    assert comment.author.external_id == "beef00112233"


def test_mediacrawler_json_array(tmp_path: Path) -> None:
    path = tmp_path / "search_contents.json"
    lines = (FIXTURES / "mediacrawler_comments.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2), encoding="utf-8")
    assert read("mediacrawler", path)[0].mentions[0].external_id == "6000000000000001"


GENERIC_CSV_MAPPING = {
    "external_id": "编号",
    "text": "内容",
    "posted_at": "发布时间",
    "author_name": "作者",
    "author_followers": "粉丝",
    "likes": "赞",
}


def test_generic_csv_through_a_mapping() -> None:
    rows = read("csv", FIXTURES / "generic.csv", mapping=GENERIC_CSV_MAPPING)
    first = rows[0].mentions[0]
    assert (first.external_id, first.likes) == ("g-1", 5)
    assert first.author is not None
    assert (first.author.name, first.author.followers) == ("小张", 300)
    errors = [row.error for row in rows if row.error]
    assert [(e.line, e.column) for e in errors] == [(4, "发布时间"), (5, "")]


def test_generic_jsonl_flattens_nested_fields() -> None:
    mapping = {
        "external_id": "id",
        "text": "text",
        "posted_at": "time",
        "author_id": "user.id",
        "author_name": "user.name",
        "author_followers": "user.followers",
    }
    rows = read("jsonl", FIXTURES / "generic.jsonl", mapping=mapping)
    assert rows[0].mentions[0].author is not None
    assert rows[0].mentions[0].author.followers == 42
    assert rows[2].error is not None  # a JSON array on a line is not a post


def test_generic_xlsx_streams_the_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "posts.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "内容", "时间", "点赞数"])
    sheet.append(["x-1", "好喝", datetime(2024, 5, 1, 12, 0), 3])
    sheet.append([None, None, None, None])
    sheet.append(["x-2", "太贵", "2024-05-02 08:00", "oops"])
    book.save(path)
    found = preview(path, "xlsx")
    assert found.columns == ["id", "内容", "时间", "点赞数"]
    mapping = guess_mapping(found.columns)
    assert mapping == {"external_id": "id", "text": "内容", "posted_at": "时间", "likes": "点赞数"}
    rows = read("xlsx", path, mapping=mapping)
    assert rows[0].mentions[0].likes == 3
    assert rows[1].error is not None
    assert (rows[1].line, rows[1].error.column) == (4, "点赞数")


def test_mapping_without_required_fields_is_refused() -> None:
    with pytest.raises(UserError, match="post id"):
        read("csv", FIXTURES / "generic.csv", mapping={"text": "内容"})


def test_not_an_excel_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(UserError, match="Excel"):
        preview(path, "xlsx")


def test_the_header_decides_even_when_the_first_row_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "7.csv"
    path.write_text("id,正文,完整日期\n1,2\n2,ok,2024-01-01 00:00:00\n", encoding="utf-8")
    rows = read("weibo-crawler", path)
    assert rows[0].error is not None
    assert rows[1].mentions[0].external_id == "2"
    header_only = tmp_path / "8.csv"
    header_only.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(UserError, match="not a weibo-crawler CSV"):
        read("weibo-crawler", header_only)


def test_a_mapping_naming_a_column_the_file_lacks_is_refused_at_once() -> None:
    mapping = {**GENERIC_CSV_MAPPING, "text": "标题"}
    with pytest.raises(UserError, match="no column 标题"):
        read("csv", FIXTURES / "generic.csv", mapping=mapping)
