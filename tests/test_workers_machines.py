"""Workers on several machines: two ``guanxi worker`` processes, each started as a machine
of its own (own process group, data and temporary directories), sharing one PostgreSQL
database and one Redis queue, publish every post once and store every mention once; and
``guanxi bench workers`` refuses what it cannot run before starting anything."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from guanxi.devtools.bench.common import BenchError
from guanxi.devtools.bench.workers import RoundResult, WorkersConfig, last_line, run_round
from tests.cli import cli_database, run, said
from tests.conftest import POSTGRES_URL
from tests.test_queue import redis_running

__all__ = ["cli_database"]  # the fixture, used by name

REDIS_URL = "redis://127.0.0.1:6379/11"  # the queue of this test alone


@pytest.mark.skipif(not POSTGRES_URL, reason="needs GUANXI_TEST_DATABASE_URL (PostgreSQL)")
@pytest.mark.skipif(not redis_running(), reason="needs Redis on 127.0.0.1:6379")
def test_two_worker_machines_publish_each_post_once_and_store_each_mention_once() -> None:
    """Given 12 posts on 4 sandbox Weibo accounts and 2 worker processes as two machines,
    when the posts fall due at once and 5 new mentions of each account are synced through
    the queue, then each post is live on the platform once and each mention is in the inbox
    once, with no error in either worker; and each channel's mentions were read once per
    sync (the schedule's first sync ran in one worker, not in both)."""
    config = WorkersConfig(
        database_url=POSTGRES_URL,
        queue_url=REDIS_URL,
        worker_counts=(2,),
        posts=12,
        accounts=4,
        mentions=5,
        threads=2,
        timeout_s=120,
    )
    result = run_round(config, 2)
    assert (result.published, result.duplicate_posts, result.lost_posts) == (12, 0, 0)
    assert (result.ingested, result.duplicate_items) == (20, 0)
    assert result.errors == []
    # Three syncs of each channel: the schedule's first, the untimed one and the timed one.
    assert result.mention_reads == 3 * 4


def test_the_summary_line_adds_up_every_round() -> None:
    one = RoundResult(workers=1, posts=10, published=10, publish_s=2.0, mentions=30)
    one.ingested, one.ingest_s = 30, 0.5
    two = RoundResult(workers=2, posts=10, published=9, publish_s=1.0, lost_posts=1)
    two.mentions, two.ingested, two.ingest_s, two.duplicate_items = 30, 29, 0.5, 1
    two.errors.append("worker 0: Traceback (most recent call last):")
    assert last_line([one, two]) == (
        "workers=1,2 publish_per_s=5.0,9.0 ingest_per_s=60.0,58.0 duplicates=1 lost=2 errors=1"
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"database_url": "sqlite:///x.db"}, "must be a PostgreSQL server"),
        ({"queue_url": ""}, "must be a Redis URL"),
        ({"worker_counts": (1, 0)}, "counts from 1 to 8"),
        ({"posts": 101, "accounts": 10}, "10 × --accounts"),
        ({"mentions": 501}, "from 1 to 500"),
    ],
)
def test_what_cannot_run_is_refused_with_what_to_give(change: dict[str, object], says: str) -> None:
    values: dict[str, object] = {
        "database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "queue_url": "redis://127.0.0.1:6379/12",
    }
    config = WorkersConfig(**(values | change))  # type: ignore[arg-type]
    with pytest.raises(BenchError, match=says):
        config.check()


def test_the_command_refuses_a_bad_list_of_worker_counts(cli_database: Engine) -> None:
    result = run(
        "bench",
        "workers",
        "--database-url",
        "postgresql+psycopg://x/y",
        "--queue-url",
        "redis://127.0.0.1:6379/12",
        "--workers",
        "1,two",
    )
    assert result.exit_code != 0
    assert "1,2,4" in said(result)
