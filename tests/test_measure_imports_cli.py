"""`guanxi analytics import`: a creator centre's export from the command line, through the
same service as the import page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.mappings.models import ColumnMapping
from guanxi.measure.imports.models import MetricsImport
from guanxi.measure.models import AccountDay, MeasuredPost
from tests.cli import run, said, upgraded

HEADER = "笔记标题,笔记链接,首次发布时间,观看量,点赞,评论,收藏,分享"
ROWS = [
    "春季新品,https://www.xiaohongshu.com/explore/64a1,2026-02-01 12:30:00,1.2万,356,48,120,15",
    "坏数字,https://www.xiaohongshu.com/explore/64a3,2026-02-04 10:00,很多,1,1,1,1",
]


def brand(cli_database: Engine, *platforms: str) -> None:
    upgraded(cli_database)
    with Session(cli_database) as db:
        workspace = Workspace(slug="brand", name="Brand", timezone="Asia/Shanghai")
        db.add(workspace)
        db.flush()
        for platform in platforms:
            db.add(
                Channel(
                    workspace_id=workspace.id,
                    connector="manual",
                    platform=platform,
                    external_id=f"brand-{platform}",
                    name=f"Brand {platform}",
                )
            )
        db.commit()


def test_import_reports_bad_rows_keeps_the_rest_and_remembers_the_mapping(
    cli_database: Engine, tmp_path: Path
) -> None:
    """Given a GBK post export with one bad row
    When `guanxi analytics import` reads it twice
    Then the good row is a post, the bad one is listed with its line and fix, the mapping
    is remembered once, and the second run changes nothing."""
    brand(cli_database, "xiaohongshu")
    export = tmp_path / "笔记数据.csv"
    export.write_bytes("\n".join([HEADER, *ROWS]).encode("gbk"))

    for _ in range(2):
        result = run(
            "analytics", "import", str(export), "--format", "posts", "--workspace", "brand"
        )
        assert result.exit_code == 0, said(result)
        output = said(result)
        assert "read 2 rows, 1 imported, 1 with errors" in output
        assert "line 3 [观看量]" in output

    with Session(cli_database) as db:
        assert db.scalar(select(func.count()).select_from(MeasuredPost)) == 1
        assert db.scalar(select(func.count()).select_from(ColumnMapping)) == 1
        assert db.scalar(select(func.count()).select_from(MetricsImport)) == 2
        post = db.scalars(select(MeasuredPost)).one()
        assert post.views == 12000
        assert post.snapshot_count == 1


def test_import_of_an_account_export_with_a_corrected_mapping(
    cli_database: Engine, tmp_path: Path
) -> None:
    """--map sets a field the guess cannot find; --channel picks one of several accounts."""
    brand(cli_database, "bilibili", "zhihu")
    export = tmp_path / "粉丝.csv"
    export.write_text("日期,粉丝总数,净增\n2026-02-01,500,7\n", encoding="utf-8-sig")

    result = run(
        "analytics",
        "import",
        str(export),
        "--format",
        "account",
        "--workspace",
        "brand",
        "--channel",
        "Brand zhihu",
        "--map",
        "new_followers=净增",
    )

    assert result.exit_code == 0, said(result)
    with Session(cli_database) as db:
        day = db.scalars(select(AccountDay)).one()
        assert (day.followers, day.new_followers) == (500, 7)
        channel = db.get(Channel, day.channel_id)
        assert channel is not None
        assert channel.platform == "zhihu"


def test_import_says_what_is_wrong(cli_database: Engine, tmp_path: Path) -> None:
    """Several accounts and no --channel, an unknown workspace, a mapping that cannot be
    guessed: each is an error that says what to do."""
    brand(cli_database, "bilibili", "zhihu")
    export = tmp_path / "x.csv"
    export.write_text("甲,乙\n1,2\n", encoding="utf-8")
    base = ("analytics", "import", str(export), "--format", "posts")

    several = run(*base, "--workspace", "brand")
    assert several.exit_code == 1
    assert "which account the file is of" in said(several)
    unknown = run(*base, "--workspace", "nobody")
    assert unknown.exit_code == 1
    assert "no workspace 'nobody'" in said(unknown)
    unmapped = run(*base, "--workspace", "brand", "--channel", "Brand zhihu")
    assert unmapped.exit_code == 1
    assert "Published at" in said(unmapped)
