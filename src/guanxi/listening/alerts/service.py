"""Spike alerts per topic: detection against a rolling baseline, cooldown, and delivery.

A rule compares the last ``window_hours`` with the ``baseline_days`` before them:

- volume: the baseline gives the expected count for a window of that length; a spike is at
  least ``min_mentions`` mentions and at least ``factor`` times the expected count and
  three Poisson standard deviations above it (so a quiet topic's 1 → 3 is no crisis);
- negative share: at least ``min_mentions`` mentions, with a share of negative ones at
  least ``share_increase`` above the baseline's share.

A spike is one alert: while it lasts the rule stays quiet (later checks only count as
``suppressed`` on that alert), and a new spike within ``cooldown_hours`` of the last alert
is suppressed too. An alert is delivered in the app and by e-mail to the workspace's
managers (``notifications.service``: the e-mail leaves after the commit), and to the rule's
webhook (a JSON POST through the guarded ``outbound`` client, so only to public addresses;
the outcome is recorded on the alert, never raised). Checks run in the worker.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.settings import Settings
from guanxi.listening.alerts.models import Alert, AlertMetric, AlertRule
from guanxi.listening.mentions.models import Author, Mention, MentionEnrichment
from guanxi.listening.store import mention_store
from guanxi.listening.topics.models import TopicMatch, TopicQuery
from guanxi.notifications import service as notifications
from guanxi.outbound.addresses import AddressPolicy
from guanxi.outbound.client import DeliveryFailed, OutboundClient, check_address

log = logging.getLogger(__name__)

DRIVING_POSTS = 5
VOLUME_SPIKE = "listening_volume_spike"
NEGATIVE_SPIKE = "listening_negative_spike"
notifications.register_kinds(
    {
        VOLUME_SPIKE: N_(
            "“{topic}” is spiking: {current} mentions in the last {hours} h, {baseline} usually."
        ),
        NEGATIVE_SPIKE: N_(
            "“{topic}” is turning negative: {current}% negative in the last {hours} h, "
            "{baseline}% usually ({mentions} mentions)."
        ),
    }
)


@dataclass(frozen=True)
class RuleForm:
    """What a person sets on an alert rule."""

    topic_id: int
    metric: str = AlertMetric.VOLUME
    window_hours: int = 6
    baseline_days: int = 7
    factor: float = 2.0
    share_increase: float = 0.2
    min_mentions: int = 20
    cooldown_hours: int = 24
    notify_in_app: bool = True
    notify_email: bool = True
    webhook_url: str = ""


def save_rule(
    db: Session,
    *,
    workspace_id: int,
    form: RuleForm,
    rule_id: int = 0,
    policy: AddressPolicy | None = None,
) -> AlertRule:
    """Create (or, with ``rule_id``, change) an alert rule after checking its values.

    ``policy`` says which webhook addresses are acceptable (public ones by default).
    """
    topic = db.get(TopicQuery, form.topic_id)
    if topic is None or topic.workspace_id != workspace_id:
        raise UserError(N_("Choose one of the workspace's topics to watch."))
    if form.metric not in set(AlertMetric):
        raise UserError(N_("Choose what to watch: volume or share of negative mentions."))
    checks = (
        (1 <= form.window_hours <= 168, N_("The window is 1 to 168 hours.")),
        (1 <= form.baseline_days <= 90, N_("The baseline is 1 to 90 days.")),
        (1.0 < form.factor <= 100, N_("The factor is more than 1 and at most 100.")),
        (0 < form.share_increase <= 1, N_("The increase of the negative share is 0 to 1.")),
        (1 <= form.min_mentions <= 1_000_000, N_("The minimum is at least 1 mention.")),
        (0 <= form.cooldown_hours <= 720, N_("The cooldown is 0 to 720 hours.")),
    )
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    url = form.webhook_url.strip()
    if url:
        url = check_address(url, policy=policy or AddressPolicy())
    rule = (
        AlertRule(workspace_id=workspace_id)
        if not rule_id
        else get_rule(db, workspace_id=workspace_id, rule_id=rule_id)
    )
    for name in (
        "topic_id",
        "metric",
        "window_hours",
        "baseline_days",
        "factor",
        "share_increase",
        "min_mentions",
        "cooldown_hours",
        "notify_in_app",
        "notify_email",
    ):
        setattr(rule, name, getattr(form, name))
    rule.webhook_url = url
    db.add(rule)
    db.flush()
    return rule


def get_rule(db: Session, *, workspace_id: int, rule_id: int) -> AlertRule:
    """One rule of the workspace."""
    rule = db.get(AlertRule, rule_id)
    if rule is None or rule.workspace_id != workspace_id:
        raise NotFoundError(N_("This alert rule does not exist (any more)."))
    return rule


def list_rules(db: Session, *, workspace_id: int) -> list[AlertRule]:
    """The workspace's alert rules."""
    query = select(AlertRule).where(AlertRule.workspace_id == workspace_id).order_by(AlertRule.id)
    return list(db.scalars(query))


def list_alerts(
    db: Session,
    *,
    workspace_id: int,
    limit: int | None = 100,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Alert]:
    """The workspace's latest alerts (raised from ``since`` and before ``until`` when
    given), newest first; every one when ``limit`` is None."""
    query = select(Alert).where(Alert.workspace_id == workspace_id)
    if since is not None:
        query = query.where(Alert.fired_at >= since)
    if until is not None:
        query = query.where(Alert.fired_at < until)
    query = query.order_by(Alert.fired_at.desc(), Alert.id.desc()).limit(limit)
    return list(db.scalars(query))


# --- Detection -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """A rule's metric now and in the baseline, and whether that is a spike."""

    mentions: int
    negative: int
    baseline_mentions: int
    baseline_negative: int
    expected: float  # volume: mentions expected in a window; share: the baseline share
    current: float  # volume: mentions; share: the current share
    spike: bool


def _counts(db: Session, rule: AlertRule, start: datetime, end: datetime) -> tuple[int, int]:
    return mention_store(db).window_counts(
        workspace_id=rule.workspace_id, topic_id=rule.topic_id, start=start, end=end
    )


def measure(db: Session, *, rule: AlertRule, now: datetime) -> Measurement:
    """The rule's metric over the window ending ``now`` against its baseline."""
    window = timedelta(hours=rule.window_hours)
    mentions, negative = _counts(db, rule, now - window, now)
    baseline_start = now - window - timedelta(days=rule.baseline_days)
    base_mentions, base_negative = _counts(db, rule, baseline_start, now - window)
    if rule.metric == AlertMetric.NEGATIVE_SHARE:
        expected = base_negative / base_mentions if base_mentions else 0.0
        current = negative / mentions if mentions else 0.0
        spike = mentions >= rule.min_mentions and current >= expected + rule.share_increase
    else:
        expected = base_mentions * rule.window_hours / (rule.baseline_days * 24)
        current = float(mentions)
        threshold = max(
            rule.min_mentions, rule.factor * expected, expected + 3 * math.sqrt(expected)
        )
        spike = current >= threshold
    return Measurement(mentions, negative, base_mentions, base_negative, expected, current, spike)


def driving_posts(
    db: Session, *, rule: AlertRule, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The mentions that weigh most in the window: most engagement (negative ones for share)."""
    engagement = Mention.likes + Mention.comments + Mention.reposts
    query = (
        select(Mention, MentionEnrichment.sentiment, Author, engagement.label("engagement"))
        .join(TopicMatch, TopicMatch.mention_id == Mention.id)
        .join(MentionEnrichment, MentionEnrichment.mention_id == Mention.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(
            TopicMatch.workspace_id == rule.workspace_id,
            TopicMatch.topic_id == rule.topic_id,
            TopicMatch.posted_at >= start,
            TopicMatch.posted_at < end,
        )
        .order_by(engagement.desc(), Mention.id.desc())
        .limit(DRIVING_POSTS)
    )
    if rule.metric == AlertMetric.NEGATIVE_SHARE:
        query = query.where(MentionEnrichment.sentiment == "negative")
    return [
        {
            "id": mention.id,
            "text": mention.text[:280],
            "url": mention.url,
            "author": (author.name or author.external_id) if author else "",
            "followers": (author.followers or 0) if author else 0,
            "engagement": int(score),
            "sentiment": sentiment,
            "posted_at": mention.posted_at.isoformat(),
        }
        for mention, sentiment, author, score in db.execute(query)
    ]


def _params(rule: AlertRule, measurement: Measurement) -> dict[str, Any]:
    if rule.metric == AlertMetric.NEGATIVE_SHARE:
        return {
            "topic": rule.topic.name,
            "hours": rule.window_hours,
            "current": round(measurement.current * 100),
            "mentions": measurement.mentions,
            "baseline": round(measurement.expected * 100),
        }
    return {
        "topic": rule.topic.name,
        "hours": rule.window_hours,
        "current": measurement.mentions,
        "baseline": round(measurement.expected, 1),
    }


def check_rule(
    db: Session,
    *,
    settings: Settings,
    rule: AlertRule,
    now: datetime | None = None,
    outbound: OutboundClient | None = None,
) -> Alert | None:
    """Check one rule; return the new alert when a spike starts, else None."""
    now = now or utcnow()
    measurement = measure(db, rule=rule, now=now)
    rule.last_checked_at = now
    if not measurement.spike:
        rule.in_spike = False
        return None
    cooling = rule.last_fired_at is not None and now - rule.last_fired_at < timedelta(
        hours=rule.cooldown_hours
    )
    if rule.in_spike or cooling:
        latest = db.scalar(
            select(Alert).where(Alert.rule_id == rule.id).order_by(Alert.fired_at.desc()).limit(1)
        )
        if latest is not None:
            latest.suppressed += 1
        rule.in_spike = True
        return None
    # Claim the spike in one conditional UPDATE: of two checks of the rule at once (the
    # schedule and an import's end), the one that finds it claimed stays quiet.
    fired_before = AlertRule.last_fired_at
    claim = db.execute(
        update(AlertRule)
        .where(
            AlertRule.id == rule.id,
            AlertRule.in_spike.is_(False),
            fired_before.is_(None)
            if rule.last_fired_at is None
            else fired_before == rule.last_fired_at,
        )
        .values(in_spike=True, last_fired_at=now)
        .execution_options(synchronize_session=False)
    )
    if claim.rowcount == 0:  # type: ignore[attr-defined]
        db.refresh(rule)  # as the other check left it
        return None
    rule.in_spike, rule.last_fired_at = True, now
    start = now - timedelta(hours=rule.window_hours)
    kind = NEGATIVE_SPIKE if rule.metric == AlertMetric.NEGATIVE_SHARE else VOLUME_SPIKE
    params = _params(rule, measurement)
    alert = Alert(
        workspace_id=rule.workspace_id,
        rule=rule,
        topic_id=rule.topic_id,
        metric=rule.metric,
        fired_at=now,
        window_start=start,
        window_end=now,
        baseline_value=measurement.expected,
        current_value=measurement.current,
        current_mentions=measurement.mentions,
        driving_posts=driving_posts(db, rule=rule, start=start, end=now),
        explanation=notifications.render(notifications.MESSAGES[kind], params, "en"),
        deliveries=[],
    )
    db.add(alert)
    db.flush()
    alert.deliveries = _deliver(
        db, settings=settings, rule=rule, alert=alert, kind=kind, params=params, outbound=outbound
    )
    return alert


def _deliver(
    db: Session,
    *,
    settings: Settings,
    rule: AlertRule,
    alert: Alert,
    kind: str,
    params: dict[str, Any],
    outbound: OutboundClient | None,
) -> list[dict[str, Any]]:
    deliveries: list[dict[str, Any]] = []
    at = utcnow().isoformat()
    workspace = db.get(Workspace, rule.workspace_id)
    slug = workspace.slug if workspace is not None else ""
    link = f"/w/{slug}/listen/alerts#alert-{alert.id}"
    if rule.notify_in_app or rule.notify_email:
        recipients = notifications.managers_of(db, workspace_id=rule.workspace_id)
        # notify() writes the in-app rows and, when SMTP is set, e-mails after the commit.
        mail_settings = (
            settings if rule.notify_email else settings.model_copy(update={"smtp_host": ""})
        )
        notes = notifications.notify(
            db,
            settings=mail_settings,
            workspace_id=rule.workspace_id,
            kind=kind,
            params=params,
            recipients=recipients,
            link=link,
        )
        if not rule.notify_in_app:
            for note in notes:  # e-mail only: the rows were needed to address the mail
                db.expunge(note)
        if rule.notify_in_app:
            deliveries.append(
                {"channel": "app", "ok": True, "at": at, "detail": f"{len(notes)} recipient(s)"}
            )
        if rule.notify_email:
            ok = bool(settings.smtp_host)
            detail = f"queued for {len(notes)} recipient(s)" if ok else "SMTP is not configured"
            deliveries.append({"channel": "email", "ok": ok, "at": at, "detail": detail})
    if rule.webhook_url:
        payload = webhook_payload(rule, alert, slug)
        deliveries.append(_post_webhook(settings, rule.webhook_url, payload, outbound))
    return deliveries


def webhook_payload(rule: AlertRule, alert: Alert, workspace_slug: str) -> dict[str, Any]:
    """The JSON a webhook receives."""
    return {
        "event": "guanxi.listening.alert",
        "alert_id": alert.id,
        "rule_id": rule.id,
        "workspace": workspace_slug,
        "topic": rule.topic.name,
        "metric": alert.metric,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "baseline": alert.baseline_value,
        "current": alert.current_value,
        "mentions": alert.current_mentions,
        "explanation": alert.explanation,
        "posts": alert.driving_posts,
    }


def _post_webhook(
    settings: Settings, url: str, payload: dict[str, Any], outbound: OutboundClient | None
) -> dict[str, Any]:
    at = utcnow().isoformat()
    client = outbound or OutboundClient.from_settings(settings)
    try:
        answer = client.post_json(url, payload)
    except DeliveryFailed as failure:  # why is in the server log, not shown to the user
        return {"channel": "webhook", "ok": False, "at": at, "detail": failure.message}
    finally:
        if outbound is None:
            client.close()
    return {"channel": "webhook", "ok": answer.ok, "at": at, "detail": f"HTTP {answer.status_code}"}


def check_alerts(
    db: Session,
    *,
    settings: Settings,
    workspace_id: int | None = None,
    now: datetime | None = None,
    outbound: OutboundClient | None = None,
) -> list[Alert]:
    """Check every active rule (of one workspace, or all); return the alerts fired."""
    query = select(AlertRule).where(AlertRule.active.is_(True)).order_by(AlertRule.id)
    if workspace_id is not None:
        query = query.where(AlertRule.workspace_id == workspace_id)
    fired = []
    for rule in db.scalars(query).all():
        if not rule.topic.active:
            continue
        alert = check_rule(db, settings=settings, rule=rule, now=now, outbound=outbound)
        if alert is not None:
            fired.append(alert)
    return fired
