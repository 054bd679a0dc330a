"""The analytics jobs on the task queue, and their schedule (as data).

Every ``COLLECT_EVERY_S`` seconds the schedule queues one ``collect_channel`` job per
connected channel whose connector reads metrics; each job runs that channel's collection
(``measure.collect.collect_channel_id``, which ``guanxi analytics sync`` calls too): the
posts due for a snapshot, the account's days once a day, a few ranges of the backfill.
A job is retried once by the queue after 5 minutes, for a failure outside the platform (the
database restarting): collecting is idempotent, and the next tick would do the same work.
Platform errors are recorded on the channel's collection state, never raised.

Heavy imports (the collector, connectors, httpx) happen when a job runs, not at import.
"""

from __future__ import annotations

from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.worker import sessions, worker_id

huey = get_huey()

# A post's first snapshot is due an hour after publishing: a tick every 15 minutes takes
# it at most 15 minutes late. A tick with nothing due makes no call to the platform.
COLLECT_EVERY_S = 900.0


@huey.task(retries=1, retry_delay=300)  # type: ignore[untyped-decorator]  # huey ships no types
def collect_channel(channel_id: int) -> int:
    """Collect one channel's figures; returns how many snapshots and days were stored."""
    from guanxi.connectors.registry import connector_for  # noqa: PLC0415 - loaded when a job runs, not by every process that reads the schedule
    from guanxi.core.security import SecretBox  # noqa: PLC0415 - loaded when a job runs, not by every process that reads the schedule
    from guanxi.core.settings import get_settings  # noqa: PLC0415 - loaded when a job runs, not by every process that reads the schedule
    from guanxi.measure.collect import collect_channel_id  # noqa: PLC0415 - loaded when a job runs, not by every process that reads the schedule

    report = collect_channel_id(
        sessions(),
        channel_id,
        connector_for=connector_for,
        box=SecretBox.from_settings(get_settings()),
        owner=worker_id(),
    )
    return report.snapshots + report.days if report is not None else 0


def run_collect() -> list[int]:
    """Queue a collection job for every channel whose connector reads metrics; their ids."""
    from guanxi.connectors.registry import connector_for  # noqa: PLC0415 - loaded when a job runs, not by every process that reads the schedule
    from guanxi.measure.collect import measured_channel_ids  # noqa: PLC0415 - loaded when a job runs, not by every process that reads the schedule

    channel_ids = measured_channel_ids(sessions(), connector_for=connector_for)
    for channel_id in channel_ids:
        collect_channel(channel_id)
    return channel_ids


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("analytics-collect", COLLECT_EVERY_S, run_collect),
)
