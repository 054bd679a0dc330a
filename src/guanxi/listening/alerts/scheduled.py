"""The alert job on the task queue, and its schedule (as data).

Checking rules delivers webhooks, which may take seconds each, so it runs on the queue's
consumers, never in a web request nor in the schedule thread: every five minutes the schedule
queues ``check_alerts_job`` for all workspaces, and "Check now" queues it for one. The job is
not retried: the next tick does the same work, and the rules and alerts in the database say
what was checked and delivered. Heavy imports happen when the job runs.
"""

from __future__ import annotations

import logging

from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions

log = logging.getLogger(__name__)

huey = get_huey()

ALERT_CHECK_EVERY_S = 300.0
# A queued message names its job "<module>.<function>"; the alert check keeps the module
# name that checks already waiting in the queue carry, so they still run after an upgrade.
QUEUED_AS = "guanxi.listening.alert_jobs"


def run_alert_checks(workspace_id: int | None = None) -> int:
    """Check every active alert rule (of one workspace, or all); return how many fired."""
    from guanxi.listening.alerts.service import check_alerts  # noqa: PLC0415 - loads when the job runs: the alert rules' service, ~250 ms
    from guanxi.outbound.client import OutboundClient  # noqa: PLC0415 - loads when the job runs: the webhook client and httpx, ~100 ms

    settings = get_settings()
    with OutboundClient.from_settings(settings) as outbound, sessions()() as db:
        fired = check_alerts(db, settings=settings, workspace_id=workspace_id, outbound=outbound)
        db.commit()
    if fired:
        log.info("listening alerts fired: %d", len(fired))
    return len(fired)


@huey.task(retries=0, __module__=QUEUED_AS)  # type: ignore[untyped-decorator]  # huey: no types
def check_alerts_job(workspace_id: int | None = None) -> int:
    """Queue job: check the alert rules (see ``run_alert_checks``)."""
    return run_alert_checks(workspace_id)


def enqueue_alert_checks(workspace_id: int | None = None) -> None:
    """Queue a check of the rules (of one workspace, or all) for the worker."""
    check_alerts_job(workspace_id)


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("listening-alerts", ALERT_CHECK_EVERY_S, enqueue_alert_checks),
)
