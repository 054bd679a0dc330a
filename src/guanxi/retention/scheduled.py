"""The daily deletion of raw rows past each workspace's retention (``guanxi db prune`` runs
the same function)."""

from __future__ import annotations

import logging

from guanxi.core.schedule import ScheduledJob
from guanxi.core.worker import sessions
from guanxi.retention import service

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 24 * 3600.0


def run_prune() -> None:
    """Apply every workspace's retention; what went is in each workspace's audit log."""
    with sessions()() as db:
        for result in service.prune(db):
            if result.rows:
                log.info(
                    "retention: %s %s: %d rows", result.workspace_slug, result.kind, result.rows
                )


SCHEDULE: tuple[ScheduledJob, ...] = (ScheduledJob("retention.prune", PRUNE_EVERY_S, run_prune),)
