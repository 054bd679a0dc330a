"""The scheduled-report jobs on the task queue, and their schedule (as data).

Every ``DISPATCH_EVERY_S`` the due schedules fire (one delivery each) and the due deliveries
are leased and queued, one send job each. A send is not retried by the queue
(``retries=0``): the delivery's row says when to try again (backoff, up to
``deliveries.MAX_ATTEMPTS``), so a queue retry could only send twice. Once an hour the files
past the retention period are deleted. Heavy imports (the report formats) happen when a job
runs.
"""

from __future__ import annotations

from guanxi.core.db import utcnow
from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions

huey = get_huey()

# A 09:00 report leaves by 09:01.
DISPATCH_EVERY_S = 60.0
EXPIRE_EVERY_S = 3600.0


@huey.task(retries=0)  # type: ignore[untyped-decorator]  # huey ships no types
def send_scheduled_report(delivery_id: int) -> str | None:
    """Make and e-mail one leased delivery (see deliveries.send_delivery)."""
    from guanxi.report.deliveries import send_delivery  # noqa: PLC0415 - loads when the job runs: the report formats, ~300 ms

    with sessions()() as db:
        status = send_delivery(db, delivery_id=delivery_id, settings=get_settings(), now=utcnow())
    return status.value if status is not None else None


def run_report_schedules() -> list[int]:
    """Fire the due schedules and queue a send for each due delivery; their ids."""
    from guanxi.report.deliveries import claim_due_deliveries, fire_due_schedules  # noqa: PLC0415 - loads when the job runs: the report formats, ~300 ms

    with sessions()() as db:
        fire_due_schedules(db, now=utcnow())
        claimed = claim_due_deliveries(db, now=utcnow())
    for delivery_id in claimed:
        send_scheduled_report(delivery_id)
    return claimed


def run_expire_files() -> int:
    """Delete the sent reports' files past ``GUANXI_REPORT_RETENTION_DAYS``; how many."""
    from guanxi.report.deliveries import expire_files  # noqa: PLC0415 - loads when the job runs: the report formats, ~300 ms

    with sessions()() as db:
        return expire_files(db, data_dir=get_settings().data_dir, now=utcnow())


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("report-schedules", DISPATCH_EVERY_S, run_report_schedules),
    ScheduledJob("report-expire-files", EXPIRE_EVERY_S, run_expire_files),
)
