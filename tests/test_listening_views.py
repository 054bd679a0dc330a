"""The listening pages: upload → mapping → report, mentions list and page, accounts."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role
from guanxi.listening.intake import scheduled, views
from guanxi.listening.intake.models import ImportRun, ListeningSource
from guanxi.listening.mentions import flows
from guanxi.listening.mentions.models import Mention, TrackedAccount
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.inbox_ui_support import make_channel
from tests.listening_data_support import FIXTURES, WEIBO_CRAWLER, FakePipeline


@pytest.fixture(autouse=True)
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> FakePipeline:
    pipeline = FakePipeline()
    monkeypatch.setattr(flows, "pipeline_for", lambda _db, workspace_id: pipeline)
    return pipeline


def upload(client: TestClient, path: Path, file_format: str, source: str = "") -> httpx.Response:
    with path.open("rb") as handle:
        return client.post(
            "/w/acme/listen/import",
            data={
                "csrf_token": csrf_token(client),
                "format": file_format,
                "source": source,
                "platform": "weibo",
            },
            files={"file": (path.name, handle.read())},
            follow_redirects=False,
        )


def test_overview_replaces_the_placeholder(signed_in: tuple[TestClient, Membership]) -> None:
    client, _ = signed_in
    page = client.get("/w/acme/listen")
    assert page.status_code == 200
    assert "Import posts" in page.text
    assert "Nothing collected yet." in page.text
    form = client.get("/w/acme/listen/import")
    assert form.status_code == 200
    assert 'type="file"' in form.text


def test_weibo_crawler_upload_imports_and_reports_bad_rows(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given the weibo-crawler fixture, when uploaded, then the report page shows 4 new
    mentions and the 2 broken rows (line, column, what is wrong, what to do)."""
    client, _ = signed_in
    response = upload(client, WEIBO_CRAWLER, "weibo-crawler")
    assert response.status_code == 303
    report = client.get(response.headers["location"])
    assert 'data-count="added">4<' in report.text
    assert 'data-count="failed">2<' in report.text
    assert "点赞数" in report.text
    assert "The count is not a number." in report.text
    assert "Write a whole number" in report.text
    mentions = client.get("/w/acme/listen/mentions")
    assert "收到货了，包装很好" in mentions.text
    assert "4 mentions" in mentions.text
    again = client.get(upload(client, WEIBO_CRAWLER, "weibo-crawler").headers["location"])
    assert 'data-count="added">0<' in again.text
    assert 'data-count="skipped">4<' in again.text
    assert db.scalar(select(ImportRun.storage_path).limit(1)).startswith("listening/uploads/")  # type: ignore[union-attr]


def test_generic_csv_goes_through_the_mapping_step_which_is_remembered(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, _ = signed_in
    first = upload(client, FIXTURES / "generic.csv", "csv", source="agency export")
    location = first.headers["location"]
    assert location.endswith("/mapping")
    page = client.get(location)
    assert '<option value="编号" selected>' in page.text  # guessed: 编号 → post id
    refused = client.post(location, data={"csrf_token": csrf_token(client), "map_text": "内容"})
    assert refused.status_code == 400
    assert "post id" in refused.text
    mapping = {
        "map_external_id": "编号",
        "map_text": "内容",
        "map_posted_at": "发布时间",
        "map_author_name": "作者",
        "map_likes": "赞",
    }
    done = client.post(location, data={"csrf_token": csrf_token(client), **mapping})
    assert 'data-count="added">2<' in done.text
    assert "昨天下午" in done.text
    source = db.scalar(select(ListeningSource).where(ListeningSource.name == "agency export"))
    assert source is not None
    assert source.column_mapping["text"] == "内容"
    second = client.get(
        upload(client, FIXTURES / "generic.csv", "csv", "agency export").headers["location"]
    )
    assert '<option value="作者" selected>' in second.text  # remembered, not guessed


def test_big_files_are_queued_and_followed(
    signed_in: tuple[TestClient, Membership], monkeypatch: pytest.MonkeyPatch, db: Session
) -> None:
    client, _ = signed_in
    queued: list[int] = []
    monkeypatch.setattr(views, "SYNC_IMPORT_BYTES", 10)
    monkeypatch.setattr(scheduled, "enqueue_import", queued.append)
    response = upload(client, WEIBO_CRAWLER, "weibo-crawler")
    page = client.get(response.headers["location"])
    assert len(queued) == 1
    assert 'hx-trigger="every 1s"' in page.text
    assert "Queued" in page.text
    assert db.scalar(select(Mention.id).limit(1)) is None


def test_wrong_format_and_missing_file_say_what_to_do(
    signed_in: tuple[TestClient, Membership],
) -> None:
    client, _ = signed_in
    wrong = upload(client, FIXTURES / "generic.csv", "weibo-crawler")
    report = client.get(wrong.headers["location"])
    assert "not a weibo-crawler CSV" in report.text
    assert "Failed" in report.text
    empty = client.post(
        "/w/acme/listen/import", data={"csrf_token": csrf_token(client), "format": "csv"}
    )
    assert empty.status_code == 400
    assert "Choose the file to import." in empty.text


def test_analysts_read_but_cannot_import(
    client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@acme.example")
    analyst = make_user("analyst@acme.example")
    make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    sign_in(client, analyst.email)
    assert client.get("/w/acme/listen/mentions").status_code == 200
    assert client.get("/w/acme/listen/import").status_code == 403


def test_mentions_filters_pages_and_a_mention_page(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, _ = signed_in
    upload(client, WEIBO_CRAWLER, "weibo-crawler")
    positive = client.get("/w/acme/listen/mentions?sentiment=positive")
    assert "2 mentions" in positive.text
    assert "价格有点贵" not in positive.text
    text = client.get("/w/acme/listen/mentions?q=夏天")
    assert "2 mentions" in text.text
    mention = db.scalar(select(Mention).where(Mention.external_id == "4954001234567801"))
    assert mention is not None
    page = client.get(f"/w/acme/listen/mentions/{mention.id}")
    assert "fake-1" in page.text
    assert "Live Photo视频url" in page.text
    assert client.get("/w/acme/listen/mentions/999999").status_code == 404
    paged = client.get("/w/acme/listen/mentions?page=2&sentiment=positive")
    assert "Page 2 of 1" in paged.text or "No mentions match." in paged.text


def test_tracked_accounts_are_added_and_removed(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    client, _ = signed_in
    added = client.post(
        "/w/acme/listen/accounts",
        data={
            "csrf_token": csrf_token(client),
            "name": "波尔多红酒官方微博",
            "external_id": "61900",
            "platform": "weibo",
            "relation": "competitor",
        },
        follow_redirects=True,
    )
    assert "波尔多红酒官方微博" in added.text
    assert "Competitor" in added.text
    refused = client.post(
        "/w/acme/listen/accounts", data={"csrf_token": csrf_token(client), "relation": "own"}
    )
    assert refused.status_code == 400
    account = db.scalar(select(TrackedAccount))
    assert account is not None
    client.post(
        f"/w/acme/listen/accounts/{account.id}/delete", data={"csrf_token": csrf_token(client)}
    )
    db.expire_all()
    assert db.scalar(select(TrackedAccount)) is None
    assert re.search("No official accounts yet", client.get("/w/acme/listen/accounts").text)


def test_the_queue_job_imports_a_queued_upload_once(
    signed_in: tuple[TestClient, Membership],
    monkeypatch: pytest.MonkeyPatch,
    db: Session,
    app: FastAPI,
) -> None:
    """Given a large upload queued for the worker, when the job runs (twice), then the
    file is imported once and the run page shows the report."""
    client, _ = signed_in
    queued: list[int] = []
    monkeypatch.setattr(views, "SYNC_IMPORT_BYTES", 10)
    monkeypatch.setattr(scheduled, "enqueue_import", queued.append)
    location = upload(client, WEIBO_CRAWLER, "weibo-crawler").headers["location"]
    factory = app.state.session_factory
    first = scheduled.run_import(queued[0], factory, data_dir=app.state.settings.data_dir)
    second = scheduled.run_import(queued[0], factory, data_dir=app.state.settings.data_dir)
    assert (first.rows_added, second.rows_added, second.rows_skipped) == (4, 4, 0)
    assert 'data-count="added">4<' in client.get(location).text


def test_a_search_is_offered_only_through_accounts_whose_platform_can_search(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a connected Weibo account (it has a search) and a Douyin one (none), the search
    form offers only the Weibo account, a search through it is added, and one posted
    through the Douyin account is refused with a message saying what to choose."""
    client, membership = signed_in
    assert "None of the connected accounts" in client.get("/w/acme/listen").text
    weibo = make_channel(db, membership.workspace, platform="weibo")
    douyin = make_channel(db, membership.workspace, platform="douyin")
    db.commit()
    page = client.get("/w/acme/listen")
    assert f'<option value="{weibo.id}">' in page.text
    assert f'<option value="{douyin.id}">' not in page.text
    refused = client.post(
        "/w/acme/listen/sources",
        data={
            "csrf_token": csrf_token(client),
            "name": "抖音",
            "channel_id": str(douyin.id),
            "query": "葡萄酒",
        },
    )
    assert refused.status_code == 400
    assert "whose platform offers a keyword search" in refused.text
    added = client.post(
        "/w/acme/listen/sources",
        data={
            "csrf_token": csrf_token(client),
            "name": "微博搜索",
            "channel_id": str(weibo.id),
            "query": "葡萄酒",
        },
        follow_redirects=True,
    )
    assert added.status_code == 200
    source = db.scalar(select(ListeningSource).where(ListeningSource.name == "微博搜索"))
    assert source is not None
    assert (source.channel_id, source.query) == (weibo.id, "葡萄酒")
