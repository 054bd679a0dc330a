"""A worker's lease on the variant it is publishing, renewed while the worker lives.

The lease is short (``PUBLISH_LEASE``) so that a variant whose worker was killed comes back
within minutes; a heartbeat thread renews it while the worker is still at work, however long
the platform takes. A renewal only ever extends a lease the worker still holds (conditional
UPDATE), so a lease the sweep already took back stays taken.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from guanxi.core.db import session_scope, utcnow
from guanxi.publishing.models import Variant
from guanxi.publishing.models import VariantState as S

log = logging.getLogger(__name__)

# How long a worker's hold on a variant lasts without a heartbeat: an expired lease means the
# worker is gone (killed, machine lost), since a live worker renews it every third of that.
PUBLISH_LEASE = timedelta(seconds=90)
HEARTBEAT_EVERY = PUBLISH_LEASE / 3


def renew_lease(
    sessions: sessionmaker[Session], variant_id: int, *, owner: str, now: datetime
) -> bool:
    """Extend ``owner``'s lease on ``variant_id`` to ``now + PUBLISH_LEASE``; False if lost."""
    with session_scope(sessions) as db:
        result = db.execute(
            update(Variant)
            .where(
                Variant.id == variant_id,
                Variant.state == S.PUBLISHING,
                Variant.lease_owner == owner[:100],
            )
            .values(lease_expires_at=now + PUBLISH_LEASE)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1


@contextmanager
def lease_heartbeat(
    sessions: sessionmaker[Session],
    variant_id: int,
    *,
    owner: str,
    every: timedelta = HEARTBEAT_EVERY,
    clock: Callable[[], datetime] = utcnow,
) -> Iterator[None]:
    """Renew ``owner``'s lease every ``every`` until the block ends (a daemon thread)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every.total_seconds()):
            try:
                if not renew_lease(sessions, variant_id, owner=owner, now=clock()):
                    return  # taken back or settled: nothing left to keep alive
            except Exception:
                # A database hiccup: the next beat tries again before the lease runs out.
                log.warning("lease renewal of variant %s failed", variant_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"lease-{variant_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
