"""The listening alert job and its schedule (merged into ``listening.scheduled`` by the lead).

``run_alert_checks`` runs every five minutes from the worker's schedule thread and is not
retried: the next tick does the same work. Heavy imports happen when the job runs.
"""

from __future__ import annotations

import logging

from guanxi.core.schedule import ScheduledJob

log = logging.getLogger(__name__)

ALERT_CHECK_EVERY_S = 300.0


def run_alert_checks() -> int:
    """Check every active alert rule of every workspace; return how many alerts fired."""
    from guanxi.core.settings import get_settings
    from guanxi.listening.alerts import check_alerts
    from guanxi.publishing.tasks import sessions

    settings = get_settings()
    with sessions()() as db:
        fired = check_alerts(db, settings=settings)
        db.commit()
    if fired:
        log.info("listening alerts fired: %d", len(fired))
    return len(fired)


SCHEDULE_ALERTS: tuple[ScheduledJob, ...] = (
    ScheduledJob("listening-alerts", ALERT_CHECK_EVERY_S, run_alert_checks),
)
