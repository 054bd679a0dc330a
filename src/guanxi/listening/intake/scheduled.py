"""The intake's jobs on the task queue, and their schedule (as data).

- ``import_run``: one uploaded file, imported in the worker (retries=0: a retry would only
  re-read the same file; a failure is written on the run for the user to see);
- ``run_pull``: every 5 minutes, the keyword searches of connected accounts;
- ``run_enrich``: every minute, mentions not enriched yet (stored while the NLP step was
  unavailable) or enriched by an older model version, in batches;
- ``run_sweep_imports``: every 2 minutes, imports left "running" by a stopped worker or web
  server (no heartbeat for ``GUANXI_IMPORT_LEASE_MINUTES``) are queued again and resume
  after their last committed line.

``guanxi listen pull`` and ``guanxi listen reenrich`` call the same functions. Heavy imports
happen when a job runs, not at import.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import TYPE_CHECKING

from guanxi.core.errors import UserError
from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.security import SecretBox
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions
from guanxi.listening.intake.models import ImportRun, ImportStatus, ListeningSource

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session, sessionmaker

    from guanxi.listening.intake.pull import PullResult

huey = get_huey()

PULL_EVERY_S = 300.0
ENRICH_EVERY_S = 60.0
SWEEP_EVERY_S = 120.0
# A queued message names its job "<module>.<function>"; the import job keeps the module
# name that imports already waiting in the queue carry, so they still run after an upgrade.
QUEUED_AS = "guanxi.listening.scheduled"


def run_import(
    run_id: int, factory: sessionmaker[Session] | None = None, *, data_dir: Path | None = None
) -> ImportRun:
    """Import the uploaded file of run ``run_id`` (stored under the data dir)."""
    from guanxi.listening.intake.flows import import_file  # noqa: PLC0415 - loads when the job runs: the intake flows, ~250 ms
    from guanxi.listening.intake.importers import importer_for  # noqa: PLC0415 - loads when the job runs: the file readers, ~100 ms
    from guanxi.listening.mentions.flows import pipeline_for  # noqa: PLC0415 - loads when the job runs: the enrichment flows, ~200 ms

    with (factory or sessions())() as db:
        run = db.get(ImportRun, run_id)
        if run is None:
            msg = f"no import run {run_id}"
            raise LookupError(msg)
        if run.status != ImportStatus.QUEUED:
            return run  # already imported (a job queued twice does the work once)
        source = db.get(ListeningSource, run.source_id)
        assert source is not None  # the run's foreign key guarantees it
        path = (data_dir or get_settings().data_dir) / run.storage_path
        importer = importer_for(
            source.format, mapping=source.column_mapping, platform=source.platform
        )
        return import_file(
            db,
            run=run,
            path=path,
            importer=importer,
            pipeline=pipeline_for(db, workspace_id=run.workspace_id),
            max_rows=get_settings().import_max_rows,
        )


@huey.task(retries=0, __module__=QUEUED_AS)  # type: ignore[untyped-decorator]  # huey: no types
def import_run(run_id: int) -> None:
    """Queue job: import one uploaded file (see ``run_import``)."""
    # A file that cannot be read is written on the run (failed, with the reason) for the user.
    with suppress(UserError):
        run_import(run_id)


def run_sweep_imports(
    factory: sessionmaker[Session] | None = None,
    *,
    data_dir: Path | None = None,
    lease: timedelta | None = None,
) -> list[int]:
    """Queue again the imports a stopped worker or web server left running (they resume
    after their last committed line); returns their ids."""
    from guanxi.listening.intake.flows import sweep_interrupted  # noqa: PLC0415 - loads when the job runs: the intake flows, ~250 ms

    settings = get_settings()
    with (factory or sessions())() as db:
        resumed = sweep_interrupted(
            db,
            lease=lease or timedelta(minutes=settings.import_lease_minutes),
            data_dir=data_dir or settings.data_dir,
        )
    for run_id in resumed:
        enqueue_import(run_id)
    return resumed


def run_pull(workspace_id: int | None = None) -> list[PullResult]:
    """Pull every connected search source once."""
    from guanxi.connectors.registry import connector_for  # noqa: PLC0415 - loads when the job runs: connectors and httpx, ~80 ms
    from guanxi.listening.intake.pull import pull_all  # noqa: PLC0415 - loads when the job runs: the search pull, ~300 ms
    from guanxi.listening.mentions.flows import pipeline_for  # noqa: PLC0415 - loads when the job runs: the enrichment flows, ~200 ms

    settings = get_settings()
    factory = sessions()
    with factory() as db:
        return pull_all(
            db,
            sessions=factory,
            box=SecretBox.from_settings(settings),
            connector_for=connector_for,
            pipeline_for=lambda owner: pipeline_for(db, workspace_id=owner),
            workspace_id=workspace_id,
        )


def run_enrich() -> int:
    """Enrich what is not enriched yet, or was enriched by an older model version."""
    from guanxi.listening.mentions.flows import reenrich  # noqa: PLC0415 - loads when the job runs: the enrichment flows, ~200 ms

    with sessions()() as db:
        return reenrich(db)


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("listen-pull", PULL_EVERY_S, run_pull),
    ScheduledJob("listen-enrich", ENRICH_EVERY_S, run_enrich),
    ScheduledJob("listen-sweep-imports", SWEEP_EVERY_S, run_sweep_imports),
)


def enqueue_import(run_id: int) -> None:
    """Queue the import of run ``run_id`` for the worker (the web page follows it)."""
    import_run(run_id)
