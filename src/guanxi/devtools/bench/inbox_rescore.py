"""``guanxi bench inbox-rescore``: how many inbox items the accurate tier re-scores per CPU
second, through the worker's own function (``guanxi.inbox.triage.rescore.rescore``).

A scratch database gets ``items`` made-up comments (the inbox benchmark's), scored at
ingest by the fast model (``moderate_new``); the accurate tier's models are loaded (timed
apart: a worker does it once), then one run re-scores them all in batches of 32, each
committed. CPU time is the process's (``time.process_time``), with one math thread as
``guanxi worker`` sets it, so "per CPU second" does not depend on the machine's other load;
wall time does.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from guanxi.accounts import service as accounts
from guanxi.accounts.models import UserCreate, WorkspaceCreate
from guanxi.channels.models import Channel
from guanxi.core.db import make_engine, make_session_factory, utcnow
from guanxi.devtools.bench.common import Progress, no_progress, scratch_database
from guanxi.devtools.bench.inbox import BENCH_PASSWORD
from guanxi.devtools.bench.inbox_data import NAMES, comment_text
from guanxi.inbox.items.models import InboxItem, ItemKind
from guanxi.inbox.triage.moderation import moderate_new
from guanxi.inbox.triage.rescore import rescore
from guanxi.inbox.triage.sentiment import AccurateSentiments

INGEST_BATCH = 500


@dataclass(frozen=True)
class RescoreBenchResult:
    """What one run measured."""

    backend: str
    items: int
    rescored: int
    changed: int
    scorer: str
    load_cpu_s: float  # loading the models, once per worker process
    cpu_s: float  # re-scoring, the process's CPU time
    wall_s: float
    mean_chars: float

    @property
    def per_cpu_s(self) -> float:
        """Items re-scored per CPU second."""
        return self.rescored / self.cpu_s if self.cpu_s else 0.0


def bench_text(rng: random.Random, min_chars: int) -> str:
    """A made-up comment, lengthened with more of them to at least ``min_chars`` characters
    (a Weibo post runs longer than a comment, and the embedding's cost grows with it)."""
    text = comment_text(rng)
    while len(text) < min_chars:
        text += comment_text(rng)
    return text


def run_rescore_bench(
    *,
    items: int,
    database_url: str = "",
    seed: int = 0,
    min_chars: int = 0,
    progress: Progress = no_progress,
) -> RescoreBenchResult:
    """Fill a scratch database with ``items`` fast-scored comments and re-score them all."""
    rng = random.Random(seed)  # noqa: S311 - reproducible texts, not secrets
    with (
        tempfile.TemporaryDirectory() as workdir,
        scratch_database(database_url, Path(workdir)) as url,
    ):
        engine = make_engine(url)
        factory = make_session_factory(engine)
        texts = [bench_text(rng, min_chars) for _ in range(items)]
        with factory() as db:
            owner = accounts.create_user(
                db,
                data=UserCreate(
                    email="bench@guanxi.example", name="Bench", password=BENCH_PASSWORD
                ),
            )
            workspace = accounts.create_workspace(
                db, data=WorkspaceCreate(slug="bench", name="Bench"), owner=owner
            )
            channel = Channel(
                workspace_id=workspace.id,
                connector="weibo",
                platform="weibo",
                external_id="brand-weibo",
                name="weibo brand",
            )
            db.add(channel)
            db.flush()
            now = utcnow()
            for start in range(0, items, INGEST_BATCH):
                batch = [
                    InboxItem(
                        workspace_id=workspace.id,
                        channel_id=channel.id,
                        platform="weibo",
                        kind=ItemKind.COMMENT,
                        external_id=f"c{number}",
                        text=texts[number],
                        author_external_id=f"fan-{number % 97}",
                        author_name=rng.choice(NAMES),
                        created_at=now - timedelta(seconds=number),
                    )
                    for number in range(start, min(start + INGEST_BATCH, items))
                ]
                db.add_all(batch)
                moderate_new(db, workspace_id=workspace.id, items=batch)
                db.commit()
                progress("ingest (fast model)", start + len(batch), items)
        scorer = AccurateSentiments()
        started = time.process_time()
        version = scorer.load()
        scorer(["好"])  # the embedding model itself loads on the first text
        load_cpu_s = time.process_time() - started
        with factory() as db:
            cpu, wall = time.process_time(), time.perf_counter()
            result = rescore(
                db,
                scorer=scorer,
                limit=items,
                progress=lambda done: progress("re-score (accurate tier)", done, items),
            )
            cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
        engine.dispose()
    return RescoreBenchResult(
        backend=engine.dialect.name,
        items=items,
        rescored=result.rescored,
        changed=result.changed,
        scorer=version,
        load_cpu_s=load_cpu_s,
        cpu_s=cpu_s,
        wall_s=wall_s,
        mean_chars=sum(map(len, texts)) / max(len(texts), 1),
    )
