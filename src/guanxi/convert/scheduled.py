"""The conversion jobs: store the clicks that web processes gone since left in their
journals (a web process stores its own; this catches one that was killed and not
restarted); make URL Links again before they expire; ask how followers who came without a
scene found the account."""

from __future__ import annotations

import httpx

from guanxi.convert import codes
from guanxi.convert.code_events import fill_origins
from guanxi.convert.journal import journal_dir, recover_orphans
from guanxi.convert.links import journal_store
from guanxi.core.schedule import ScheduledJob
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions

RECOVER_EVERY_S = 60.0
RENEW_EVERY_S = 3600.0  # links are renewed 3 days ahead: hourly leaves room for failures
ORIGINS_EVERY_S = 300.0


def run_recover() -> int:
    """Store the clicks of journals no living process holds; how many."""
    return recover_orphans(journal_dir(get_settings().data_dir), journal_store(sessions()))


def run_renew_links() -> int:
    """Make again the URL Links expiring within 3 days (the old ones kept); how many."""
    factory = sessions()
    with httpx.Client(timeout=30.0) as http, factory() as db:
        maker_for = codes.maker_for_channels(
            settings=get_settings(), http=http, sessions=factory, owner="convert-worker"
        )
        return len(codes.renew_links(db, maker_for=maker_for))


def run_fill_origins() -> int:
    """Ask how followers without a scene came; how many a code's scene was found for."""
    factory = sessions()
    with httpx.Client(timeout=30.0) as http, factory() as db:
        maker_for = codes.maker_for_channels(
            settings=get_settings(), http=http, sessions=factory, owner="convert-worker"
        )
        return fill_origins(db, maker_for=maker_for)


SCHEDULE: tuple[ScheduledJob, ...] = (
    # The journals are files in this machine's data directory: every worker reads its own.
    ScheduledJob("convert-recover-clicks", RECOVER_EVERY_S, run_recover, every_worker=True),
    ScheduledJob("convert-renew-url-links", RENEW_EVERY_S, run_renew_links),
    ScheduledJob("convert-follower-origins", ORIGINS_EVERY_S, run_fill_origins),
)
