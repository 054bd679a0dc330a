"""A corpus of hostile files, generated here, uploaded through the real pages.

For every importer format (weibo-crawler, MediaCrawler, CSV, JSON Lines, XLSX, market CSV
and JSON, the word list), in the encodings people send (GBK, GB18030, UTF-8 with BOM,
UTF-16), with NULs, huge fields, far dates, infinities, deep nesting and unclosed quotes:

- the upload route never answers 500;
- the good rows are kept and the bad ones reported with their line;
- every page (mentions list, dashboard, its exports) still renders afterwards.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.listening.intake.models import ImportRun, ImportStatus
from guanxi.listening.mentions import flows
from guanxi.listening.mentions.models import Mention
from tests.conftest import csrf_token
from tests.listening_data_support import FakePipeline

GOOD = "2024-05-01 12:00:00"
DEEP = "[" * 50_000 + "]" * 50_000
HUGE = "长" * 1_500_000  # past the CSV reader's 1,000,000-character field limit


@pytest.fixture(autouse=True)
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> FakePipeline:
    pipeline = FakePipeline()
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: pipeline)
    return pipeline


def upload(client: TestClient, name: str, content: bytes, file_format: str) -> httpx.Response:
    return client.post(
        "/w/acme/listen/import",
        data={
            "csrf_token": csrf_token(client),
            "format": file_format,
            "source": file_format,
            "platform": "weibo",
        },
        files={"file": (name, content)},
        follow_redirects=False,
    )


def map_columns(client: TestClient, location: str) -> httpx.Response:
    mapping = {
        "map_external_id": "id",
        "map_text": "text",
        "map_posted_at": "time",
        "map_likes": "likes",
    }
    return client.post(
        location, data={"csrf_token": csrf_token(client), **mapping}, follow_redirects=False
    )


def import_through_pages(
    client: TestClient, name: str, content: bytes, file_format: str
) -> httpx.Response:
    """Upload (and map, for generic formats); the run page the user lands on."""
    response = upload(client, name, content, file_format)
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    if location.endswith("/mapping"):
        page = client.get(location)
        assert page.status_code == 200, page.text[:500]
        response = map_columns(client, location)
        assert response.status_code == 303, response.text[:500]
        location = response.headers["location"]
    report = client.get(location)
    assert report.status_code == 200
    return report


def assert_pages_render(client: TestClient) -> None:
    for url in (
        "/w/acme/listen/mentions",
        "/w/acme/listen/dashboard",
        "/w/acme/listen/dashboard/posts",
        "/w/acme/listen/dashboard/export.csv",
        "/w/acme/listen/dashboard/export.xlsx",
        "/w/acme/listen",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])


def stored(db: Session) -> set[str]:
    db.expire_all()
    return set(db.scalars(select(Mention.external_id)))


def last_run(db: Session) -> ImportRun:
    db.expire_all()
    run = db.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(1)).one()
    assert run.status == ImportStatus.DONE, run.error
    return run


# Rows 3-9 are hostile, 2 and 10-11 good; the unclosed quote (line 9) swallows the rest of
# the file until it is read again, so lines 10 and 11 test the recovery.
CSV_ROWS = [
    ("g2", "好 good", GOOD, "1"),
    ("b3", "NUL \x00 in the text", GOOD, "1"),
    ("b4", HUGE[:30_000], GOOD, "1"),  # too long for a post
    ("b5", "far date", "0001-01-01T00:00:00+14:00", "1"),
    ("b6", "infinity", GOOD, "inf"),
    ("b7", "1e30 likes", GOOD, "1e30"),
    ("b8", "year 99999", "99999-01-01 00:00:00", "1"),
]


def hostile_csv(header: list[str], encoding: str) -> bytes:
    lines = [",".join(header)]
    lines += [",".join(row) for row in CSV_ROWS]
    lines.append(f'b9,unclosed quote,"{GOOD}')
    lines += [f"g10,好 after the quote,{GOOD},2", f"g11,好 last,{GOOD},3"]
    return ("\n".join(lines) + "\n").encode(encoding)


WEIBO_CRAWLER = ["id", "正文", "完整日期", "点赞数"]
MEDIACRAWLER = ["note_id", "content", "create_time", "liked_count"]
GENERIC = ["id", "text", "time", "likes"]


@pytest.mark.parametrize(
    ("file_format", "header", "encoding"),
    [
        ("weibo-crawler", WEIBO_CRAWLER, "gbk"),
        ("mediacrawler", MEDIACRAWLER, "utf-16"),
        ("csv", GENERIC, "gb18030"),
        ("csv", GENERIC, "utf-8-sig"),
    ],
)
def test_hostile_csv_files_keep_their_good_rows(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    file_format: str,
    header: list[str],
    encoding: str,
) -> None:
    client, _ = signed_in
    name = "1669879400.csv" if file_format == "weibo-crawler" else "contents.csv"
    report = import_through_pages(client, name, hostile_csv(header, encoding), file_format)
    assert {"g2", "g10", "g11"} <= stored(db)
    # b3 (a NUL in the text) is the value checks' call; it never costs another row
    assert not {"b4", "b5", "b6", "b7", "b8", "b9"} & stored(db)
    run = last_run(db)
    reported = {error.line for error in run.row_errors}
    assert {4, 5, 6, 7, 8, 9} <= reported, reported
    assert re.search(r'data-count="failed">\d+<', report.text)
    assert_pages_render(client)


def jsonl_rows(content_id: str, time_key: str) -> list[str]:
    def line(post_id: str, **fields: object) -> str:
        record = {
            content_id: post_id,
            "text": "好",
            "content": "好",
            time_key: GOOD,
            "likes": 1,
            "liked_count": 1,
            **fields,
        }
        return json.dumps(record, ensure_ascii=False)

    return [
        line("g1"),
        line("b2", likes=float("inf"), liked_count=float("inf")),  # json writes Infinity
        line("b3", likes=10**30, liked_count=10**30),
        line("b4", **{time_key: "0001-01-01T00:00:00+14:00"}),
        '{"' + content_id + '": "b5", "x": ' + DEEP + "}",
        '{"' + content_id + '": "b6", "likes": 1e400, "liked_count": 1e400}',
        "\x00\x00 not json",
        line("n8", text="好 \u0000", content="好 \u0000"),  # a NUL: the value checks decide
        line("g9"),
    ]


@pytest.mark.parametrize(
    ("file_format", "name", "content_id", "time_key"),
    [
        ("jsonl", "posts.jsonl", "id", "time"),
        ("mediacrawler", "contents.jsonl", "note_id", "create_time"),
    ],
)
def test_hostile_json_lines_keep_their_good_rows(
    signed_in: tuple[TestClient, Membership],
    db: Session,
    file_format: str,
    name: str,
    content_id: str,
    time_key: str,
) -> None:
    client, _ = signed_in
    content = ("\n".join(jsonl_rows(content_id, time_key)) + "\n").encode()
    import_through_pages(client, name, content, file_format)
    assert {"g1", "g9"} <= stored(db)
    assert not {"b2", "b3", "b4", "b5", "b6"} & stored(db)
    assert {2, 3, 4, 5, 6, 7} <= {error.line for error in last_run(db).row_errors}
    assert_pages_render(client)


def test_a_deep_mediacrawler_json_array_is_refused_with_a_message(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, _ = signed_in
    content = ('[{"note_id": "1", "x": ' + DEEP + "}]").encode()
    response = upload(client, "contents.json", content, "mediacrawler")
    assert response.status_code == 303
    report = client.get(response.headers["location"])
    assert report.status_code == 200
    assert "not valid JSON" in report.text
    assert_pages_render(client)


def hostile_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "text", "time", "likes"])
    sheet.append(["g2", "好", GOOD, 1])
    sheet.append(["b3", "far date", "0001-01-01T00:00:00+14:00", 1])
    sheet.append(["b4", "infinity", GOOD, "inf"])
    sheet.append(["b5", "huge", GOOD, 10**30])
    sheet.append(["b6", "x" * 30_000, GOOD, 1])
    sheet.append(["g7", "好 last", GOOD, 2])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_hostile_xlsx_keeps_its_good_rows(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, _ = signed_in
    import_through_pages(client, "posts.xlsx", hostile_xlsx(), "xlsx")
    assert stored(db) == {"g2", "g7"}
    assert {error.line for error in last_run(db).row_errors} == {3, 4, 5, 6}
    assert_pages_render(client)


def xlsx_bomb() -> bytes:
    """A real workbook whose shared strings are one 40 MB string: ~40 KB on disk."""
    plain = io.BytesIO()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "text", "time"])
    workbook.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            bomb.writestr(item, source.read(item))
        bomb.writestr("xl/sharedStrings.xml", "<sst><si><t>" + "A" * 40_000_000 + "</t></si></sst>")
    return out.getvalue()


def test_an_xlsx_bomb_is_refused_by_the_mapping_step(
    signed_in: tuple[TestClient, Membership],
) -> None:
    client, _ = signed_in
    content = xlsx_bomb()
    assert len(content) < 300_000
    response = upload(client, "bomb.xlsx", content, "xlsx")
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 400
    assert "unpacks to far more data" in page.text
    assert_pages_render(client)


# --- Market chart files (a chart is imported whole or not at all) -----------------------


def market_upload(client: TestClient, name: str, content: bytes) -> httpx.Response:
    return client.post(
        "/w/acme/market/import",
        data={"csrf_token": csrf_token(client), "format": "", "dataset": "Exports"},
        files={"file": (name, content)},
        follow_redirects=False,
    )


MARKET_CSV = (
    "date,store,country,chart,category,rank,app_id,app_name,publisher\n"
    "2013-07-26,google-play,CN,top-free,,1,com.tencent.mm,微信,腾讯\n"
    "2013-07-26,google-play,CN,top-free,,2,com.sina.weibo,微博,新浪\n"
)


@pytest.mark.parametrize("encoding", ["gbk", "utf-16"])
def test_market_csv_reads_the_encodings_listening_reads(
    signed_in: tuple[TestClient, Membership], encoding: str
) -> None:
    client, _ = signed_in
    response = market_upload(client, "charts.csv", MARKET_CSV.encode(encoding))
    assert response.status_code == 303, response.text[:500]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        (
            "charts.csv",
            (
                MARKET_CSV
                + '2013-07-26,google-play,CN,top-free,,3,a,"b,c\n'
                + "2013-07-26,google-play,CN,top-free,,4,d,e,f\n"
            ).encode(),
            "line",
        ),
        (
            "charts.csv",
            (
                MARKET_CSV + "2013-07-26,google-play,CN,top-free,,3,a," + "x" * 1_100_000 + ",c\n"
            ).encode(),
            "line",
        ),
        ("feed.json", ('{"feed": ' + DEEP + "}").encode(), "is not JSON"),
    ],
)
def test_hostile_market_files_are_refused_with_what_is_wrong(
    signed_in: tuple[TestClient, Membership], name: str, content: bytes, said: str
) -> None:
    client, _ = signed_in
    response = market_upload(client, name, content)
    assert response.status_code == 400
    assert said in response.text
    assert client.get("/w/acme/market").status_code == 200


# --- The word list ----------------------------------------------------------------------


def test_a_hostile_word_list_keeps_its_good_rows_and_exports_no_formula(
    signed_in: tuple[TestClient, Membership],
) -> None:
    client, _ = signed_in
    content = "\n".join(
        [
            "好词一,广告,warn",
            '=cmd|" /C calc"!A0,inject,block',
            "a," + "x" * 1_500_000 + ",warn",  # a 1.5 MB field
            '"unclosed,quote,warn',
            "nul\x00term,x,warn",
            "好词二,广告,block",
        ]
    ).encode("gb18030")
    page = client.post(
        "/w/acme/checks/words/import",
        data={"csrf_token": csrf_token(client)},
        files={"file": ("words.csv", content)},
    )
    assert page.status_code == 200, page.text[:300]
    assert len(page.text) < 1_000_000  # the huge line is not echoed back whole
    export = client.get("/w/acme/checks/words/export")
    assert export.status_code == 200
    assert "好词一" in export.text
    assert "好词二" in export.text
    lines = export.text.splitlines()
    assert not any(line.startswith(("=", "+", "-", "@")) for line in lines)
    assert any(line.startswith(("'=cmd", "\"'=cmd")) for line in lines)
