"""A workspace's team-chat robots, and the deliveries the worker sends to them.

Managers add a robot (its kind, a name, the webhook address and an optional sign secret,
both stored encrypted) and send it a test message. A notification a person wants in the team
chat becomes one ``TeamChatDelivery`` per robot, written in the notification's transaction.
The worker's scheduled job claims the due ones and queues a send for each (``tasks``); a
failed send is tried again later with backoff, up to ``MAX_ATTEMPTS``, then marked failed;
the robots page shows the latest deliveries with their errors.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import record_audit, require
from guanxi.core import leases
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.i18n import get_translations
from guanxi.core.security import SecretBox, SecretDecryptionError
from guanxi.core.settings import Settings
from guanxi.notifications import teamchat
from guanxi.notifications.models import TeamChatDelivery, TeamChatRobot
from guanxi.notifications.teamchat import SIGNED, RobotKind
from guanxi.outbound.addresses import AddressPolicy
from guanxi.outbound.client import DeliveryFailed, OutboundClient, check_address

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BASE_S = 30.0
RETRY_CAP_S = 1800.0
CLAIM_LEASE_S = 120.0  # a claimed delivery is tried again after this if its send vanished
CLAIM_BATCH = 50
RECENT_DELIVERIES = 20
NAME_MAX = 80
SECRET_MAX = 200
LANGUAGES = ("zh_Hans", "en")


class DeliveryStatus:
    """Where a delivery stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


NO_SUCH_ROBOT = N_("This workspace has no team-chat robot with this number.")
KEY_CHANGED = N_(
    "guanxi cannot read this robot's address any more (the secret key changed): remove the "
    "robot and add it again."
)
TEST_MESSAGE = N_("guanxi test message: this robot will post the team's notifications here.")


@dataclass(frozen=True)
class RobotForm:
    """What a manager enters for a robot."""

    kind: str
    name: str
    url: str
    secret: str = ""
    language: str = "zh_Hans"


def _hint(url: str) -> str:
    """What the page shows of the address: its host and path start, never its key."""
    parsed = httpx.URL(url)
    return f"{parsed.host}{parsed.path[:24]}…"[:120]


def add_robot(
    db: Session, *, membership: Membership, form: RobotForm, settings: Settings
) -> TeamChatRobot:
    """Add a robot to the membership's workspace (managers only); bad input says what to fix."""
    require(membership, Permission.APPROVE)
    try:
        kind = RobotKind(form.kind)
    except ValueError:
        raise UserError(N_("Choose WeCom, DingTalk or Feishu/Lark.")) from None
    name = " ".join(form.name.split())
    if not name or len(name) > NAME_MAX:
        raise UserError(N_("Give the robot a name of 1 to {max} characters."), max=NAME_MAX)
    policy = AddressPolicy.from_text(settings.outbound_allow_networks)
    url = check_address(form.url, policy=policy)
    secret = form.secret.strip()
    if len(secret) > SECRET_MAX:
        raise UserError(N_("The sign secret may have up to {max} characters."), max=SECRET_MAX)
    if secret and kind not in SIGNED:
        raise UserError(N_("A WeCom group robot has no sign secret: leave the field empty."))
    language = form.language if form.language in LANGUAGES else LANGUAGES[0]
    box = SecretBox.from_settings(settings)
    robot = TeamChatRobot(
        workspace_id=membership.workspace_id,
        kind=kind.value,
        name=name,
        language=language,
        url_encrypted=box.encrypt(url),
        secret_encrypted=box.encrypt(secret) if secret else "",
        address_hint=_hint(url),
    )
    db.add(robot)
    db.flush()
    record_audit(
        db,
        actor=membership.user,
        workspace=membership.workspace,
        action="team_chat_robot.add",
        entity_type="team_chat_robot",
        entity_id=robot.id,
        after={"kind": kind.value, "name": name, "signed": bool(secret)},
    )
    return robot


def list_robots(db: Session, *, workspace_id: int) -> list[TeamChatRobot]:
    """The workspace's robots, oldest first."""
    query = select(TeamChatRobot).where(TeamChatRobot.workspace_id == workspace_id)
    return list(db.scalars(query.order_by(TeamChatRobot.id)))


def get_robot(db: Session, *, workspace_id: int, robot_id: int) -> TeamChatRobot:
    """One of the workspace's robots; NotFound for another workspace's."""
    robot = db.get(TeamChatRobot, robot_id)
    if robot is None or robot.workspace_id != workspace_id:
        raise NotFoundError(NO_SUCH_ROBOT)
    return robot


def remove_robot(db: Session, *, membership: Membership, robot_id: int) -> None:
    """Remove a robot and its deliveries (managers only)."""
    require(membership, Permission.APPROVE)
    robot = get_robot(db, workspace_id=membership.workspace_id, robot_id=robot_id)
    record_audit(
        db,
        actor=membership.user,
        workspace=membership.workspace,
        action="team_chat_robot.remove",
        entity_type="team_chat_robot",
        entity_id=robot.id,
        before={"kind": robot.kind, "name": robot.name},
    )
    db.delete(robot)
    db.flush()


def queue_test(db: Session, *, membership: Membership, robot_id: int) -> TeamChatDelivery:
    """Queue a test message to one robot (managers only); the worker sends it."""
    require(membership, Permission.APPROVE)
    robot = get_robot(db, workspace_id=membership.workspace_id, robot_id=robot_id)
    text = get_translations(robot.language).gettext(TEST_MESSAGE)
    return _queue(db, robot=robot, text=text)


def queue_message(db: Session, *, workspace_id: int, texts: dict[str, str]) -> int:
    """Queue a message to every robot of the workspace (``texts``: language → text)."""
    robots = list_robots(db, workspace_id=workspace_id)
    for robot in robots:
        text = texts.get(robot.language) or next(iter(texts.values()))
        _queue(db, robot=robot, text=text)
    return len(robots)


def _queue(db: Session, *, robot: TeamChatRobot, text: str) -> TeamChatDelivery:
    delivery = TeamChatDelivery(
        workspace_id=robot.workspace_id, robot_id=robot.id, text=text, next_attempt_at=utcnow()
    )
    db.add(delivery)
    db.flush()
    return delivery


def error_text(delivery: TeamChatDelivery, gettext: Callable[[str], str]) -> str:
    """Why the delivery's last attempt failed, in the reader's language ("" when it did not)."""
    if not delivery.last_error:
        return ""
    try:
        stored = json.loads(delivery.last_error)
        return gettext(stored["message"]).format(**stored["params"])
    except (ValueError, KeyError, TypeError, IndexError):
        return delivery.last_error


def recent_deliveries(db: Session, *, workspace_id: int) -> list[TeamChatDelivery]:
    """The workspace's latest deliveries, newest first (the robots page shows failures)."""
    query = (
        select(TeamChatDelivery)
        .where(TeamChatDelivery.workspace_id == workspace_id)
        .order_by(TeamChatDelivery.id.desc())
        .limit(RECENT_DELIVERIES)
    )
    return list(db.scalars(query))


# --- The worker's side --------------------------------------------------------------------------


def claim_due(db: Session, *, now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Claim the pending deliveries that are due: each is leased for ``CLAIM_LEASE_S`` so a
    second claim before its send ends does not send it twice. Returns their ids."""
    return leases.claim_due(
        db,
        row_id=TeamChatDelivery.id,
        status=TeamChatDelivery.status,
        due_at=TeamChatDelivery.next_attempt_at,
        pending=DeliveryStatus.PENDING,
        now=now,
        lease_s=CLAIM_LEASE_S,
        limit=limit,
    )


def backoff_s(attempt: int) -> float:
    """Exponential backoff with full jitter: uniform in [base, min(cap, base·2^attempt)]."""
    ceiling = min(RETRY_CAP_S, RETRY_BASE_S * 2**attempt)
    return random.uniform(RETRY_BASE_S, max(RETRY_BASE_S, ceiling))  # noqa: S311 - jitter


def record_attempt(
    delivery: TeamChatDelivery, *, error: str | None, now: datetime
) -> TeamChatDelivery:
    """Write a send's outcome: sent, tried again later, or failed for good."""
    delivery.attempts += 1
    if error is None:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
        return delivery
    delivery.last_error = error[:500]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        log.warning("team-chat delivery %s failed for good: %s", delivery.id, error)
    else:
        delivery.next_attempt_at = now + timedelta(seconds=backoff_s(delivery.attempts))
    return delivery


def send_delivery(
    db: Session, *, delivery_id: int, client: OutboundClient, box: SecretBox, now: datetime
) -> str | None:
    """Send one claimed delivery and record the outcome (committed); its status, or None
    when it is gone or no longer pending."""
    delivery = db.get(TeamChatDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    robot = db.get_one(TeamChatRobot, delivery.robot_id)
    error: str | None = None
    try:
        url = box.decrypt(robot.url_encrypted)
        secret = box.decrypt(robot.secret_encrypted) if robot.secret_encrypted else ""
        teamchat.send(client, RobotKind(robot.kind), url=url, secret=secret, text=delivery.text)
    except SecretDecryptionError:
        error = json.dumps({"message": KEY_CHANGED, "params": {}})
    except (DeliveryFailed, teamchat.RobotRefused) as failure:
        params = {name: str(value) for name, value in failure.params.items()}
        error = json.dumps({"message": failure.message, "params": params}, ensure_ascii=False)
    record_attempt(delivery, error=error, now=now)
    db.commit()
    return delivery.status
