"""The inbox jobs on the task queue, and their schedule (as data)."""

from __future__ import annotations

from guanxi.core.schedule import ScheduledJob

SCHEDULE: tuple[ScheduledJob, ...] = ()
