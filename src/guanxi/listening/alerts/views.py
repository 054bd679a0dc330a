"""The alerts' pages: the alerts fired, the rules, and "Check now".

Pages live under ``/w/{slug}/listen/alerts``. Every route looks the workspace up through the
membership: another workspace's answers 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core import fields, i18n
from guanxi.core.bounds import DB_INT_MAX
from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings
from guanxi.listening.alerts import scheduled
from guanxi.listening.alerts import service as alerts
from guanxi.listening.alerts.models import ALERT_METRIC_LABELS, AlertMetric
from guanxi.listening.topics import service as topics
from guanxi.outbound.addresses import AddressPolicy
from guanxi.web.deps import Approver, Db, Member, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _alerts_page(request: Request, membership: Membership, db: Session, **extra: Any) -> Response:
    workspace_id = membership.workspace_id
    context = {
        "section": "listen",
        "slug": membership.workspace.slug,
        "rules": alerts.list_rules(db, workspace_id=workspace_id),
        "alerts": alerts.list_alerts(db, workspace_id=workspace_id),
        "topics": topics.list_topics(db, workspace_id=workspace_id),
        "metrics": list(AlertMetric),
        "defaults": alerts.RuleForm(topic_id=0),
        "error": "",
        "checking": request.query_params.get("checking") == "1",
        "metric_labels": ALERT_METRIC_LABELS,
    }
    context.update(extra)
    return render(
        request, "listen/insight/alerts.html", context, status_code=400 if context["error"] else 200
    )


@router.get("/w/{slug}/listen/alerts")
def alerts_page(request: Request, membership: Member, db: Db) -> Response:
    """The alerts fired, newest first, and the rules."""
    return _alerts_page(request, membership, db)


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _whole(form: dict[str, Any], name: str, label: str, default: int) -> int:
    """A whole-number field; its range is the service's to check and explain."""
    return fields.whole_number(
        _text(form, name), field=label, minimum=0, maximum=DB_INT_MAX, default=default
    )


def _decimal(form: dict[str, Any], name: str, label: str, default: float) -> float:
    return fields.decimal_number(
        _text(form, name), field=label, minimum=0, maximum=1_000_000, default=default
    )


@router.post("/w/{slug}/listen/alerts/rules")
async def rule_create(request: Request, membership: Approver, db: Db) -> Response:
    """Add an alert rule."""
    form = dict(await request.form())
    default = alerts.RuleForm(topic_id=0)
    try:
        rule_form = alerts.RuleForm(
            topic_id=fields.optional_id(_text(form, "topic_id"), field=N_("Topic")) or 0,
            metric=str(form.get("metric", "volume")),
            window_hours=_whole(form, "window_hours", N_("Window (hours)"), default.window_hours),
            baseline_days=_whole(
                form, "baseline_days", N_("Baseline (days)"), default.baseline_days
            ),
            factor=_decimal(form, "factor", N_("Times the baseline"), default.factor),
            share_increase=_decimal(
                form,
                "share_increase",
                N_("Negative share increase (0 to 1)"),
                default.share_increase,
            ),
            min_mentions=_whole(
                form, "min_mentions", N_("At least (mentions)"), default.min_mentions
            ),
            cooldown_hours=_whole(
                form, "cooldown_hours", N_("Cooldown (hours)"), default.cooldown_hours
            ),
            notify_in_app=form.get("notify_in_app") == "on",
            notify_email=form.get("notify_email") == "on",
            webhook_url=str(form.get("webhook_url", "")),
        )
        settings: Settings = request.app.state.settings
        policy = AddressPolicy.from_text(settings.outbound_allow_networks)
        alerts.save_rule(db, workspace_id=membership.workspace_id, form=rule_form, policy=policy)
    except UserError as error:
        db.rollback()
        return _alerts_page(request, membership, db, error=error.translated(i18n.gettext))
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/listen/alerts", status_code=303)


@router.post("/w/{slug}/listen/alerts/rules/{rule_id}/delete")
def rule_delete(membership: Approver, db: Db, rule_id: int) -> Response:
    """Remove an alert rule and its alerts."""
    db.delete(alerts.get_rule(db, workspace_id=membership.workspace_id, rule_id=rule_id))
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/listen/alerts", status_code=303)


@router.post("/w/{slug}/listen/alerts/check")
def alerts_check(membership: Approver) -> Response:
    """Queue a check of the workspace's rules now rather than at the next scheduled run."""
    scheduled.enqueue_alert_checks(membership.workspace_id)
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/listen/alerts?checking=1", status_code=303
    )
