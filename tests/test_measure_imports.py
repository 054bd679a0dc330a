"""Imports of the creator centres' exports and the figures read off the app (the service).

Files are written as the creator centres write them: GBK or UTF-8 with a BOM, Chinese
headers, counts such as "1.2万", empty cells and dashes for figures not given.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.connectors.metrics import Metric
from guanxi.core.errors import UserError
from guanxi.measure.imports import reading
from guanxi.measure.imports import service as imports
from guanxi.measure.imports.models import ExportKind, ImportStatus, MetricsImport
from guanxi.measure.models import AccountDay, FoundBy, MeasuredPost, PostSnapshot

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
XHS_HEADER = "笔记标题,笔记链接,首次发布时间,观看量,点赞,评论,收藏,分享,涨粉"
XHS_ROWS = (
    (
        "春季新品 | 樱花限定,https://www.xiaohongshu.com/explore/64a1,2026-02-01 12:30:00,"
        "1.2万,356,48,120,15,9"
    ),
    "门店开业,https://www.xiaohongshu.com/explore/64a2,2026-02-03 18:00,2300,88,-,12,3,",
)


@pytest.fixture
def workspace(db: Session) -> Workspace:
    found = Workspace(slug="brand", name="Brand", timezone="Asia/Shanghai")
    db.add(found)
    db.commit()
    return found


@pytest.fixture
def channel(db: Session, workspace: Workspace) -> Channel:
    found = Channel(
        workspace_id=workspace.id,
        connector="manual",
        platform="xiaohongshu",
        external_id="brand-xhs",
        name="品牌小红书",
    )
    db.add(found)
    db.commit()
    return found


def csv_bytes(header: str, rows: tuple[str, ...] | list[str], encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def start(
    db: Session,
    tmp_path: Path,
    channel: Channel,
    content: bytes,
    *,
    kind: ExportKind = ExportKind.POSTS,
    name: str = "笔记数据.csv",
    as_of: date | None = None,
) -> MetricsImport:
    workspace = db.get(Workspace, channel.workspace_id)
    assert workspace is not None
    stored = imports.save_export(
        data_dir=tmp_path, workspace_id=workspace.id, filename=name, content=io.BytesIO(content)
    )
    return imports.start_import(
        db,
        workspace=workspace,
        channel_id=channel.id,
        kind=kind,
        filename=name,
        path=tmp_path / stored,
        storage_path=stored,
        created_by_id=None,
        as_of=as_of,
        now=NOW,
    )


def import_all(db: Session, tmp_path: Path, run: MetricsImport) -> MetricsImport:
    columns = imports.file_preview(run, data_dir=tmp_path).columns
    mapping = imports.proposed_mapping(db, run=run, columns=columns)
    mapping = imports.remember_mapping(db, run=run, columns=columns, mapping=mapping)
    done = imports.run_import(db, run=run, data_dir=tmp_path, mapping=mapping, now=NOW)
    db.commit()
    return done


def posts(db: Session) -> dict[str, MeasuredPost]:
    return {post.text_excerpt: post for post in db.scalars(select(MeasuredPost))}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "utf-8"])
def test_a_post_export_in_any_encoding_gives_posts_and_snapshots(
    db: Session, tmp_path: Path, channel: Channel, encoding: str
) -> None:
    """Given Xiaohongshu's note export saved as GBK, UTF-8 with BOM or plain UTF-8
    When it is imported with the guessed mapping
    Then each note is a measured post with its figures ("1.2万" is 12000, "-" not given)."""
    run = import_all(
        db, tmp_path, start(db, tmp_path, channel, csv_bytes(XHS_HEADER, XHS_ROWS, encoding))
    )

    assert run.status == ImportStatus.DONE, run.error
    assert (run.rows_read, run.rows_imported, run.rows_failed) == (2, 2, 0)
    found = posts(db)
    spring = found["春季新品 | 樱花限定"]
    assert spring.external_id == spring.url == "https://www.xiaohongshu.com/explore/64a1"
    assert spring.found_by == FoundBy.IMPORT
    assert spring.published_at == datetime(2026, 2, 1, 4, 30, tzinfo=UTC)  # Beijing time
    assert spring.figures() == {
        Metric.VIEWS: 12000,
        Metric.LIKES: 356,
        Metric.COMMENTS: 48,
        Metric.SAVES: 120,
        Metric.SHARES: 15,
        Metric.NEW_FOLLOWERS: 9,
    }
    opening = found["门店开业"]
    assert opening.comments is None
    assert opening.new_followers is None
    assert opening.snapshot_count == 1
    assert spring.last_observed_at == NOW


def test_the_guess_reads_the_creator_centres_headers() -> None:
    """Headers with units in brackets and the platforms' own names are recognised."""
    columns = ["稿件标题", "BV号", "发布时间", "播放量(次)", "点赞", "评论", "分享", "收藏", "投币"]
    assert reading.guess_mapping(ExportKind.POSTS, columns) == {
        "external_id": "BV号",
        "title": "稿件标题",
        "published_at": "发布时间",
        "views": "播放量(次)",
        "likes": "点赞",
        "comments": "评论",
        "shares": "分享",
        "saves": "收藏",
    }
    days = ["日期", "粉丝总数", "新增粉丝", "取消关注", "阅读量"]
    assert reading.guess_mapping(ExportKind.ACCOUNT, days) == {
        "day": "日期",
        "followers": "粉丝总数",
        "new_followers": "新增粉丝",
        "lost_followers": "取消关注",
        "views": "阅读量",
    }


def test_an_xlsx_export_imports_like_a_csv(db: Session, tmp_path: Path, channel: Channel) -> None:
    """Given a Bilibili export as an Excel workbook (times and numbers as Excel values)
    Then it imports as the CSV would."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["稿件标题", "BV号", "发布时间", "播放量", "点赞", "收藏"])
    sheet.append(["开箱视频", "BV1xx411c7mD", datetime(2026, 1, 5, 20, 0), 5400, 230.0, "1.1万"])
    content = io.BytesIO()
    book.save(content)

    run = import_all(
        db, tmp_path, start(db, tmp_path, channel, content.getvalue(), name="稿件数据.xlsx")
    )

    assert run.status == ImportStatus.DONE
    assert run.rows_imported == 1
    video = posts(db)["开箱视频"]
    assert video.external_id == "BV1xx411c7mD"
    assert video.figures() == {Metric.VIEWS: 5400, Metric.LIKES: 230, Metric.SAVES: 11000}


def test_bad_rows_are_reported_with_line_column_and_fix_and_the_rest_kept(
    db: Session, tmp_path: Path, channel: Channel
) -> None:
    """Given a file with an unreadable number, a date out of range and a missing id
    When it is imported
    Then those three rows are reported with their line and column, the good one is kept."""
    rows = [
        XHS_ROWS[0],
        "坏数字,https://www.xiaohongshu.com/explore/64a3,2026-02-04 10:00,很多,1,1,1,1,1",
        "太早,https://www.xiaohongshu.com/explore/64a4,1999-12-31 10:00,10,1,1,1,1,1",
        "没有链接,,2026-02-05 10:00,10,1,1,1,1,1",
    ]
    run = import_all(db, tmp_path, start(db, tmp_path, channel, csv_bytes(XHS_HEADER, rows)))

    assert (run.rows_read, run.rows_imported, run.rows_failed) == (4, 1, 3)
    assert [(e["line"], e["column"]) for e in run.row_errors] == [
        (3, "观看量"),
        (4, "首次发布时间"),
        (5, "笔记链接"),
    ]
    assert "before the year 2000" in run.row_errors[1]["problem"]
    assert all(error["fix"] for error in run.row_errors)
    assert list(posts(db)) == ["春季新品 | 樱花限定"]


def test_importing_the_same_file_twice_changes_nothing(
    db: Session, tmp_path: Path, channel: Channel
) -> None:
    """Given a post export imported once
    When the very same file is imported again, later
    Then the posts and snapshots are the same: no second snapshot of the same figures."""
    content = csv_bytes(XHS_HEADER, XHS_ROWS)
    import_all(db, tmp_path, start(db, tmp_path, channel, content))
    before = [(p.external_id, p.figures(), p.snapshot_count) for p in posts(db).values()]

    again = start(db, tmp_path, channel, content)
    again_observed = again.observed_at
    import_all(db, tmp_path, again)

    assert again_observed == NOW  # the first import's moment, reused
    assert [(p.external_id, p.figures(), p.snapshot_count) for p in posts(db).values()] == before
    assert db.scalar(select(func.count()).select_from(PostSnapshot)) == 2


def test_a_later_export_adds_a_snapshot_and_updates_the_latest_figures(
    db: Session, tmp_path: Path, channel: Channel
) -> None:
    """An export of a later day is the posts' next point on their curves."""
    import_all(
        db,
        tmp_path,
        start(db, tmp_path, channel, csv_bytes(XHS_HEADER, XHS_ROWS), as_of=date(2026, 2, 10)),
    )
    later = [XHS_ROWS[0].replace("1.2万", "1.5万")]
    import_all(
        db,
        tmp_path,
        start(db, tmp_path, channel, csv_bytes(XHS_HEADER, later), as_of=date(2026, 2, 20)),
    )

    spring = posts(db)["春季新品 | 樱花限定"]
    assert spring.views == 15000
    assert spring.snapshot_count == 2


def test_an_account_export_gives_days_and_is_idempotent(
    db: Session, tmp_path: Path, channel: Channel
) -> None:
    """Given an account export (one row per day, GBK), with a day given twice
    When it is imported twice
    Then each day is stored once, with the last row's figures."""
    header = "日期,粉丝总数,新增粉丝,取消关注,阅读量"
    rows = [
        "2026-02-01,10200,150,12,3400",
        "2026/02/02,10330,140,10,2900",
        "2026-02-02,10338,148,10,2950",
    ]
    content = csv_bytes(header, rows, "gbk")
    for _ in range(2):
        started = start(db, tmp_path, channel, content, kind=ExportKind.ACCOUNT, name="粉丝.csv")
        run = import_all(db, tmp_path, started)
        assert run.rows_imported == 3
        assert run.rows_failed == 0

    days = {d.day: d for d in db.scalars(select(AccountDay))}
    assert sorted(days) == [date(2026, 2, 1), date(2026, 2, 2)]
    assert days[date(2026, 2, 2)].figures() == {
        Metric.FOLLOWERS: 10338,
        Metric.NEW_FOLLOWERS: 148,
        Metric.LOST_FOLLOWERS: 10,
        Metric.VIEWS: 2950,
    }


def test_the_mapping_is_remembered_for_files_of_the_same_shape(
    db: Session, tmp_path: Path, channel: Channel
) -> None:
    """Given a file whose headers guanxi cannot guess, mapped by hand once
    When a second file with the same headers comes
    Then its proposed mapping is the one confirmed, not the guess."""
    header = "A列,发布,热度,喜欢"
    first = start(db, tmp_path, channel, csv_bytes(header, ["p1,2026-02-01,100,5"]))
    columns = imports.file_preview(first, data_dir=tmp_path).columns
    assert reading.guess_mapping(ExportKind.POSTS, columns) == {}
    chosen = {"external_id": "A列", "published_at": "发布", "views": "热度", "likes": "喜欢"}
    imports.remember_mapping(db, run=first, columns=columns, mapping=chosen)
    db.commit()

    second = start(db, tmp_path, channel, csv_bytes(header, ["p2,2026-02-02,300,7"]))
    assert imports.remembered_mapping(db, run=second, columns=columns) == chosen
    other = start(db, tmp_path, channel, csv_bytes(header + ",新列", ["p3,2026-02-02,3,7,1"]))
    other_columns = imports.file_preview(other, data_dir=tmp_path).columns
    assert imports.remembered_mapping(db, run=other, columns=other_columns) is None


def test_a_mapping_without_the_required_fields_is_refused(
    db: Session, tmp_path: Path, channel: Channel
) -> None:
    run = start(db, tmp_path, channel, csv_bytes(XHS_HEADER, XHS_ROWS))
    columns = imports.file_preview(run, data_dir=tmp_path).columns
    with pytest.raises(UserError, match="id or its link"):
        imports.remember_mapping(
            db, run=run, columns=columns, mapping={"published_at": "首次发布时间"}
        )
    with pytest.raises(UserError, match="Published at"):
        imports.remember_mapping(db, run=run, columns=columns, mapping={"url": "笔记链接"})
    wrong = {"url": "链接", "published_at": "首次发布时间"}
    with pytest.raises(UserError, match="no column"):
        imports.remember_mapping(db, run=run, columns=columns, mapping=wrong)


def test_the_limits_are_enforced_where_the_file_comes_in(
    db: Session, tmp_path: Path, channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too large, the wrong kind of file, too many columns, a cell too long, too many rows."""
    with pytest.raises(UserError, match="larger than 20 MB"):
        reading.check_size(reading.MAX_BYTES + 1)
    with pytest.raises(UserError, match=r"\.csv or \.xlsx"):
        start(db, tmp_path, channel, b"a,b\n1,2\n", name="export.json")
    wide = start(db, tmp_path, channel, csv_bytes(",".join(f"c{i}" for i in range(201)), []))
    with pytest.raises(UserError, match="201 columns"):
        imports.file_preview(wide, data_dir=tmp_path)

    monkeypatch.setattr(reading, "MAX_ROWS", 2)
    long_title = "长" * 2001
    rows = [XHS_ROWS[0], XHS_ROWS[1].replace("门店开业", long_title), XHS_ROWS[1]]
    run = import_all(db, tmp_path, start(db, tmp_path, channel, csv_bytes(XHS_HEADER, rows)))
    problems = [(e["line"], e["problem"][:30]) for e in run.row_errors]
    assert problems == [
        (3, "A cell is longer than 2,000 ch"),
        (4, "The file has more than 50,000 "),
    ]
    assert run.rows_imported == 1


def test_a_file_that_cannot_be_read_fails_the_run_with_the_reason(
    db: Session, tmp_path: Path, channel: Channel
) -> None:
    run = start(db, tmp_path, channel, b"not a workbook", name="export.xlsx")
    done = imports.run_import(
        db, run=run, data_dir=tmp_path, mapping={"url": "x", "published_at": "y"}, now=NOW
    )
    db.commit()
    db.expire_all()
    stored = db.get(MetricsImport, done.id)
    assert stored is not None
    assert stored.status == ImportStatus.FAILED
    assert "Excel workbook" in stored.error


# --- The figures read off the app -----------------------------------------------------


def test_the_quick_form_stores_a_snapshot_of_now(
    db: Session, workspace: Workspace, channel: Channel
) -> None:
    """Given a post's link and the figures read off the app
    Then the post is measured with those figures, and a second reading adds a point."""
    link = "https://www.xiaohongshu.com/explore/77b1"
    post = imports.record_figures(
        db,
        workspace=workspace,
        channel_id=channel.id,
        post=link,
        published_at=datetime(2026, 2, 28, 12, 0, tzinfo=UTC),
        figures={Metric.VIEWS: 800, Metric.LIKES: 40, Metric.SAVES: None},
        now=NOW,
    )
    assert post.url == link
    assert post.figures() == {Metric.VIEWS: 800, Metric.LIKES: 40}

    later = imports.record_figures(
        db,
        workspace=workspace,
        channel_id=channel.id,
        post=link,
        published_at=None,
        figures={Metric.VIEWS: 950},
        now=NOW.replace(hour=8),
    )
    assert later.id == post.id
    assert later.views == 950
    assert later.snapshot_count == 2
    assert imported_ids(db, workspace) == [post.id]


def imported_ids(db: Session, workspace: Workspace) -> list[int]:
    return [p.id for p in imports.imported_posts(db, workspace=workspace)]


@pytest.mark.parametrize(
    ("post", "published_at", "figures", "message"),
    [
        ("", NOW, {Metric.VIEWS: 1}, "Paste the post's link"),
        ("p9", NOW, {Metric.VIEWS: None}, "at least one figure"),
        ("p9", NOW, {Metric.VIEWS: -3}, "not a count"),
        ("p9", None, {Metric.VIEWS: 3}, "say when it was published"),
        ("p9", datetime(1999, 1, 1, tzinfo=UTC), {Metric.VIEWS: 3}, "before the year 2000"),
        ("p9", datetime(2027, 1, 1, tzinfo=UTC), {Metric.VIEWS: 3}, "in the future"),
    ],
)
def test_the_quick_form_says_what_to_fix(
    db: Session,
    workspace: Workspace,
    channel: Channel,
    post: str,
    published_at: datetime | None,
    figures: dict[Metric, int | None],
    message: str,
) -> None:
    with pytest.raises(UserError, match=message):
        imports.record_figures(
            db,
            workspace=workspace,
            channel_id=channel.id,
            post=post,
            published_at=published_at,
            figures=figures,
            now=NOW,
        )


def test_the_quick_form_refuses_another_workspaces_account(
    db: Session, workspace: Workspace, channel: Channel
) -> None:
    other = Workspace(slug="other", name="Other", timezone="Asia/Shanghai")
    db.add(other)
    db.commit()
    with pytest.raises(UserError, match="No such connected account"):
        imports.record_figures(
            db,
            workspace=other,
            channel_id=channel.id,
            post="p1",
            published_at=NOW,
            figures={Metric.VIEWS: 1},
            now=NOW,
        )
