"""The publishing jobs on the task queue, and their schedule (as data).

Each job is a small function with an explicit retry policy; ``guanxi publish dispatch``
and ``guanxi publish sweep`` call the same functions the schedule runs. Retries:

- ``variant``: never retried by the queue (``retries=0``): the engine decides when
  to try again and writes it in the database, so a queue retry could only duplicate;
- ``follow_status``: up to 2 queue retries, 10 s apart (a status check is read-only);
- the scheduled runs are not retried: the next tick does the same work.

Heavy imports (the engine, connectors, httpx) happen when a job runs, not at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guanxi.core.capability import capabilities
from guanxi.core.db import utcnow
from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.worker import sessions, worker_id

if TYPE_CHECKING:
    from guanxi.publishing.sweep import SweepReport

huey = get_huey()

DISPATCH_BATCH = 200


def preload() -> None:
    """Import what the jobs run, in the calling (main) thread, before workers start."""
    capabilities()  # every model, so that the mappers are complete
    import guanxi.publishing.engine  # noqa: PLC0415 - what preload is for: the engine, ~400 ms, not at import (test_queue)
    import guanxi.publishing.sweep  # noqa: F401, PLC0415 - what preload is for (test_queue)


@huey.task(retries=0)  # type: ignore[untyped-decorator]  # huey ships no types
def variant(variant_id: int) -> str | None:
    """Publish one claimed variant (see engine.execute_variant)."""
    from guanxi.connectors.registry import connector_for  # noqa: PLC0415 - loads when the job runs: connectors and httpx, ~80 ms (test_queue)
    from guanxi.publishing.engine import execute_variant  # noqa: PLC0415 - loads when the job runs: the engine, ~400 ms (test_queue)

    state = execute_variant(
        sessions(), variant_id, connector_for=connector_for, now=utcnow(), worker_id=worker_id()
    )
    return str(state) if state else None


@huey.task(retries=2, retry_delay=10)  # type: ignore[untyped-decorator]
def follow_status(variant_id: int) -> str | None:
    """Ask the platform where an accepted publish stands (see sweep.check_status)."""
    from guanxi.connectors.registry import connector_for  # noqa: PLC0415 - loads when the job runs: connectors and httpx, ~80 ms (test_queue)
    from guanxi.publishing.sweep import check_status  # noqa: PLC0415 - loads when the job runs: the sweep and engine, ~400 ms (test_queue)

    state = check_status(
        sessions(), variant_id, connector_for=connector_for, now=utcnow(), worker_id=worker_id()
    )
    return str(state) if state else None


def run_dispatch(limit: int = DISPATCH_BATCH) -> list[int]:
    """Claim the due variants and queue a publish job for each; return their ids."""
    from guanxi.publishing.engine import dispatch_due  # noqa: PLC0415 - loads when the job runs: the engine, ~400 ms (test_queue)

    claimed = dispatch_due(sessions(), now=utcnow(), limit=limit, worker_id=worker_id())
    for variant_id in claimed:
        variant(variant_id)
    return claimed


def run_sweep() -> SweepReport:
    """Sweep once and queue the status checks that are due."""
    from guanxi.publishing.sweep import sweep  # noqa: PLC0415 - loads when the job runs: the sweep and engine, ~400 ms (test_queue)

    report = sweep(sessions(), now=utcnow())
    for variant_id in report.status_due:
        follow_status(variant_id)
    return report


SCHEDULE: tuple[ScheduledJob, ...] = (
    # Each worker claims its own batch (FOR UPDATE SKIP LOCKED): more workers, more claimed.
    ScheduledJob("dispatch", 5.0, run_dispatch, every_worker=True),
    ScheduledJob("sweep", 60.0, run_sweep),
)
