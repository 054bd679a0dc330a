"""Hostile values through the real paths: a file import, WeChat's push, connector ingest.

Each used to store a value that broke pages for the whole workspace (a year-9999 date, a
NUL byte, a ``javascript:`` link, a count of 1e400); now each is a row error, an item left
out or a 400, and the pages, the inbox and the exports keep working.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.base import FetchedAuthor, FetchedItem, FetchedKind
from guanxi.connectors.wechat_push import wechat_signature
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.inbox.intake.service import store_items
from guanxi.inbox.items.models import InboxItem
from guanxi.listening.intake import flows, service
from guanxi.listening.intake.importers.mediacrawler import MediaCrawlerImporter
from guanxi.listening.intake.models import ImportRowError, ImportRun, ImportStatus
from guanxi.listening.intake.pull import mentions_of
from guanxi.listening.mentions import flows as mention_flows
from guanxi.listening.mentions.models import Mention
from guanxi.listening.store import sql as sql_store
from guanxi.listening.topics import service as topics
from guanxi.listening.topics.models import MentionFacet
from guanxi.market.fetchers import ChartPayloadError
from guanxi.market.importers import parse_generic_csv
from guanxi.sandbox.wechat import DEMO_WECHAT_SERVER_TOKEN
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.inbox_ingest_support import connect_demo
from tests.listening_data_support import FakePipeline
from tests.listening_topics_support import add_mention

RECENT = int(time.time()) - 86_400  # yesterday, in Unix seconds

# MediaCrawler records as the probe wrote them; only n1 and n7 can be stored.
HOSTILE_RECORDS = [
    json.dumps({"note_id": "n1", "desc": "好喝的桃红", "create_time": RECENT, "liked_count": "12"}),
    '{"note_id": "n2", "desc": "far", "create_time": "9999-12-31T23:59:59+00:00"}',
    '{"note_id": "n3", "desc": "early", "create_time": "0001-01-01T00:00:00+14:00"}',
    json.dumps({"note_id": "n4", "desc": "x", "create_time": RECENT, "liked_count": "Infinity"}),
    f'{{"note_id": "n5", "desc": "x", "create_time": {RECENT}, "liked_count": 1e400}}',
    '{"user_id": "c1", "nickname": "c", "fans": 1e300}',
    json.dumps(
        {
            "note_id": "n7",
            "desc": "桃红\x00好",
            "create_time": RECENT,
            "note_url": "javascript:alert(document.cookie)",
        }
    ),
    json.dumps({"note_id": "n8", "desc": "x", "create_time": RECENT, "liked_count": "1e30"}),
]


@pytest.fixture(autouse=True)
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> FakePipeline:
    pipeline = FakePipeline()
    monkeypatch.setattr(mention_flows, "pipeline_for", lambda _db, workspace_id: pipeline)
    return pipeline


def hostile_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(HOSTILE_RECORDS) + "\n", encoding="utf-8")
    return path


def upload(client: TestClient, path: Path, *, platform: str = "weibo") -> Any:
    return client.post(
        "/w/acme/listen/import",
        data={
            "csrf_token": csrf_token(client),
            "format": "mediacrawler",
            "source": "probe",
            "platform": platform,
        },
        files={"file": (path.name, path.read_bytes())},
        follow_redirects=False,
    )


def test_hostile_rows_of_an_import_are_row_errors_and_every_page_still_renders(
    signed_in: tuple[TestClient, Membership], db: Session, tmp_path: Path
) -> None:
    """Given a file with a year-9999 date, a year-1 date, counts of Infinity, 1e400, 1e300
    and 1e30, a NUL byte and a javascript: link, when uploaded, then the two good rows are
    imported (the NUL removed, the link dropped), the six others are listed with what is
    wrong, and the mentions list, the dashboard, its posts and its XLSX export all work."""
    client, _ = signed_in
    response = upload(client, hostile_file(tmp_path))
    assert response.status_code == 303
    report = client.get(response.headers["location"])
    assert report.status_code == 200
    assert 'data-count="added">2<' in report.text
    assert 'data-count="failed">6<' in report.text
    assert "The time is in the future" in report.text
    assert "The time is before the year 2000" in report.text
    assert "larger than guanxi can store" in report.text
    assert db.scalar(select(ImportRun.status)) == ImportStatus.DONE

    stored = {m.external_id: m for m in db.scalars(select(Mention))}
    assert sorted(stored) == ["n1", "n7"]
    assert stored["n7"].text == "桃红好"
    assert stored["n7"].url == "https://m.weibo.cn/detail/n7"  # the platform's page instead

    for page in (
        "/w/acme/listen/mentions",
        "/w/acme/listen/dashboard",
        "/w/acme/listen/dashboard/posts?page=1",
        f"/w/acme/listen/mentions/{stored['n7'].id}",
    ):
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert 'href="javascript:' not in answer.text
    xlsx = client.get("/w/acme/listen/dashboard/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert "桃红好" in [row[5] for row in sheet.iter_rows(values_only=True)]


def test_an_unknown_platform_is_refused_by_the_form_and_is_a_row_error_in_a_file(
    signed_in: tuple[TestClient, Membership], db: Session, tmp_path: Path
) -> None:
    client, _ = signed_in
    refused = upload(client, hostile_file(tmp_path), platform="<script>myspace")
    assert refused.status_code == 400
    assert "does not know the platform" in refused.text
    assert db.scalar(select(func.count(Mention.id))) == 0

    rows = list(MediaCrawlerImporter(platform="myspace").rows(hostile_file(tmp_path)))
    first = rows[0].error
    assert first is not None
    assert (first.column, first.problem) == ("platform", "The platform is not one guanxi knows.")


def test_stored_values_from_before_the_checks_do_not_break_pages_or_exports(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given mentions stored before values were checked (year 9999, a javascript: link, a
    NUL byte where the database keeps one), the pages render them plainly and the XLSX
    export works."""
    client, membership = signed_in
    far = add_mention(
        db,
        workspace_id=membership.workspace_id,
        text="far",
        match=False,
        posted_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    )
    far.url = "javascript:alert(1)"
    nul = add_mention(db, workspace_id=membership.workspace_id, text="桃红好")
    db.commit()
    if db.get_bind().dialect.name == "sqlite":  # PostgreSQL refuses NUL in text
        # Written past guanxi's own guard, as an older version could store it.
        raw = db.connection().connection.driver_connection
        raw.execute(
            f"UPDATE {Mention.__tablename__} SET text = ? WHERE id = ?", ("桃红\x00好", nul.id)
        )
        db.commit()

    for page in (
        "/w/acme/listen/mentions",
        f"/w/acme/listen/mentions/{far.id}",
        f"/w/acme/listen/mentions/{nul.id}",
        "/w/acme/listen/dashboard",
        "/w/acme/listen/dashboard/posts?page=1",
    ):
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert 'href="javascript:' not in answer.text
    assert "9999-12-31 23:59 UTC" in client.get(f"/w/acme/listen/mentions/{far.id}").text
    xlsx = client.get("/w/acme/listen/dashboard/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert "桃红好" in [row[5] for row in sheet.iter_rows(values_only=True)]
    # The dashboards' full recount leaves the far row out instead of failing.
    db.add(
        MentionFacet(
            mention_id=far.id,
            workspace_id=membership.workspace_id,
            author_id=far.author_id,
            posted_at=far.posted_at,
            platform="weibo",
            sentiment="neutral",
            source_kind="personal",
            stage="none",
        )
    )
    db.flush()
    topics.refresh_rollup(db, workspace_id=membership.workspace_id)
    db.commit()
    assert client.get("/w/acme/listen/dashboard").status_code == 200


def test_the_import_run_ends_when_the_rollup_refresh_fails(
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace = make_workspace("acme", owner=make_user("owner@acme.example"))
    source = service.source_named(
        db, workspace_id=workspace.id, name="probe", file_format="mediacrawler"
    )
    path = hostile_file(tmp_path)
    run = flows.start_run(db, source=source, path=path)

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("rollup")

    # The SQL store recounts the import's days through this function.
    monkeypatch.setattr(sql_store, "refresh_rollup", broken)
    flows.import_file(
        db, run=run, path=path, importer=MediaCrawlerImporter(), pipeline=FakePipeline()
    )
    db.expire_all()
    assert run.status == ImportStatus.FAILED
    assert run.error == flows.ROLLUP_ERROR
    assert run.finished_at is not None
    assert db.scalar(select(func.count(Mention.id))) == 2  # the rows stay imported
    assert db.scalar(select(func.count(ImportRowError.id))) == 6


# --- WeChat push --------------------------------------------------------------------------


@pytest.fixture
def acme(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


@pytest.fixture
def channel(db: Session, acme: Workspace, settings: Settings) -> Channel:
    return connect_demo(db, workspace=acme, box=SecretBox.from_settings(settings), name="wechat_oa")


def signed() -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    signature = wechat_signature(DEMO_WECHAT_SERVER_TOKEN, timestamp, nonce)
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def message(create_time: object, content: str = "你好", msg_id: str = "1") -> str:
    return (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>oFan1</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>text</MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


@pytest.mark.parametrize(
    "body",
    [
        message(253402300000),
        message(10**17),
        message("soon"),
        message(int(time.time()) + 3 * 86_400),
        "<xml>" + "<a>" * 6000 + "</a>" * 6000 + "</xml>",
    ],
    ids=["year 9999", "10**17", "not a number", "in three days", "nested 6000 deep"],
)
def test_a_signed_push_with_values_that_cannot_be_stored_is_a_400_and_the_inbox_renders(
    client: TestClient, db: Session, channel: Channel, body: str
) -> None:
    answer = client.post(f"/hooks/wechat/{channel.id}", params=signed(), content=body)
    assert answer.status_code == 400
    assert db.scalar(select(func.count(InboxItem.id))) == 0
    good = client.post(
        f"/hooks/wechat/{channel.id}",
        params=signed(),
        content=message(int(time.time()), "桃红还有货吗", "2"),
    )
    assert good.text == "success"
    sign_in(client, "owner@acme.example")
    for page in ("/w/acme/inbox", "/w/acme/inbox/poll"):
        inbox = client.get(page)
        assert inbox.status_code == 200, page
    assert "桃红还有货吗" in client.get("/w/acme/inbox").text


# --- Connector ingest -----------------------------------------------------------------


def item(external_id: str, *, created_at: datetime, **fields: Any) -> FetchedItem:
    values: dict[str, Any] = {
        "kind": FetchedKind.COMMENT,
        "external_id": external_id,
        "text": "好",
        "author": FetchedAuthor(external_id="fan", name="fan"),
        "created_at": created_at,
    }
    return FetchedItem(**(values | fields))


def test_connector_items_that_cannot_be_stored_are_left_out_and_the_rest_kept(
    db: Session, channel: Channel
) -> None:
    now = datetime.now(UTC)
    items = [
        item("far", created_at=datetime(9999, 12, 31, tzinfo=UTC)),
        item("early", created_at=datetime(1970, 1, 1, tzinfo=UTC)),
        item("long", created_at=now, text="长" * 20_001),
        item(
            "ok",
            created_at=now - timedelta(hours=1),
            text="桃红\x00好",
            url="javascript:alert(1)",
            metrics={"likes": 10**30, "comments": 3},
            author=FetchedAuthor(
                external_id="fan",
                name="fan\x00",
                followers=10**20,
                url="javascript:x",
                avatar_url="https://a.example/x.png",
            ),
            raw={"score": float("inf"), "note": "a\x00b"},
        ),
    ]
    stored = store_items(db, channel=channel, items=items)
    db.commit()
    assert [i.external_id for i in stored] == ["ok"]
    kept = db.scalars(select(InboxItem)).one()
    assert (kept.text, kept.url, kept.author_name, kept.author_url) == ("桃红好", "", "fan", "")
    assert (kept.author_followers, kept.metrics) == (None, {"comments": 3})
    assert kept.author_avatar_url == "https://a.example/x.png"
    assert json.loads(json.dumps(kept.raw)) == {"score": None, "note": "ab"}


def test_pulled_posts_that_cannot_be_stored_are_left_out() -> None:
    now = datetime.now(UTC)
    posts = [
        item("far", kind=FetchedKind.POST, created_at=datetime(9999, 1, 1, tzinfo=UTC)),
        item("big", kind=FetchedKind.POST, created_at=now, metrics={"likes": 10**12}),
        item("ok", kind=FetchedKind.POST, created_at=now, url="javascript:x", text="a\x00b"),
    ]
    mentions = mentions_of(posts, "weibo")
    assert [(m.external_id, m.url, m.text) for m in mentions] == [("ok", "", "ab")]


@pytest.mark.parametrize("day", ["9999-12-31", "1970-01-01"])
def test_a_market_chart_of_a_day_out_of_range_is_refused_with_its_line(day: str) -> None:
    text = (
        "date,store,country,chart,rank,app_id,app_name\n"
        "2013-07-27,apple,IT,top-free,1,a,A\n"
        f"{day},apple,IT,top-free,1,b,B\n"
    )
    with pytest.raises(ChartPayloadError, match=r"line 3: date .* before 2000 or in the future"):
        parse_generic_csv(text)
