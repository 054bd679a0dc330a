"""The analytics import pages: upload → mapping (pre-filled) → preview with problems →
import → report; the quick form for a post's figures; who may do what."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Role
from guanxi.channels.models import Channel
from guanxi.measure.imports import service
from guanxi.measure.imports.models import ExportKind, MetricsImport
from guanxi.measure.models import AccountDay, MeasuredPost
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

HEADER = "笔记标题,笔记链接,首次发布时间,观看量,点赞,评论,收藏,分享"
ROWS = [
    "春季新品,https://www.xiaohongshu.com/explore/64a1,2026-02-01 12:30:00,1.2万,356,48,120,15",
    "坏数字,https://www.xiaohongshu.com/explore/64a3,2026-02-04 10:00,很多,1,1,1,1",
]
EXPORT = ("\n".join([HEADER, *ROWS]) + "\n").encode("gbk")


@pytest.fixture
def channel(db: Session, signed_in: tuple[TestClient, Membership]) -> Channel:
    _, membership = signed_in
    found = Channel(
        workspace_id=membership.workspace_id,
        connector="manual",
        platform="xiaohongshu",
        external_id="brand-xhs",
        name="品牌小红书",
    )
    db.add(found)
    db.commit()
    return found


def upload(
    client: TestClient,
    channel: Channel,
    content: bytes = EXPORT,
    *,
    name: str = "笔记.csv",
    kind: str = "posts",
) -> httpx.Response:
    return client.post(
        "/w/acme/analytics/imports",
        data={
            "csrf_token": csrf_token(client),
            "channel_id": str(channel.id),
            "kind": kind,
            "as_of": "",
        },
        files={"file": (name, content)},
        follow_redirects=False,
    )


def test_upload_mapping_preview_import_and_the_next_file_imports_at_once(
    signed_in: tuple[TestClient, Membership], channel: Channel, db: Session
) -> None:
    """Given a GBK Xiaohongshu export
    When it is uploaded, its pre-filled mapping checked, then imported
    Then the preview shows the first row read and the bad one, the report shows 1 imported
    and 1 bad row with what to fix; the same shape next time skips the mapping step."""
    client, _ = signed_in
    first = upload(client, channel)
    assert first.status_code == 303
    location = first.headers["location"]
    assert location.endswith("/mapping")

    page = client.get(location)
    assert '<option value="观看量" selected>' in page.text  # guessed from the header
    assert 'data-count="good">1<' in page.text
    assert 'data-count="bad">1<' in page.text
    assert "春季新品" in page.text

    mapping = {
        "map_url": "笔记链接",
        "map_title": "笔记标题",
        "map_published_at": "首次发布时间",
        "map_views": "观看量",
        "map_likes": "点赞",
    }
    checked = client.post(
        location, data={"csrf_token": csrf_token(client), "action": "check", **mapping}
    )
    assert checked.status_code == 200
    assert '<option value="评论" selected>' not in checked.text  # the user's choice, not the guess

    done = client.post(
        location,
        data={"csrf_token": csrf_token(client), "action": "import", **mapping},
        follow_redirects=True,
    )
    assert 'data-count="imported">1<' in done.text
    assert 'data-count="failed">1<' in done.text
    assert "观看量" in done.text  # the bad row's column

    again = upload(client, channel)
    assert not again.headers["location"].endswith("/mapping")
    report = client.get(again.headers["location"])
    assert 'data-count="imported">1<' in report.text
    assert db.scalar(select(func.count()).select_from(MeasuredPost)) == 1
    listing = client.get("/w/acme/analytics/imports")
    assert listing.text.count("笔记.csv") == 2


def test_a_mapping_without_a_required_field_says_what_to_choose(
    signed_in: tuple[TestClient, Membership], channel: Channel
) -> None:
    client, _ = signed_in
    location = upload(client, channel).headers["location"]
    refused = client.post(
        location, data={"csrf_token": csrf_token(client), "action": "import", "map_url": "笔记链接"}
    )
    assert refused.status_code == 400
    assert "Published at" in refused.text


def test_an_account_export_in_chinese(
    signed_in: tuple[TestClient, Membership], channel: Channel, db: Session
) -> None:
    """The pages speak Chinese to a Chinese browser; an account export gives days."""
    client, _ = signed_in
    client.headers["Accept-Language"] = "zh-CN"
    content = "日期,粉丝总数,新增粉丝\n2026-02-01,500,7\n".encode("utf-8-sig")
    location = upload(client, channel, content, name="粉丝.csv", kind="account").headers["location"]
    page = client.get(location)
    assert "每一列是什么内容" in page.text
    client.post(
        location,
        data={
            "csrf_token": csrf_token(client),
            "action": "import",
            "map_day": "日期",
            "map_followers": "粉丝总数",
        },
    )
    assert db.scalar(select(AccountDay.followers)) == 500


def test_upload_errors_say_what_to_do(
    signed_in: tuple[TestClient, Membership], channel: Channel
) -> None:
    client, _ = signed_in
    wrong = upload(client, channel, b"{}", name="export.json")
    assert wrong.status_code == 400
    assert ".csv or .xlsx" in wrong.text
    broken = upload(client, channel, b"not a workbook", name="export.xlsx")
    assert broken.status_code == 400
    assert "Excel workbook" in broken.text
    empty = client.post(
        "/w/acme/analytics/imports",
        data={"csrf_token": csrf_token(client), "channel_id": str(channel.id), "kind": "posts"},
    )
    assert empty.status_code == 400
    assert "Choose the file to import." in empty.text


def test_the_quick_form_saves_figures_and_says_what_to_fix(
    signed_in: tuple[TestClient, Membership], channel: Channel, db: Session
) -> None:
    client, _ = signed_in
    form = {
        "csrf_token": csrf_token(client),
        "channel_id": str(channel.id),
        "post": "https://www.xiaohongshu.com/explore/77b1",
        "title": "门店开业",
        "published_at": "2026-02-28T20:00",
        "views": "1,200",
        "likes": "80",
    }
    saved = client.post("/w/acme/analytics/figures", data=form, follow_redirects=True)
    assert "The figures are saved." in saved.text
    assert "门店开业" in saved.text
    post = db.scalars(select(MeasuredPost)).one()
    assert (post.views, post.likes, post.comments) == (1200, 80, None)

    bad = client.post("/w/acme/analytics/figures", data={**form, "likes": "八十"})
    assert bad.status_code == 400
    assert "Likes: “八十” is not a count" in bad.text
    new_post = {**form, "post": "https://www.xiaohongshu.com/explore/88c2", "published_at": ""}
    undated = client.post("/w/acme/analytics/figures", data=new_post)
    assert undated.status_code == 400
    assert "say when it was published" in undated.text


def test_analysts_read_but_cannot_import_or_enter_figures(
    client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    owner = make_user("owner@acme.example")
    analyst = make_user("analyst@acme.example")
    make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    sign_in(client, analyst.email)
    assert client.get("/w/acme/analytics/imports").status_code == 200
    assert 'type="file"' not in client.get("/w/acme/analytics/imports").text
    assert client.get("/w/acme/analytics/figures").status_code == 200
    token = csrf_token(client)
    refused = client.post("/w/acme/analytics/figures", data={"csrf_token": token, "post": "x"})
    assert refused.status_code == 403
    # No file sent: a refused multipart upload's temporary file is left to the collector.
    upload_refused = client.post("/w/acme/analytics/imports", data={"csrf_token": token})
    assert upload_refused.status_code == 403


def test_another_workspaces_imports_accounts_and_posts_stay_out_of_reach(
    signed_in: tuple[TestClient, Membership],
    channel: Channel,
    db: Session,
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given workspace B with an account and an import of its own
    When acme's owner names B's import or account on acme's pages
    Then every answer is a 404 or a refusal, nothing of B is shown and nothing is stored."""
    client, _ = signed_in
    bob = make_user("bob@quokka.example")
    other = make_workspace("quokka", owner=bob)
    b_channel = Channel(
        workspace_id=other.id,
        connector="manual",
        platform="bilibili",
        external_id="quokka-bili",
        name="Quokka Bilibili",
    )
    db.add(b_channel)
    db.commit()
    b_run = service.start_import(
        db,
        workspace=other,
        channel_id=b_channel.id,
        kind=ExportKind.POSTS,
        filename="quokka-secret.csv",
        path=_export_file(tmp_dir(client)),
        storage_path="x.csv",
        created_by_id=None,
    )
    db.commit()

    for path in (
        f"/w/acme/analytics/imports/{b_run.id}",
        f"/w/acme/analytics/imports/{b_run.id}/mapping",
    ):
        assert client.get(path).status_code == 404
    mapping = {"csrf_token": csrf_token(client), "map_url": "笔记链接"}
    posted = client.post(f"/w/acme/analytics/imports/{b_run.id}/mapping", data=mapping)
    assert posted.status_code == 404
    assert client.get("/w/quokka/analytics/imports").status_code == 404
    assert "quokka-secret.csv" not in client.get("/w/acme/analytics/imports").text
    assert "Quokka Bilibili" not in client.get("/w/acme/analytics/figures").text

    foreign_upload = upload(client, b_channel)
    assert foreign_upload.status_code == 400
    assert "No such connected account" in foreign_upload.text
    foreign_figures = client.post(
        "/w/acme/analytics/figures",
        data={
            "csrf_token": csrf_token(client),
            "channel_id": str(b_channel.id),
            "post": "p1",
            "published_at": "2026-02-01T10:00",
            "views": "5",
        },
    )
    assert foreign_figures.status_code == 400
    assert db.scalar(select(func.count()).select_from(MeasuredPost)) == 0
    assert db.scalar(select(func.count()).select_from(MetricsImport)) == 1  # B's own


def tmp_dir(client: TestClient) -> Path:
    return Path(client.app.state.settings.data_dir)  # type: ignore[attr-defined]


def _export_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "quokka.csv"
    path.write_bytes(EXPORT)
    return path
