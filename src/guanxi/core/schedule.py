"""The worker's schedule: every capability's periodic jobs, as data.

Each capability lists its jobs in a ``SCHEDULE`` tuple (publishing in ``publishing.tasks``,
the others in their ``scheduled`` module); ``guanxi worker`` runs them all from one thread.
Importing those modules also registers their queue tasks with the consumer.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# Where each capability keeps its queue tasks and its SCHEDULE.
TASK_MODULES = (
    "guanxi.publishing.tasks",
    "guanxi.listening.scheduled",
    "guanxi.inbox.scheduled",
    "guanxi.market.scheduled",
)


@dataclass(frozen=True)
class ScheduledJob:
    """A job the worker runs every ``every_s`` seconds."""

    name: str
    every_s: float
    run: Callable[[], Any]


def load_schedule(modules: tuple[str, ...] = TASK_MODULES) -> tuple[ScheduledJob, ...]:
    """Import every capability's task module and return all their scheduled jobs."""
    jobs: list[ScheduledJob] = []
    for name in modules:
        jobs.extend(importlib.import_module(name).SCHEDULE)
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
