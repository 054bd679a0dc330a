"""The publishing engine: claiming due variants, publishing them, and mapping each outcome.

The connector here is an in-memory platform that implements the Connector Protocol and
counts what it received: the real connectors are tested against the sandbox elsewhere.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Role, User, Workspace
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.connectors.base import (
    Capability,
    ChannelContext,
    Connector,
    HashtagStyle,
    OutcomeUnknownError,
    PermanentError,
    PublishRequest,
    PublishResult,
    PublishState,
    QuotaExhaustedError,
    RateLimitedError,
    ReadNotSupported,
    RuleViolation,
    TokenError,
    TransientError,
    VariantDraft,
    VariantField,
)
from guanxi.core.db import utcnow
from guanxi.core.errors import UserError
from guanxi.core.settings import Settings
from guanxi.notifications.models import Notification
from guanxi.publishing import engine, leases, outcomes
from guanxi.publishing.models import (
    LatePolicy,
    Post,
    PublishAttempt,
    PublishingPolicy,
    Variant,
    VariantState,
)
from guanxi.publishing.outcomes import MAX_ATTEMPTS, MISSED_REASON
from guanxi.publishing.sweep import check_status, sweep

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=utcnow().tzinfo)
S = VariantState

# --- An in-memory platform behind the Connector Protocol ------------------------------------

ACCEPT_THEN_TIMEOUT = "accept_then_timeout"  # the platform takes the post, the reply is lost
ACCEPT_PROCESSING = "accept_processing"  # the platform answers with a job to follow


@dataclass
class Platform:
    """What the fake platform holds: posts by idempotency key, counted per publish."""

    posts: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, key: str) -> str:
        with self.lock:
            external_id = f"post-{len(self.posts) + 1}-{len(self.posts.get(key, []))}"
            self.posts.setdefault(key, []).append(external_id)
            return external_id

    def publishes(self, key: str) -> int:
        return len(self.posts.get(key, []))


class FakeConnector(ReadNotSupported):
    """Plays a script per publish call: None = success, an exception, or a marker."""

    name = "fake"
    platforms = ("weibo",)
    hashtag_style = HashtagStyle.DOUBLE_HASH
    variant_fields: frozenset[VariantField] = frozenset()

    def __init__(
        self,
        platform: Platform,
        script: list[object] | None = None,
        *,
        statuses: list[PublishResult | Exception] | None = None,
        capabilities: frozenset[Capability] = frozenset(
            {Capability.PUBLISH, Capability.PUBLISH_STATUS}
        ),
    ) -> None:
        self.platform = platform
        self.script = list(script or [])
        self.statuses = list(statuses or [])
        self.capabilities = capabilities
        self.calls: list[str] = []

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        return []

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        self.calls.append("publish")
        step = self.script.pop(0) if self.script else None
        if isinstance(step, Exception):
            raise step
        if isinstance(step, PublishResult):
            return step
        external_id = self.platform.accept(request.idempotency_key)
        if step == ACCEPT_THEN_TIMEOUT:
            raise OutcomeUnknownError("timed out after sending")
        if step == ACCEPT_PROCESSING:
            return PublishResult(PublishState.PROCESSING, external_id=f"job-{external_id}")
        return PublishResult(PublishState.PUBLISHED, external_id=external_id, url="https://x/1")

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        self.calls.append("status")
        step = self.statuses.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        self.calls.append("find")
        ids = self.platform.posts.get(request.idempotency_key)
        if not ids:
            return None
        return PublishResult(PublishState.PUBLISHED, external_id=ids[0], url="https://x/found")

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        raise NotImplementedError


def test_the_fake_connector_is_a_connector() -> None:
    """The engine's tests use a real implementation of the Protocol."""
    assert isinstance(FakeConnector(Platform()), Connector)


# --- Arranging a workspace with channels and variants ---------------------------------------


@dataclass
class World:
    """A workspace with an owner, an editor who writes the posts, and channels."""

    db: Session
    sessions: sessionmaker[Session]
    settings: Settings
    workspace: Workspace
    owner: User
    author: User

    def channel(self, name: str = "Brand Weibo", platform: str = "weibo") -> Channel:
        channel = Channel(
            workspace_id=self.workspace.id,
            connector="fake",
            platform=platform,
            external_id=uuid.uuid4().hex[:10],
            name=name,
        )
        self.db.add(channel)
        self.db.commit()
        return channel

    def variant(
        self,
        channel: Channel,
        *,
        at: datetime = NOW - timedelta(minutes=1),
        state: VariantState = S.SCHEDULED,
        title: str = "新品上市",
    ) -> Variant:
        post = Post(workspace_id=self.workspace.id, title=title, created_by_id=self.author.id)
        self.db.add(post)
        self.db.flush()
        variant = Variant(
            workspace_id=self.workspace.id,
            post_id=post.id,
            channel_id=channel.id,
            text="普罗旺斯桃红葡萄酒今日上市 #新品#",
            state=state,
            scheduled_at=at,
            idempotency_key=uuid.uuid4().hex,
        )
        self.db.add(variant)
        self.db.commit()
        return variant

    def reload(self, variant: Variant) -> Variant:
        self.db.expire_all()
        return self.db.get_one(Variant, variant.id)

    def policy(self, late_policy: LatePolicy, grace_minutes: int = 15) -> None:
        self.db.add(
            PublishingPolicy(
                workspace_id=self.workspace.id,
                late_policy=late_policy,
                late_grace_minutes=grace_minutes,
            )
        )
        self.db.commit()

    def notifications(self, kind: str | None = None) -> list[Notification]:
        self.db.expire_all()
        query = select(Notification).order_by(Notification.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(self.db.scalars(query))

    def attempts(self, variant: Variant) -> list[PublishAttempt]:
        self.db.expire_all()
        query = select(PublishAttempt).where(PublishAttempt.variant_id == variant.id)
        return list(self.db.scalars(query.order_by(PublishAttempt.number)))


@pytest.fixture
def world(
    db: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    make_user: Callable[..., User],
    make_workspace: Callable[..., Workspace],
) -> World:
    """Given a workspace ``acme`` owned by Olivia, where Eddie (an editor) writes posts."""
    owner = make_user("olivia@acme.example", name="Olivia")
    author = make_user("eddie@acme.example", name="Eddie")
    workspace = make_workspace("acme", owner=owner, members={author: Role.EDITOR})
    return World(db, session_factory, settings, workspace, owner, author)


def run(
    world: World, connector: FakeConnector, *, now: datetime = NOW, worker: str = "w1"
) -> list[VariantState | None]:
    """Dispatch what is due and execute each claimed variant with ``connector``."""
    claimed = engine.dispatch_due(world.sessions, now=now, limit=50, worker_id=worker)
    return [
        engine.execute_variant(
            world.sessions,
            variant_id,
            connector_for=lambda _c: connector,
            now=now,
            worker_id=worker,
            settings=world.settings,
        )
        for variant_id in claimed
    ]


# --- Dispatcher -------------------------------------------------------------------------------


def test_dispatch_claims_only_due_variants_on_ready_channels(world: World) -> None:
    """Given variants due, not yet due, a draft, and one on a paused and one on a parked channel,
    When the dispatcher runs, Then only the due variant on the ready channel is claimed."""
    ready, paused, parked = world.channel(), world.channel("Paused"), world.channel("Parked")
    paused.paused_until = NOW + timedelta(minutes=5)
    parked.status = ChannelStatus.NEEDS_RECONNECT
    world.db.commit()
    due = world.variant(ready)
    world.variant(ready, at=NOW + timedelta(minutes=1))
    world.variant(ready, state=S.DRAFT)
    world.variant(paused)
    world.variant(parked)

    claimed = engine.dispatch_due(world.sessions, now=NOW, limit=10, worker_id="w1")

    assert claimed == [due.id]
    variant = world.reload(due)
    assert variant.state == S.PUBLISHING
    assert variant.lease_owner == "queued:w1"
    assert variant.lease_expires_at == NOW + engine.QUEUED_LEASE


def test_dispatch_leaves_variants_missed_beyond_the_grace_to_the_sweep(world: World) -> None:
    """A post whose time passed more than the grace ago is not sent silently late."""
    channel = world.channel()
    world.variant(channel, at=NOW - timedelta(minutes=16))
    assert engine.dispatch_due(world.sessions, now=NOW, limit=10, worker_id="w1") == []


def test_dispatch_respects_the_limit_oldest_first(world: World) -> None:
    channel = world.channel()
    older = world.variant(channel, at=NOW - timedelta(minutes=3))
    world.variant(channel, at=NOW - timedelta(minutes=1))
    assert engine.dispatch_due(world.sessions, now=NOW, limit=1, worker_id="w1") == [older.id]


def test_concurrent_dispatchers_never_claim_a_variant_twice(world: World) -> None:
    """Given 60 due variants, When 6 dispatchers claim at the same time in threads,
    Then every variant is claimed exactly once."""
    channels = [world.channel(f"C{i}") for i in range(3)]
    variants = [world.variant(channels[i % 3]) for i in range(60)]
    start = threading.Barrier(6)
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claim(worker: str) -> None:
        try:
            start.wait()
            mine: list[int] = []
            for _ in range(10):
                mine += engine.dispatch_due(world.sessions, now=NOW, limit=4, worker_id=worker)
            results[worker] = mine
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    everything = [variant_id for claimed in results.values() for variant_id in claimed]
    assert sorted(everything) == sorted(t.id for t in variants)


# --- Outcomes -----------------------------------------------------------------------------------


def test_a_published_post_records_its_platform_id_and_the_attempt(world: World) -> None:
    platform = Platform()
    variant = world.variant(world.channel())

    assert run(world, FakeConnector(platform)) == [S.PUBLISHED]

    variant = world.reload(variant)
    assert variant.external_id == platform.posts[variant.idempotency_key][0]
    assert variant.published_at == NOW
    assert (variant.lease_owner, variant.lease_expires_at) == ("", None)
    (attempt,) = world.attempts(variant)
    assert (attempt.action, attempt.outcome, attempt.worker) == ("publish", "published", "w1")
    assert attempt.request_summary["idempotency_key"] == variant.idempotency_key
    assert attempt.response["external_id"] == variant.external_id


def test_a_duplicated_queue_message_publishes_once(world: World) -> None:
    """The queue may deliver a job twice: the second finds the variant no longer queued."""
    platform = Platform()
    connector = FakeConnector(platform)
    variant = world.variant(world.channel())
    (variant_id,) = engine.dispatch_due(world.sessions, now=NOW, limit=5, worker_id="d")

    def execute(worker: str) -> VariantState | None:
        return engine.execute_variant(
            world.sessions,
            variant_id,
            connector_for=lambda _c: connector,
            now=NOW,
            worker_id=worker,
            settings=world.settings,
        )

    assert execute("w1") == S.PUBLISHED
    assert execute("w2") is None
    assert platform.publishes(variant.idempotency_key) == 1


def test_a_transient_error_retries_later_with_backoff(world: World) -> None:
    variant = world.variant(world.channel())
    assert run(world, FakeConnector(Platform(), [TransientError("busy", code="10001")])) == [
        S.SCHEDULED
    ]
    variant = world.reload(variant)
    assert variant.attempt_count == 1
    assert variant.last_error_code == "10001"
    assert NOW <= variant.next_attempt_at <= NOW + timedelta(seconds=outcomes.RETRY_BASE_S)
    assert not variant.outcome_unknown


def test_full_jitter_backoff_stays_under_its_exponential_ceiling() -> None:
    for attempt in range(1, 12):
        ceiling = min(outcomes.RETRY_CAP_S, outcomes.RETRY_BASE_S * 2 ** (attempt - 1))
        delays = [outcomes.backoff_s(attempt) for _ in range(50)]
        assert all(0 <= d <= ceiling for d in delays)
    assert max(outcomes.backoff_s(20) for _ in range(200)) > outcomes.RETRY_CAP_S / 2


def test_after_the_last_transient_attempt_the_post_fails_and_people_are_told(world: World) -> None:
    platform = Platform()
    variant = world.variant(world.channel())
    connector = FakeConnector(platform, [TransientError("busy")] * MAX_ATTEMPTS)
    now = NOW
    for _ in range(MAX_ATTEMPTS):
        run(world, connector, now=now)
        now = world.reload(variant).next_attempt_at or now
    variant = world.reload(variant)
    assert variant.state == S.FAILED
    assert len(world.attempts(variant)) == MAX_ATTEMPTS
    told = {n.user_id for n in world.notifications("publish_failed")}
    assert told == {world.author.id, world.owner.id}


def test_a_permanent_error_fails_at_once_and_notifies(world: World) -> None:
    variant = world.variant(world.channel())
    run(world, FakeConnector(Platform(), [PermanentError("content refused", code="20019")]))
    variant = world.reload(variant)
    assert variant.state == S.FAILED
    assert "content refused" in variant.state_reason
    (note, _) = world.notifications("publish_failed")
    assert note.params["error"] == "content refused"
    assert note.params["post"] == "新品上市"
    assert note.link == f"/w/acme/posts/{variant.post_id}"


def test_a_refusal_in_the_result_fails_the_post(world: World) -> None:
    variant = world.variant(world.channel())
    refused = PublishResult(PublishState.FAILED, detail="审核未通过")
    run(world, FakeConnector(Platform(), [refused]))
    assert world.reload(variant).state == S.FAILED


def test_a_rate_limit_pauses_the_channel_and_reschedules(world: World) -> None:
    channel = world.channel()
    variant, other = world.variant(channel), world.variant(channel)
    limited = RateLimitedError("slow down", retry_after_s=120, code="10023")
    connector = FakeConnector(Platform(), [limited])

    claimed = engine.dispatch_due(world.sessions, now=NOW, limit=1, worker_id="w1")
    engine.execute_variant(
        world.sessions,
        claimed[0],
        connector_for=lambda _c: connector,
        now=NOW,
        worker_id="w1",
        settings=world.settings,
    )

    world.db.expire_all()
    assert world.db.get_one(Channel, channel.id).paused_until == NOW + timedelta(seconds=120)
    first = world.reload(variant if claimed[0] == variant.id else other)
    assert (first.state, first.next_attempt_at) == (S.SCHEDULED, NOW + timedelta(seconds=120))
    assert first.attempt_count == 0  # the platform's pace, not the post's fault
    # Nothing on the channel goes out before the pause ends, then both do.
    assert run(world, connector, now=NOW + timedelta(seconds=60)) == []
    assert run(world, connector, now=NOW + timedelta(seconds=121)) == [S.PUBLISHED, S.PUBLISHED]


def test_an_app_wide_limit_pauses_every_channel_of_the_app(world: World) -> None:
    """Given two accounts connected through the same app and one through another connector,
    When the platform says the app (not the account) is over its limit,
    Then both accounts of that app wait for the window, and the other connector does not."""
    first, second = world.channel("Brand Weibo"), world.channel("Second Weibo")
    elsewhere = world.channel("Brand Douyin", platform="douyin")
    elsewhere.connector = "other"
    world.db.commit()
    variant = world.variant(first)
    limited = RateLimitedError("app limit", retry_after_s=300, code="10022", app_wide=True)
    run(world, FakeConnector(Platform(), [limited]))

    world.db.expire_all()
    until = NOW + timedelta(seconds=300)
    paused = {c.name: c.paused_until for c in world.db.scalars(select(Channel))}
    assert paused == {"Brand Weibo": until, "Second Weibo": until, "Brand Douyin": None}
    assert world.reload(variant).next_attempt_at == until
    waiting = world.variant(second)
    assert run(world, FakeConnector(Platform()), now=NOW + timedelta(seconds=60)) == []
    assert world.reload(waiting).state == S.SCHEDULED


def test_an_exhausted_quota_waits_for_the_reset(world: World) -> None:
    channel = world.channel()
    variant = world.variant(channel)
    resets = NOW + timedelta(hours=6)
    connector = FakeConnector(Platform(), [QuotaExhaustedError("daily quota", resets_at=resets)])
    run(world, connector)
    assert world.reload(variant).next_attempt_at == resets
    assert run(world, connector, now=resets - timedelta(seconds=1)) == []
    assert run(world, connector, now=resets) == [S.PUBLISHED]


def test_a_token_error_parks_the_channel_and_its_queue_waits(world: World) -> None:
    """Given three posts on one account whose token was revoked,
    When the first fails with a token error,
    Then the account needs reconnecting, all three wait (none fails), people are told once,
    And after a reconnect all three go out."""
    channel = world.channel()
    variants = [world.variant(channel) for _ in range(3)]
    platform = Platform()
    connector = FakeConnector(platform, [TokenError("expired_token", code="21327")])

    claimed = engine.dispatch_due(world.sessions, now=NOW, limit=1, worker_id="w1")
    engine.execute_variant(
        world.sessions,
        claimed[0],
        connector_for=lambda _c: connector,
        now=NOW,
        worker_id="w1",
        settings=world.settings,
    )
    assert run(world, connector, now=NOW + timedelta(minutes=1)) == []

    world.db.expire_all()
    assert world.db.get_one(Channel, channel.id).status == ChannelStatus.NEEDS_RECONNECT
    assert {world.reload(t).state for t in variants} == {S.SCHEDULED}
    told = world.notifications("channel_needs_reconnect")
    assert {n.user_id for n in told} == {world.author.id, world.owner.id}

    world.db.get_one(Channel, channel.id).status = ChannelStatus.CONNECTED
    world.db.commit()
    later = NOW + timedelta(minutes=2)
    assert run(world, connector, now=later) == [S.PUBLISHED] * 3
    assert len(world.notifications("channel_needs_reconnect")) == 2  # still told once


def test_a_timeout_after_sending_reconciles_instead_of_resending(world: World) -> None:
    """The platform took the post but the reply was lost: the next attempt finds it."""
    platform = Platform()
    variant = world.variant(world.channel())
    connector = FakeConnector(platform, [ACCEPT_THEN_TIMEOUT])

    assert run(world, connector) == [S.SCHEDULED]
    variant = world.reload(variant)
    assert variant.outcome_unknown
    assert variant.next_attempt_at == NOW + timedelta(seconds=outcomes.UNKNOWN_RETRY_S)

    assert run(world, connector, now=variant.next_attempt_at) == [S.PUBLISHED]
    variant = world.reload(variant)
    assert platform.publishes(variant.idempotency_key) == 1
    assert variant.external_url == "https://x/found"
    assert connector.calls == ["publish", "find"]
    assert [a.action for a in world.attempts(variant)] == ["publish", "find"]


def test_a_timeout_before_the_platform_took_it_sends_after_looking(world: World) -> None:
    platform = Platform()
    variant = world.variant(world.channel())
    connector = FakeConnector(platform, [OutcomeUnknownError("read timeout"), None])
    run(world, connector)
    assert run(world, connector, now=NOW + timedelta(minutes=2)) == [S.PUBLISHED]
    assert connector.calls == ["publish", "find", "publish"]
    assert platform.publishes(world.reload(variant).idempotency_key) == 1


def test_an_unexpected_crash_in_the_connector_is_treated_as_an_unknown_outcome(
    world: World,
) -> None:
    variant = world.variant(world.channel())
    run(world, FakeConnector(Platform(), [RuntimeError("bug")]))
    variant = world.reload(variant)
    assert (variant.state, variant.outcome_unknown) == (S.SCHEDULED, True)
    assert world.attempts(variant)[0].outcome == "crash"


# --- Following accepted publishes ----------------------------------------------------------


def test_a_processing_publish_is_followed_until_published(world: World) -> None:
    variant = world.variant(world.channel())
    statuses: list[PublishResult | Exception] = [
        PublishResult(PublishState.PROCESSING),
        TransientError("busy"),
        PublishResult(PublishState.PUBLISHED, external_id="article-9", url="https://mp/9"),
    ]
    connector = FakeConnector(Platform(), [ACCEPT_PROCESSING], statuses=statuses)
    assert run(world, connector) == [S.PROCESSING]
    variant = world.reload(variant)
    assert variant.external_id.startswith("job-")

    now = NOW
    for _ in range(3):
        now = world.reload(variant).next_attempt_at or now
        report = sweep(world.sessions, now=now, settings=world.settings)
        assert report.status_due == [variant.id]
        check_status(
            world.sessions,
            variant.id,
            connector_for=lambda _c: connector,
            now=now,
            worker_id="w1",
            settings=world.settings,
        )
    variant = world.reload(variant)
    assert (variant.state, variant.external_id) == (S.PUBLISHED, "article-9")
    assert [a.action for a in world.attempts(variant)] == ["publish", "status", "status", "status"]


def test_pending_review_is_followed_until_the_platform_decides(world: World) -> None:
    variant = world.variant(world.channel())
    review = PublishResult(PublishState.PENDING_REVIEW, external_id="v1")
    refused = PublishResult(PublishState.FAILED, detail="违规")
    connector = FakeConnector(Platform(), [review], statuses=[refused])
    assert run(world, connector) == [S.PENDING_REVIEW]
    now = world.reload(variant).next_attempt_at
    assert now is not None
    check_status(
        world.sessions,
        variant.id,
        connector_for=lambda _c: connector,
        now=now,
        worker_id="w1",
        settings=world.settings,
    )
    assert world.reload(variant).state == S.FAILED


def test_a_pushed_status_completes_a_processing_publish(world: World) -> None:
    channel = world.channel()
    variant = world.variant(channel)
    run(world, FakeConnector(Platform(), [ACCEPT_PROCESSING]))
    job_id = world.reload(variant).external_id

    done = PublishResult(PublishState.PUBLISHED, external_id="article-1", url="https://mp/a1")
    found = engine.apply_platform_status(world.db, channel=channel, external_id=job_id, result=done)
    world.db.commit()
    assert found is not None
    assert (found.state, found.external_url) == (S.PUBLISHED, "https://mp/a1")
    # A second push of the same job finds nothing left to follow.
    assert (
        engine.apply_platform_status(world.db, channel=channel, external_id=job_id, result=done)
        is None
    )


# --- Sweep ------------------------------------------------------------------------------------


def test_a_worker_that_died_mid_publish_is_reconciled_not_resent(world: World) -> None:
    """Given a worker that sent the post and died before recording it,
    When its lease expires, Then the sweep flags the outcome unknown,
    And the next attempt finds the post instead of sending it again."""
    platform = Platform()
    variant = world.variant(world.channel())
    (variant_id,) = engine.dispatch_due(world.sessions, now=NOW, limit=5, worker_id="d")
    assert engine.take_lease(world.sessions, variant_id, now=NOW, owner="dying")
    platform.accept(variant.idempotency_key)  # sent; then the worker is SIGKILLed

    before = NOW + engine.PUBLISH_LEASE - timedelta(seconds=1)
    assert sweep(world.sessions, now=before, settings=world.settings).reconciling == []
    later = NOW + engine.PUBLISH_LEASE + timedelta(seconds=1)
    report = sweep(world.sessions, now=later, settings=world.settings)
    assert report.reconciling == [variant.id]
    assert world.reload(variant).outcome_unknown

    assert run(world, FakeConnector(platform), now=later) == [S.PUBLISHED]
    assert platform.publishes(variant.idempotency_key) == 1


def test_a_live_workers_heartbeat_keeps_its_lease_past_the_lease_time(world: World) -> None:
    """Given a worker publishing slowly (the platform takes minutes),
    When its heartbeat renews the lease, Then the sweep leaves the variant alone,
    And once the worker has settled, a late heartbeat cannot revive the lease."""
    variant = world.variant(world.channel())
    (variant_id,) = engine.dispatch_due(world.sessions, now=NOW, limit=5, worker_id="d")
    assert engine.take_lease(world.sessions, variant_id, now=NOW, owner="slow")
    clock = iter(NOW + timedelta(seconds=60 * n) for n in range(1, 1000))
    renewed = threading.Event()

    def tick() -> datetime:
        moment = next(clock)
        if moment >= NOW + timedelta(minutes=3):
            renewed.set()
        return moment

    with leases.lease_heartbeat(
        world.sessions, variant_id, owner="slow", every=timedelta(milliseconds=5), clock=tick
    ):
        assert renewed.wait(10)
    expires = world.reload(variant).lease_expires_at
    assert expires is not None
    assert expires >= NOW + timedelta(minutes=3) + engine.PUBLISH_LEASE
    assert (
        sweep(world.sessions, now=NOW + timedelta(minutes=3), settings=world.settings).reconciling
        == []
    )

    assert not leases.renew_lease(world.sessions, variant_id, owner="someone else", now=NOW)
    engine.settle(
        world.sessions,
        variant_id,
        worker_id="slow",
        now=NOW,
        settings=world.settings,
        result=PublishResult(state=PublishState.PUBLISHED, external_id="42"),
    )
    assert not leases.renew_lease(world.sessions, variant_id, owner="slow", now=NOW)
    assert world.reload(variant).state == S.PUBLISHED


def test_a_claim_lost_in_the_queue_is_requeued_without_reconciling(world: World) -> None:
    variant = world.variant(world.channel())
    engine.dispatch_due(world.sessions, now=NOW, limit=5, worker_id="d")
    later = NOW + engine.QUEUED_LEASE + timedelta(seconds=1)
    assert sweep(world.sessions, now=later, settings=world.settings).requeued == [variant.id]
    variant = world.reload(variant)
    assert (variant.state, variant.outcome_unknown) == (S.SCHEDULED, False)


def test_missed_posts_are_published_late_under_the_publish_late_policy(world: World) -> None:
    world.policy(LatePolicy.PUBLISH_LATE, grace_minutes=10)
    variant = world.variant(world.channel(), at=NOW - timedelta(hours=3))
    assert run(world, FakeConnector(Platform())) == []  # not silently

    report = sweep(world.sessions, now=NOW, settings=world.settings)

    assert report.late == [variant.id]
    assert run(world, FakeConnector(Platform())) == [S.PUBLISHED]
    variant = world.reload(variant)
    assert variant.late
    assert world.attempts(variant)[0].request_summary["late"] is True


def test_missed_posts_are_held_for_a_person_under_the_hold_policy(world: World) -> None:
    world.policy(LatePolicy.HOLD)
    on_time = world.variant(world.channel(), at=NOW - timedelta(minutes=5))
    missed = world.variant(world.channel(), at=NOW - timedelta(hours=3), title="中秋节")

    report = sweep(world.sessions, now=NOW, settings=world.settings)

    assert report.held == [missed.id]
    missed = world.reload(missed)
    assert (missed.state, missed.state_reason) == (S.NEEDS_ATTENTION, MISSED_REASON)
    assert world.reload(on_time).state == S.SCHEDULED
    notes = world.notifications("missed_held")
    assert {n.user_id for n in notes} == {world.author.id, world.owner.id}
    assert notes[0].params["post"] == "中秋节"


# --- Manual channels ----------------------------------------------------------------------------


def manual_connector(platform: Platform) -> FakeConnector:
    """A connector without status checks: a PROCESSING answer means a person's task."""
    waiting = PublishResult(PublishState.PROCESSING, detail="waiting for a person")
    return FakeConnector(platform, [waiting], capabilities=frozenset({Capability.PUBLISH}))


def test_a_manual_post_is_assigned_to_its_author_with_a_due_time(world: World) -> None:
    variant = world.variant(world.channel("小红书", platform="xiaohongshu"))
    assert run(world, manual_connector(Platform())) == [S.PROCESSING]
    variant = world.reload(variant)
    assert variant.assignee_id == world.author.id
    assert variant.due_at == variant.scheduled_at
    assert variant.next_attempt_at is None
    (note,) = world.notifications("manual_assigned")
    assert note.user_id == world.author.id


def test_an_overdue_manual_post_gets_one_reminder(world: World) -> None:
    variant = world.variant(world.channel("小红书", platform="xiaohongshu"))
    run(world, manual_connector(Platform()))
    later = NOW + timedelta(hours=1)
    assert sweep(world.sessions, now=later, settings=world.settings).reminded == [variant.id]
    assert sweep(world.sessions, now=later, settings=world.settings).reminded == []
    (note,) = world.notifications("manual_overdue")
    assert note.user_id == world.author.id


def test_pasting_the_live_url_completes_a_manual_post(world: World) -> None:
    variant = world.variant(world.channel("小红书", platform="xiaohongshu"))
    run(world, manual_connector(Platform()))
    variant = world.reload(variant)
    url = "https://www.xiaohongshu.com/explore/65a1b2c3"

    engine.complete_manual_variant(world.db, variant=variant, live_url=url, actor=world.author)
    world.db.commit()

    variant = world.reload(variant)
    assert (variant.state, variant.external_url) == (S.PUBLISHED, url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("xiaohongshu.com/explore/1", "starting with https://"),
        ("ftp://www.xiaohongshu.com/x", "starting with https://"),
        ("https://weibo.com/123/abc", "not on xiaohongshu.com"),
        ("https://evilxiaohongshu.com/x", "not on xiaohongshu.com"),
    ],
)
def test_a_wrong_live_url_is_refused_and_changes_nothing(world: World, url: str, says: str) -> None:
    variant = world.variant(world.channel("小红书", platform="xiaohongshu"))
    run(world, manual_connector(Platform()))
    variant = world.reload(variant)
    with pytest.raises(UserError, match=says):
        engine.complete_manual_variant(world.db, variant=variant, live_url=url, actor=world.author)
    world.db.rollback()
    assert world.reload(variant).state == S.PROCESSING


def test_attempts_are_logged_without_secrets(world: World) -> None:
    channel = world.channel()
    variant = world.variant(channel)
    run(world, FakeConnector(Platform()))
    (attempt,) = world.attempts(variant)
    assert set(attempt.request_summary) == {
        "idempotency_key",
        "text_chars",
        "title",
        "link",
        "media",
        "cover",
        "late",
    }
    assert attempt.duration_ms >= 0
    count = world.db.scalar(select(func.count()).select_from(PublishAttempt))
    assert count == 1


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """A local SMTP server that keeps what it receives: (recipients, message)."""
    received: list[tuple[str, str]] = []

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            content = envelope.content  # type: ignore[attr-defined]
            received.append((",".join(envelope.rcpt_tos), content.decode("utf-8")))  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_failures_are_e_mailed_in_each_persons_language(
    world: World, smtp_sink: tuple[int, list[tuple[str, str]]]
) -> None:
    port, received = smtp_sink
    world.settings = world.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    world.author.language = "zh_Hans"
    world.db.commit()
    variant = world.variant(world.channel())
    run(world, FakeConnector(Platform(), [PermanentError("content refused")]))

    assert world.reload(variant).state == S.FAILED
    by_recipient = dict(received)
    assert set(by_recipient) == {"eddie@acme.example", "olivia@acme.example"}
    assert "content refused" in by_recipient["olivia@acme.example"]
    assert "could not be published" in by_recipient["olivia@acme.example"]


def test_an_unreachable_mail_server_never_breaks_publishing(world: World) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    world.settings = world.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": closed_port, "smtp_starttls": False}
    )
    variant = world.variant(world.channel())
    run(world, FakeConnector(Platform(), [PermanentError("content refused")]))
    assert world.reload(variant).state == S.FAILED
    assert len(world.notifications("publish_failed")) == 2  # in the app all the same


def test_a_post_whose_media_was_deleted_fails_with_a_clear_reason(world: World) -> None:
    variant = world.variant(world.channel())
    world.reload(variant).media_ids = [999_999]
    world.db.commit()
    connector = FakeConnector(Platform())
    assert run(world, connector) == [S.FAILED]
    assert "deleted" in world.reload(variant).state_reason
    assert connector.calls == []  # nothing was sent
    assert [a.action for a in world.attempts(variant)] == ["prepare"]


def test_a_connector_that_cannot_be_built_leaves_the_variant_to_retry(world: World) -> None:
    variant = world.variant(world.channel())
    claimed = engine.dispatch_due(world.sessions, now=NOW, limit=5, worker_id="w1")

    def broken(_channel: Channel) -> Connector:
        raise LookupError("no connector named 'fake'")

    state = engine.execute_variant(
        world.sessions,
        claimed[0],
        connector_for=broken,
        now=NOW,
        worker_id="w1",
        settings=world.settings,
    )
    assert state == S.SCHEDULED
    assert world.reload(variant).attempt_count == 1
