"""The conversion jobs: store the clicks that web processes gone since left in their
journals (a web process stores its own; this catches one that was killed and not
restarted)."""

from __future__ import annotations

from guanxi.convert.journal import journal_dir, recover_orphans
from guanxi.convert.links import journal_store
from guanxi.core.schedule import ScheduledJob
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions

RECOVER_EVERY_S = 60.0


def run_recover() -> int:
    """Store the clicks of journals no living process holds; how many."""
    return recover_orphans(journal_dir(get_settings().data_dir), journal_store(sessions()))


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("convert-recover-clicks", RECOVER_EVERY_S, run_recover),
)
