"""Listening's schedule (as data): the intake's jobs, then the alert check.

Each concept keeps its jobs and queue tasks in its own ``scheduled.py``; importing them here
registers the tasks with the worker's queue.
"""

from __future__ import annotations

from guanxi.core.schedule import ScheduledJob
from guanxi.listening.alerts import scheduled as alerts
from guanxi.listening.intake import scheduled as intake

SCHEDULE: tuple[ScheduledJob, ...] = (*intake.SCHEDULE, *alerts.SCHEDULE)
