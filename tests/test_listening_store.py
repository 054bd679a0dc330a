"""Storing imports: dedupe, row reports, authors, enrichment with its model version."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.errors import UserError
from guanxi.listening.insight import service as dashboards
from guanxi.listening.intake import flows, service
from guanxi.listening.intake.importers import importer_for
from guanxi.listening.intake.importers.base import ParsedAuthor
from guanxi.listening.intake.models import ImportRun, ImportStatus
from guanxi.listening.mentions import flows as mention_flows
from guanxi.listening.mentions import service as mention_service
from guanxi.listening.mentions.models import Author, Mention, MentionEnrichment, OfficialRelation
from guanxi.listening.topics import service as topics
from guanxi.listening.topics.models import TopicMatch
from guanxi.nlp.sentiment import shipped_model_path
from tests.conftest import UserFactory, WorkspaceFactory
from tests.listening_data_support import FIXTURES, WEIBO_CRAWLER, FakePipeline


@pytest.fixture
def workspace(make_user: UserFactory, make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace("acme", owner=make_user("owner@acme.example"))


def run_import(
    db: Session,
    workspace: Workspace,
    path: Path,
    file_format: str = "weibo-crawler",
    pipeline: FakePipeline | None = None,
    batch_size: int = 1000,
    **options: object,
) -> ImportRun:
    source = service.source_named(
        db, workspace_id=workspace.id, name=file_format, file_format=file_format
    )
    run = flows.start_run(db, source=source, path=path)
    importer = importer_for(file_format, **options)  # type: ignore[arg-type]
    return flows.import_file(
        db, run=run, path=path, importer=importer, pipeline=pipeline, batch_size=batch_size
    )


def mention_count(db: Session, workspace: Workspace) -> int:
    query = select(func.count(Mention.id)).where(Mention.workspace_id == workspace.id)
    return db.scalar(query) or 0


def test_import_keeps_good_rows_reports_bad_ones_and_enriches(
    db: Session, workspace: Workspace
) -> None:
    """Given the weibo-crawler fixture (5 rows, 2 broken, 1 repost), when imported,
    then 4 mentions are stored with their authors and enrichment, and the report lists
    the 2 broken rows with line, column, problem and fix."""
    pipeline = FakePipeline()
    run = run_import(db, workspace, WEIBO_CRAWLER, pipeline=pipeline)
    assert run.status == ImportStatus.DONE
    assert (run.rows_read, run.rows_added, run.rows_skipped, run.rows_failed) == (5, 4, 0, 2)
    assert [(e.line, e.column) for e in run.row_errors] == [(4, "点赞数"), (5, "日期")]
    assert mention_count(db, workspace) == 4
    repost = db.scalar(select(Mention).where(Mention.external_id == "4954001234567802"))
    assert repost is not None
    assert repost.repost_of_external_id == "4954000000000001"
    assert repost.raw["row"]["id"] == "4954001234567802"
    assert repost.author is not None
    assert repost.author.followers == 1280
    enrichment = db.get(MentionEnrichment, repost.id)
    assert enrichment is not None
    assert enrichment.model_version == "fake-1"
    assert enrichment.posted_at == repost.posted_at
    # The pipeline was told the author's verified type.
    documents = [doc for batch in pipeline.batches for doc in batch]
    assert {doc.verified_type for doc in documents if doc.author_id == "1669879400"} == {-1}


def test_reimporting_the_same_file_changes_nothing(db: Session, workspace: Workspace) -> None:
    run_import(db, workspace, WEIBO_CRAWLER, pipeline=FakePipeline())
    before = db.execute(select(Mention.id, Mention.text, Mention.likes).order_by(Mention.id)).all()
    again = run_import(db, workspace, WEIBO_CRAWLER, pipeline=FakePipeline())
    assert (again.rows_added, again.rows_skipped) == (0, 4)
    after = db.execute(select(Mention.id, Mention.text, Mention.likes).order_by(Mention.id)).all()
    assert after == before
    assert db.scalar(select(func.count(Author.id))) == 2


def test_same_post_twice_in_one_batch_and_across_batches(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "9.csv"
    lines = ["id,正文,完整日期"] + [f"{n % 3}\t,文本{n},2024-01-01 00:00:00" for n in range(7)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = run_import(db, workspace, path, batch_size=2)
    assert (run.rows_added, run.rows_skipped) == (3, 4)
    texts = set(db.scalars(select(Mention.text)))
    assert texts == {"文本0", "文本1", "文本2"}  # the first one wins


def test_dedupe_is_per_workspace(
    db: Session, workspace: Workspace, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    other = make_workspace("other", owner=make_user("o@other.example"))
    run_import(db, workspace, WEIBO_CRAWLER)
    run = run_import(db, other, WEIBO_CRAWLER)
    assert run.rows_added == 4


def test_authors_are_upserted_without_erasing_what_was_known(
    db: Session, workspace: Workspace
) -> None:
    """users.csv first (followers, verified type), then posts that only name the author."""
    run_import(db, workspace, FIXTURES / "weibo_crawler" / "users.csv")
    renamed = ParsedAuthor(external_id="6032174958", name="新名字")
    service.store_batch(
        db, workspace_id=workspace.id, source_id=None, mentions=[], authors=[renamed]
    )
    author = db.scalar(select(Author).where(Author.external_id == "6032174958"))
    assert author is not None
    db.refresh(author)
    assert (author.name, author.followers, author.verified_type) == ("新名字", 250_000, 0)


def test_an_unreadable_file_fails_the_run_with_the_reason(
    db: Session, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UserError):
        run_import(db, workspace, path)
    run = db.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
    assert run is not None
    assert run.status == ImportStatus.FAILED
    assert "not a weibo-crawler CSV" in run.error


def test_mediacrawler_comments_link_to_their_post(db: Session, workspace: Workspace) -> None:
    run_import(db, workspace, FIXTURES / "mediacrawler_contents.jsonl", "mediacrawler")
    run_import(db, workspace, FIXTURES / "mediacrawler_comments.jsonl", "mediacrawler")
    comment = db.scalar(select(Mention).where(Mention.kind == "comment"))
    assert comment is not None
    post = mention_service.related_mentions(db, mention=comment)
    assert [m.external_id for m in post] == ["5000000000000001"]


def test_tracked_accounts_give_the_pipeline_its_hint(db: Session, workspace: Workspace) -> None:
    mention_service.track_account(
        db,
        workspace_id=workspace.id,
        platform="weibo",
        external_id="5821937460",
        name="普罗旺斯葡萄酒官方微博",
        relation=OfficialRelation.OWN,
    )
    pipeline = FakePipeline()
    run_import(
        db, workspace, FIXTURES / "mediacrawler_contents.jsonl", "mediacrawler", pipeline=pipeline
    )
    hints = {doc.author_id: doc.author_kind_hint for batch in pipeline.batches for doc in batch}
    assert hints == {"7000000001": "", "5821937460": "own"}
    brand = db.scalar(select(Author).where(Author.external_id == "5821937460"))
    assert brand is not None
    assert brand.kind == "marketer"


def test_reenrich_redoes_only_stale_rows(db: Session, workspace: Workspace) -> None:
    """Given mentions enriched by fake-1 and one never enriched, when re-enriching with
    fake-2, then all are fake-2, and a second run has nothing to do."""
    run_import(db, workspace, WEIBO_CRAWLER, pipeline=FakePipeline("fake-1"))
    run_import(db, workspace, FIXTURES / "mediacrawler_comments.jsonl", "mediacrawler")
    newer = FakePipeline("fake-2")
    assert mention_flows.count_stale(db, model_version="fake-2", workspace_id=workspace.id) == 5
    assert mention_flows.reenrich(db, workspace_id=workspace.id, pipeline=newer, batch_size=2) == 5
    versions = set(db.scalars(select(MentionEnrichment.model_version)))
    assert versions == {"fake-2"}
    assert mention_flows.reenrich(db, workspace_id=workspace.id, pipeline=newer) == 0


def test_list_mentions_filters_and_pages(db: Session, workspace: Workspace) -> None:
    run_import(db, workspace, WEIBO_CRAWLER, pipeline=FakePipeline())
    page = mention_service.list_mentions(db, workspace_id=workspace.id, per_page=3)
    assert (page.total, page.pages, len(page.mentions)) == (4, 2, 3)
    assert page.mentions[0].external_id == "4954001234567805"  # newest first
    positive = mention_service.list_mentions(
        db, workspace_id=workspace.id, filters=mention_service.MentionFilters(sentiment="positive")
    )
    assert {m.external_id for m in positive.mentions} == {"4954001234567801", "4954001234567805"}
    found = mention_service.list_mentions(
        db, workspace_id=workspace.id, filters=mention_service.MentionFilters(text="桃红葡萄酒")
    )
    assert [m.external_id for m in found.mentions] == ["4954000000000001"]


def test_end_to_end_with_the_real_pipeline(db: Session, workspace: Workspace) -> None:
    """The nlp helper's default pipeline enriches an import (no fake)."""
    if not shipped_model_path().exists():
        pytest.skip("the sentiment model is not trained yet (guanxi nlp train)")
    pipeline = mention_flows.pipeline_for(db, workspace_id=workspace.id)
    version = pipeline.model_version
    run_import(db, workspace, WEIBO_CRAWLER, pipeline=pipeline)  # type: ignore[arg-type]
    rows = db.scalars(select(MentionEnrichment)).all()
    assert len(rows) == 4
    assert {row.model_version for row in rows} == {version}
    assert {row.sentiment for row in rows} <= {"positive", "neutral", "negative"}


def test_an_import_is_matched_against_the_topic_queries_for_the_dashboards(
    db: Session, workspace: Workspace
) -> None:
    """Given a topic query for the brand, When a file is imported (enriched in batches),
    Then its mentions are matched and the dashboard counts them on their days."""
    topic = topics.create_topic(
        db, workspace_id=workspace.id, form=topics.TopicForm(name="桃红", query="桃红 OR 葡萄酒")
    )
    db.commit()
    run_import(db, workspace, WEIBO_CRAWLER, pipeline=FakePipeline(), batch_size=2)

    matched = db.scalars(select(TopicMatch.mention_id).where(TopicMatch.topic_id == topic.id))
    texts = {db.get_one(Mention, mention_id).text for mention_id in matched}
    assert texts
    assert all("桃红" in text or "葡萄酒" in text for text in texts)
    panel = dashboards.volume(
        db, workspace_id=workspace.id, filters=dashboards.DashboardFilters(topic_ids=(topic.id,))
    )
    assert sum(panel["series"][0]["data"]) == len(texts)
