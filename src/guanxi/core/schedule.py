"""The worker's schedule: every capability's periodic jobs, as data.

Each capability declares its jobs (`Capability.schedule`); ``guanxi worker`` runs them all
from one thread. Loading them also registers the capabilities' queue tasks with the consumer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guanxi.core.capability import capabilities, load_reference

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    """A job the worker runs every ``every_s`` seconds."""

    name: str
    every_s: float
    run: Callable[[], Any]


def load_schedule() -> tuple[ScheduledJob, ...]:
    """Every installed capability's scheduled jobs (importing registers their queue tasks)."""
    jobs: list[ScheduledJob] = []
    for capability in capabilities():
        if capability.schedule is not None:
            jobs.extend(load_reference(capability.schedule, tuple))
    return tuple(jobs)


def run_schedule(stop: threading.Event, schedule: tuple[ScheduledJob, ...]) -> None:
    """Run each scheduled job at its interval until ``stop`` is set (a worker's thread)."""
    next_run = dict.fromkeys((job.name for job in schedule), 0.0)
    while not stop.is_set():
        for job in schedule:
            if time.monotonic() >= next_run[job.name]:
                next_run[job.name] = time.monotonic() + job.every_s
                try:
                    job.run()
                except Exception:
                    # A failed tick (database restarting) must not stop the schedule.
                    log.exception("scheduled job %s failed", job.name)
        stop.wait(0.5)
