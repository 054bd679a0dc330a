"""The schedule of several workers on one database: a job runs once per interval for all of
them, unless each worker is meant to run it (the publishing dispatch)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.schedule import ScheduledJob, ScheduleTick, claim_turn, run_schedule
from guanxi.publishing.tasks import SCHEDULE as PUBLISHING_SCHEDULE

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def test_two_workers_run_a_shared_job_once_and_an_every_worker_job_each(
    session_factory: sessionmaker[Session],
) -> None:
    """Given two workers' schedule threads on one database, when both start at once, then
    the inbox-sync-like job ran once (by whichever won its turn) and the dispatch-like job
    once in each worker."""
    ran: Counter[str] = Counter()
    lock = threading.Lock()

    def counted(name: str) -> None:
        with lock:
            ran[name] += 1

    schedule = (
        ScheduledJob("sync", 3600, lambda: counted("sync")),
        ScheduledJob("dispatch", 3600, lambda: counted("dispatch"), every_worker=True),
    )
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=run_schedule,
            args=(stop, schedule),
            kwargs={"sessions": session_factory, "owner": f"machine-{n}:1:1"},
        )
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    stop.wait(1.5)  # three rounds of each schedule loop
    stop.set()
    for worker in workers:
        worker.join()
    assert ran == {"sync": 1, "dispatch": 2}
    with session_factory() as db:
        tick = db.get_one(ScheduleTick, "sync")
        assert tick.ran_by.startswith("machine-")
        assert tick.next_run_at - tick.ran_at == timedelta(hours=1)


def test_a_turn_is_taken_once_and_comes_back_when_due(
    session_factory: sessionmaker[Session],
) -> None:
    """The first claim of a job wins; another before the interval is over loses and learns
    when it is next due; once that time has come, one claim wins again."""
    job = ScheduledJob("report-schedules", 60, lambda: None)
    assert claim_turn(session_factory, job, now=T0, owner="a") == (True, T0 + timedelta(seconds=60))
    later = T0 + timedelta(seconds=30)
    assert claim_turn(session_factory, job, now=later, owner="b") == (
        False,
        T0 + timedelta(seconds=60),
    )
    due = T0 + timedelta(seconds=61)
    assert claim_turn(session_factory, job, now=due, owner="b") == (
        True,
        due + timedelta(seconds=60),
    )
    assert claim_turn(session_factory, job, now=due, owner="a")[0] is False


def test_only_the_dispatch_runs_in_every_worker() -> None:
    """Each worker claims its own batch of due posts, so more workers publish more; the
    sweep, which looks at every post, runs once for all."""
    every = {job.name: job.every_worker for job in PUBLISHING_SCHEDULE}
    assert every == {"dispatch": True, "sweep": False}
