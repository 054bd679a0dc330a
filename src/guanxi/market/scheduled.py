"""The market jobs on the task queue, and their schedule (as data).

Every hour the schedule queues one ``snapshot_chart`` job per configured chart that has
no snapshot for today yet (or a failed one not given up on): so each chart is fetched once
a day, and a chart whose fetch failed is tried again. Retries:

- ``snapshot_chart``: up to 3 queue retries, 5 minutes apart, when the store was
  unreachable or sent a bad payload (the failure is recorded on that chart's row first);
  after that, the next hourly tick tries again, up to ``collect.MAX_ATTEMPTS_PER_DAY``;
- the hourly tick itself is not retried: the next tick does the same work.

``guanxi charts fetch`` runs the same ``collect`` functions synchronously. Heavy imports
(httpx, the fetchers) happen when a job runs, not at import.
"""

from __future__ import annotations

from guanxi.core.db import session_scope, utcnow
from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions
from guanxi.market.models import Chart, Store

huey = get_huey()

TICK_S = 3600.0
RETRIES = 3
RETRY_DELAY_S = 300


class SnapshotFailedError(RuntimeError):
    """A chart could not be fetched; raised so that the queue retries the job."""


def snapshot_chart_now(store: str, country: str, chart: str, category: str = "") -> int:
    """Fetch and store one chart for today; return its number of entries.

    Raises SnapshotFailedError (after recording the failure) when it should be retried.
    """
    from guanxi.market.collect import SnapshotTarget, fetch_one, store_fetchers  # noqa: PLC0415 - loads when the job runs: the collector, ~150 ms

    settings = get_settings()
    day = utcnow().date()
    target = SnapshotTarget(Store(store), country, Chart(chart), category)
    fetcher = store_fetchers(settings, day=day)(target.store)
    if fetcher is None:
        return 0
    with session_scope(sessions()) as db:
        outcome = fetch_one(db, settings=settings, fetcher=fetcher, target=target, day=day)
    if outcome.retry:
        raise SnapshotFailedError(outcome.error)
    return outcome.entries


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_S)  # type: ignore[untyped-decorator]
def snapshot_chart(store: str, country: str, chart: str, category: str = "") -> int:
    """The queue job: one chart's snapshot for today (see snapshot_chart_now)."""
    return snapshot_chart_now(store, country, chart, category)


def run_due_snapshots() -> int:
    """Queue a snapshot job for every configured chart still due today; return how many."""
    from guanxi.market.collect import due_targets  # noqa: PLC0415 - loads when the job runs: the collector, ~150 ms
    from guanxi.market.fetchers import load_play_fetcher  # noqa: PLC0415 - loads when the job runs: the store fetchers, ~60 ms

    settings = get_settings()
    if not settings.market_countries.strip():
        return 0
    stores = (Store.APPLE, Store.GOOGLE_PLAY) if load_play_fetcher(settings) else (Store.APPLE,)
    with session_scope(sessions()) as db:
        due = due_targets(db, settings=settings, stores=stores, day=utcnow().date())
    for target in due:
        snapshot_chart(target.store.value, target.country, target.chart.value, target.category)
    return len(due)


SCHEDULE: tuple[ScheduledJob, ...] = (ScheduledJob("market-snapshots", TICK_S, run_due_snapshots),)
