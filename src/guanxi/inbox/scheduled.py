"""The inbox jobs on the task queue, and their schedule (as data).

Every ``SYNC_EVERY_S`` seconds the schedule queues one ``sync_channel`` job per connected
channel; each job reads that channel's new comments, mentions and messages
(``inbox.intake.service.sync_channel_id``, which ``guanxi inbox sync`` calls too). A job is
retried once by the queue after 30 s: reading is idempotent (the cursor and the unique key
make a second read insert nothing), and the next tick would do the same work anyway.

The jobs live here, at the top of the capability, whichever sub-package does the work: Huey
names a queued job after its module (``guanxi.inbox.scheduled.sync_channel``), and a job
queued before an upgrade must still find its function after it.

Heavy imports (the ingest service, connectors, httpx) happen when a job runs, not at import.
"""

from __future__ import annotations

from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.security import SecretBox
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions, worker_id

huey = get_huey()

# A Weibo sync costs three calls (comments, two mention feeds); every 3 minutes that is 60
# of the 150 calls an hour Weibo allows a user of a new app, leaving the rest to publishing.
SYNC_EVERY_S = 180.0


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


SCHEDULE: tuple[ScheduledJob, ...] = (ScheduledJob("inbox.sync", SYNC_EVERY_S, run_sync),)
