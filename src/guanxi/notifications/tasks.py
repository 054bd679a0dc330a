"""The team-chat jobs on the task queue, and their schedule (as data).

Every ``DISPATCH_EVERY_S`` the schedule claims the due deliveries and queues a send for
each. A send is not retried by the queue (``retries=0``): the delivery's row says when to
try again (backoff, up to ``robots.MAX_ATTEMPTS``), so the next dispatch picks it up and a
queue retry could only send twice. Heavy imports (httpx) happen when a job runs.
"""

from __future__ import annotations

from guanxi.core.db import utcnow
from guanxi.core.queue import get_huey
from guanxi.core.schedule import ScheduledJob
from guanxi.core.settings import get_settings
from guanxi.core.worker import sessions

huey = get_huey()

DISPATCH_EVERY_S = 10.0


@huey.task(retries=0)  # type: ignore[untyped-decorator]  # huey ships no types
def send_team_chat(delivery_id: int) -> str | None:
    """Send one claimed team-chat delivery (see robots.send_delivery)."""
    from guanxi.core.security import SecretBox  # noqa: PLC0415 - loads when the job runs: cryptography, ~60 ms
    from guanxi.notifications.robots import send_delivery  # noqa: PLC0415 - loads when the job runs: the outbound client and httpx, ~100 ms
    from guanxi.outbound.client import OutboundClient  # noqa: PLC0415 - loads when the job runs: httpx, ~100 ms

    settings = get_settings()
    with OutboundClient.from_settings(settings) as client, sessions()() as db:
        return send_delivery(
            db,
            delivery_id=delivery_id,
            client=client,
            box=SecretBox.from_settings(settings),
            now=utcnow(),
        )


def run_team_chat() -> list[int]:
    """Claim the due team-chat deliveries and queue a send for each; return their ids."""
    from guanxi.notifications.robots import claim_due  # noqa: PLC0415 - loads when the job runs: the outbound client and httpx, ~100 ms

    with sessions()() as db:
        claimed = claim_due(db, now=utcnow())
    for delivery_id in claimed:
        send_team_chat(delivery_id)
    return claimed


SCHEDULE: tuple[ScheduledJob, ...] = (ScheduledJob("team_chat", DISPATCH_EVERY_S, run_team_chat),)
