"""Property-based tests of the engine: random interleavings of dispatchers, workers that
crash before or after sending, duplicated queue messages, platform timeouts and sweeps.

Whatever happens, once guanxi runs again long enough:
- no variant is ever published twice on the platform;
- no variant is lost: each ends published, failed (and people were told) or waiting for a
  person (needs attention, and people were told);
- every publish the platform received has its logged attempt, even if the worker died.
"""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from multiprocessing import get_context

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from guanxi.channels.models import Channel, ChannelStatus
from guanxi.connectors.base import (
    ChannelContext,
    OutcomeUnknownError,
    PermanentError,
    PublishRequest,
    PublishResult,
    RateLimitedError,
    TokenError,
    TransientError,
)
from guanxi.core.db import make_engine, make_session_factory
from guanxi.notifications.models import Notification
from guanxi.publishing import engine
from guanxi.publishing.models import PublishAttempt, Variant, VariantState
from guanxi.publishing.sweep import sweep
from tests.test_engine import ACCEPT_THEN_TIMEOUT, NOW, FakeConnector, Platform, World
from tests.test_engine import world as world  # noqa: PLC0414 - the same fixture

S = VariantState


class WorkerDiedError(BaseException):
    """The worker process is gone (SIGKILL): nothing after this point runs."""


SEND_THEN_DIE = "send_then_die"
DIE_BEFORE_SEND = "die_before_send"


class CrashingConnector(FakeConnector):
    """Adds worker deaths before and after the platform took the post."""

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        step = self.script[0] if self.script else None
        if step == DIE_BEFORE_SEND:
            self.script.pop(0)
            raise WorkerDiedError
        if step == SEND_THEN_DIE:
            self.script.pop(0)
            self.platform.accept(request.idempotency_key)
            raise WorkerDiedError
        return super().publish(channel, request)


BEHAVIOURS = st.sampled_from(
    [
        None,
        None,
        ACCEPT_THEN_TIMEOUT,
        SEND_THEN_DIE,
        DIE_BEFORE_SEND,
        "transient",
        "unknown_unsent",
        "rate_limited",
        "token",
        "permanent",
    ]
)


def behaviour(name: object) -> object:
    """A fresh exception per use (exceptions carry tracebacks)."""
    return {
        "transient": lambda: TransientError("busy"),
        "unknown_unsent": lambda: OutcomeUnknownError("read timeout"),
        "rate_limited": lambda: RateLimitedError("slow down", retry_after_s=30),
        "token": lambda: TokenError("revoked"),
        "permanent": lambda: PermanentError("refused"),
    }.get(str(name), lambda: name)()


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("dispatch"), st.integers(0, 2)),
        st.tuples(st.just("execute"), st.integers(0, 2), st.integers(0, 10), BEHAVIOURS),
        st.tuples(st.just("duplicate"), st.integers(0, 10)),
        st.tuples(st.just("sweep")),
        st.tuples(st.just("tick"), st.sampled_from([1, 30, 90, 400, 700, 3600])),
        st.tuples(st.just("reconnect")),
    ),
    max_size=30,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS, n_variants=st.integers(1, 4))
def test_interleavings_and_crashes_never_duplicate_or_lose_a_post(
    world: World, steps: list[tuple[object, ...]], n_variants: int
) -> None:
    platform = Platform()
    channels = [world.channel(f"C{uuid.uuid4().hex[:4]}") for _ in range(2)]
    variants = [world.variant(channels[i % 2]) for i in range(n_variants)]
    keys = {t.id: t.idempotency_key for t in variants}
    now = NOW
    queue: list[int] = []
    delivered: list[int] = []

    def execute(worker: int, variant_id: int, step: object) -> None:
        connector = CrashingConnector(platform, [behaviour(step)])
        # A dead worker's lease stays; only the sweep can take the variant back.
        with contextlib.suppress(WorkerDiedError):
            engine.execute_variant(
                world.sessions,
                variant_id,
                connector_for=lambda _c: connector,
                now=now,
                worker_id=f"w{worker}",
                settings=world.settings,
            )

    for step in steps:
        match step:
            case ("dispatch", worker):
                queue += engine.dispatch_due(
                    world.sessions, now=now, limit=2, worker_id=f"d{worker}"
                )
            case ("execute", worker, index, what) if queue:
                variant_id = queue.pop(int(index) % len(queue))  # type: ignore[call-overload]
                delivered.append(variant_id)
                execute(int(worker), variant_id, what)  # type: ignore[call-overload]
            case ("duplicate", index) if delivered:
                queue.append(delivered[int(index) % len(delivered)])  # type: ignore[call-overload]
            case ("sweep",):
                sweep(world.sessions, now=now, settings=world.settings)
            case ("tick", seconds):
                now += timedelta(seconds=int(seconds))  # type: ignore[call-overload]
            case ("reconnect",):
                _reconnect(world)

    # guanxi runs on: time passes, people reconnect, every queued job is eventually run.
    for _ in range(40):
        now += timedelta(minutes=30)
        _reconnect(world)
        sweep(world.sessions, now=now, settings=world.settings)
        queue += engine.dispatch_due(world.sessions, now=now, limit=50, worker_id="d")
        while queue:
            execute(0, queue.pop(0), None)
        if _settled(world, keys, now):
            break

    world.db.expire_all()
    for variant_id, key in keys.items():
        variant = world.db.get_one(Variant, variant_id)
        sends = platform.publishes(key)
        assert sends <= 1, f"variant {variant_id} was published {sends} times"
        assert variant.state in {S.PUBLISHED, S.FAILED, S.NEEDS_ATTENTION}, variant.state
        if variant.state == S.PUBLISHED:
            assert sends == 1
        if variant.state == S.FAILED:
            assert sends == 0
        if variant.state in {S.FAILED, S.NEEDS_ATTENTION}:
            assert _told(world, variant_id), "people are told about a post that did not go out"
        actions = world.db.scalars(
            select(PublishAttempt.action).where(PublishAttempt.variant_id == variant_id)
        ).all()
        assert set(actions) <= {"publish", "find"}
        assert ("publish" in actions) or sends == 0, "a send without a logged attempt"


def _reconnect(world: World) -> None:
    for channel in world.db.scalars(select(Channel)):
        channel.status = ChannelStatus.CONNECTED
    world.db.commit()


def _settled(world: World, keys: dict[int, str], now: datetime) -> bool:
    del now
    world.db.expire_all()
    states = world.db.scalars(select(Variant.state).where(Variant.id.in_(keys)))
    return all(state in {S.PUBLISHED, S.FAILED, S.NEEDS_ATTENTION} for state in states)


def _told(world: World, variant_id: int) -> bool:
    notes = world.db.scalars(select(Notification.params)).all()
    return any(params.get("variant_id") == variant_id for params in notes)


# --- Dispatchers in separate processes ----------------------------------------------------


def claim_in_process(url: str, worker: str, rounds: int) -> list[int]:
    """What one dispatcher process claims over ``rounds`` runs."""
    db_engine = make_engine(url)
    sessions = make_session_factory(db_engine)
    claimed: list[int] = []
    for _ in range(rounds):
        claimed += engine.dispatch_due(sessions, now=NOW, limit=3, worker_id=worker)
    db_engine.dispose()
    return claimed


def test_dispatchers_in_separate_processes_never_claim_a_variant_twice(
    world: World, database_url: str
) -> None:
    """Given 40 due variants, When 4 dispatcher processes claim at once,
    Then each variant is claimed by exactly one of them."""
    channel = world.channel()
    variants = [world.variant(channel) for _ in range(40)]
    url = database_url
    with ProcessPoolExecutor(max_workers=4, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(claim_in_process, url, f"p{i}", 8) for i in range(4)]
        claimed = [variant_id for future in futures for variant_id in future.result()]
    assert sorted(claimed) == sorted(t.id for t in variants)
