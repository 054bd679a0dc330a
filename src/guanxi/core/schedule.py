"""The worker's schedule: every capability's periodic jobs, as data.

Each capability declares its jobs (`Capability.schedule`); ``guanxi worker`` runs them all
from one thread. Loading them also registers the capabilities' queue tasks with the consumer.

Several workers (processes, machines) share one database: a job runs once per interval for
all of them, whichever worker claims its turn first in ``schedule_ticks`` (a conditional
update, as ``core.leases`` claims rows), unless it is marked ``every_worker`` (the publishing
dispatch: each worker claims its own share of the due posts, so more workers claim more).
Without that, N workers would sync every inbox N times, spending N times the platforms'
hourly quotas, and check every alert rule N times.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from guanxi.core.capability import capabilities, load_reference
from guanxi.core.db import Base, UTCDateTime, utcnow
from guanxi.core.upsert import insert_missing
from guanxi.core.worker import sessions as worker_sessions
from guanxi.core.worker import worker_id

log = logging.getLogger(__name__)

# How long a worker that lost a turn waits at least before asking again.
MIN_RECHECK_S = 0.5


@dataclass(frozen=True)
class ScheduledJob:
    """A job the worker runs every ``every_s`` seconds.

    ``every_worker``: each worker runs it at its interval (the job shares its work out
    through the database itself); otherwise one worker of all those on the database does.
    """

    name: str
    every_s: float
    run: Callable[[], Any]
    every_worker: bool = False


class ScheduleTick(Base):
    """When a scheduled job is next due, for every worker on this database."""

    __tablename__ = "schedule_ticks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ran_by: Mapped[str] = mapped_column(String(100), default="")  # core.worker.worker_id


def claim_turn(
    sessions: sessionmaker[Session], job: ScheduledJob, *, now: datetime, owner: str
) -> tuple[bool, datetime]:
    """Take ``job``'s turn when it is due for all workers; whether this call won it, and
    when the job is next due. Committed: a worker that dies after winning costs one turn."""
    due_next = now + timedelta(seconds=job.every_s)
    turn = {"next_run_at": due_next, "ran_at": now, "ran_by": owner[:100]}
    with sessions() as db:
        won = db.execute(
            update(ScheduleTick)
            .where(ScheduleTick.name == job.name, ScheduleTick.next_run_at <= now)
            .values(turn)
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) == 1:
            db.commit()
            return True, due_next
        if insert_missing(db, ScheduleTick, {"name": job.name, **turn}, unique=["name"]):
            db.commit()  # the job's first turn ever
            return True, due_next
        db.commit()
        stored = db.scalar(select(ScheduleTick.next_run_at).where(ScheduleTick.name == job.name))
    return False, stored or due_next


def load_schedule() -> tuple[ScheduledJob, ...]:
    """Every installed capability's scheduled jobs (importing registers their queue tasks)."""
    jobs: list[ScheduledJob] = []
    for capability in capabilities():
        if capability.schedule is not None:
            jobs.extend(load_reference(capability.schedule, tuple))
    return tuple(jobs)


def run_schedule(
    stop: threading.Event,
    schedule: tuple[ScheduledJob, ...],
    *,
    sessions: sessionmaker[Session] | None = None,
    owner: str = "",
) -> None:
    """Run each scheduled job at its interval until ``stop`` is set (a worker's thread);
    a job not marked ``every_worker`` only when this worker wins its turn (``claim_turn``)
    on ``sessions`` (default: the worker's)."""
    sessions = sessions or worker_sessions()
    owner = owner or worker_id()
    next_run = dict.fromkeys((job.name for job in schedule), 0.0)
    while not stop.is_set():
        for job in schedule:
            if time.monotonic() < next_run[job.name]:
                continue
            next_run[job.name] = time.monotonic() + job.every_s
            try:
                if not job.every_worker:
                    won, due = claim_turn(sessions, job, now=utcnow(), owner=owner)
                    if not won:  # another worker ran it: ask again when it is next due
                        wait = (due - utcnow()).total_seconds()
                        next_run[job.name] = time.monotonic() + min(
                            max(wait, MIN_RECHECK_S), job.every_s
                        )
                        continue
                job.run()
            except Exception:
                # A failed tick (database restarting) must not stop the schedule.
                log.exception("scheduled job %s failed", job.name)
        stop.wait(0.5)
