"""Triage's pages: moderation and assignment rules with the log of automatic actions (and
undoing one), response targets, and the team report."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Membership, Permission
from guanxi.accounts.service import list_members
from guanxi.channels.service import list_channels
from guanxi.core import fields, i18n
from guanxi.core.bounds import DB_INT_MAX, parse_id
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError
from guanxi.inbox.items.models import PRIORITY_LABELS
from guanxi.inbox.items.service import InvalidInboxInputError
from guanxi.inbox.people.models import PERSON_KIND_LABELS
from guanxi.inbox.triage import assignment, rules
from guanxi.inbox.triage.models import ACTION_STATE_LABELS, SlaPolicy
from guanxi.inbox.triage.moderation import ACTION_LABELS, list_actions, reverse_action
from guanxi.inbox.triage.screening import CONDITION_LABELS, reasons_in_words
from guanxi.inbox.triage.sla import DEFAULT_CRISIS_WORDS, get_targets, save_targets
from guanxi.inbox.triage.team_report import team_report, volume_chart
from guanxi.web.charts import echarts_option
from guanxi.web.deps import Db, Member, Writer, client_ip, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
REPORT_PERIODS = (7, 30, 90)


def _rules_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    members = list_members(db, workspace=workspace)
    return render(
        request,
        "inbox/rules.html",
        {
            "section": "inbox",
            "rules": rules.list_rules(db, workspace_id=workspace.id),
            "assignment_rules": assignment.list_assignment_rules(db, workspace_id=workspace.id),
            "actions": list_actions(db, workspace_id=workspace.id, limit=100),
            "condition_labels": {str(k): v for k, v in CONDITION_LABELS.items()},
            "priority_labels": PRIORITY_LABELS,
            "reasons_in_words": reasons_in_words,
            "action_labels": {str(k): v for k, v in ACTION_LABELS.items()},
            "action_state_labels": {str(k): v for k, v in ACTION_STATE_LABELS.items()},
            "kind_labels": {str(k): v for k, v in PERSON_KIND_LABELS.items() if k},
            "members": {m.user_id: m.user for m in members},
            "writers": [m.user for m in members if m.can(Permission.WRITE)],
            "platforms": sorted({c.platform for c in list_channels(db, workspace=workspace)}),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/inbox/rules")
def rules_page(request: Request, db: Db, membership: Member) -> Response:
    """Moderation rules, assignment rules and the log of automatic actions."""
    return _rules_page(request, db, membership)


@router.post("/w/{slug}/inbox/rules")
def create_rule(request: Request, db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Add a moderation rule from the form (conditions and actions are checkboxes)."""
    conditions = [
        (kind, form_value(form, f"condition_value_{kind}")) for kind in form.get("condition", [])
    ]
    actions = [
        (kind, form_value(form, f"action_value_{kind}")) for kind in form.get("rule_action", [])
    ]
    try:
        rules.create_rule(
            db,
            membership=membership,
            name=form_value(form, "name"),
            conditions=conditions,
            actions=actions,
            match_all=form_value(form, "match") == "all",
        )
    except UserError as exc:
        db.rollback()
        return _rules_page(
            request, db, membership, error=exc.translated(i18n.gettext), status_code=400
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/rules", status_code=303)


@router.post("/w/{slug}/inbox/rules/{rule_id}/{change}")
def change_rule(db: Db, membership: Writer, rule_id: int, change: str) -> Response:
    """Turn a moderation rule on or off, or delete it."""
    if change == "delete":
        rules.delete_rule(db, membership=membership, rule_id=rule_id)
    else:
        rules.set_rule_enabled(
            db, membership=membership, rule_id=rule_id, enabled=change == "enable"
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/rules", status_code=303)


@router.post("/w/{slug}/inbox/assignment-rules")
def create_assignment_rule(
    request: Request, db: Db, membership: Writer, form: SubmittedForm
) -> Response:
    """Add an assignment rule (round robin over the chosen members)."""
    try:
        assignment.create_assignment_rule(
            db,
            membership=membership,
            name=form_value(form, "name"),
            platform=form_value(form, "platform"),
            topic=form_value(form, "topic"),
            assignee_ids=[
                user_id for v in form.get("assignee", []) if (user_id := parse_id(v)) is not None
            ],
        )
    except UserError as exc:
        db.rollback()
        return _rules_page(
            request, db, membership, error=exc.translated(i18n.gettext), status_code=400
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/rules", status_code=303)


@router.post("/w/{slug}/inbox/assignment-rules/{rule_id}/delete")
def delete_assignment_rule(db: Db, membership: Writer, rule_id: int) -> Response:
    """Remove an assignment rule."""
    assignment.delete_assignment_rule(db, membership=membership, rule_id=rule_id)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/rules", status_code=303)


@router.post("/w/{slug}/inbox/actions/{action_id}/reverse")
def reverse(request: Request, db: Db, membership: Writer, action_id: int) -> Response:
    """Undo an automatic moderation action (where the platform allows)."""
    action = reverse_action(db, membership=membership, action_id=action_id, ip=client_ip(request))
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/items/{action.item_id}", status_code=303
    )


# --- SLA ---------------------------------------------------------------------------------


def _sla_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    error: str | None = None,
    values: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    policy = db.get(SlaPolicy, workspace.id)
    return render(
        request,
        "inbox/sla.html",
        {
            "section": "inbox",
            "targets": get_targets(db, workspace_id=workspace.id, timezone=workspace.timezone),
            "crisis_words": "\n".join(
                policy.crisis_words if policy and policy.crisis_words else DEFAULT_CRISIS_WORDS
            ),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            "values": values,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/inbox/sla")
def sla_page(request: Request, db: Db, membership: Member) -> Response:
    """The workspace's response targets and business hours."""
    return _sla_page(request, db, membership)


def _minutes(value: str) -> int:
    hours, _, minutes = value.partition(":")
    if not hours.isdecimal() or (minutes and not minutes.isdecimal()):
        raise InvalidInboxInputError(i18n.gettext("Write times as HH:MM, e.g. 09:00."))
    return int(hours) * 60 + int(minutes or 0)


FIRST_RESPONSE_LABEL = N_("First response within (minutes)")


def _target(form: dict[str, list[str]], name: str, label: str) -> int:
    """A target in minutes; its range is the service's to check and explain."""
    value = form_value(form, name)
    return fields.whole_number(value, field=label, minimum=0, maximum=DB_INT_MAX, default=0)


@router.post("/w/{slug}/inbox/sla")
def save_sla(request: Request, db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Save the targets; bad values come back explained with what was typed."""
    try:
        save_targets(
            db,
            workspace_id=membership.workspace_id,
            first_response_minutes=_target(
                form, "first_response", N_("First response within (minutes)")
            ),
            resolution_minutes=_target(form, "resolution", N_("Resolution within (minutes)")),
            business_hours_only=form_value(form, "business_hours") == "1",
            day_start_minute=_minutes(form_value(form, "day_start") or "09:00"),
            day_end_minute=_minutes(form_value(form, "day_end") or "18:00"),
            business_days=[int(d) for d in form.get("day", []) if d.isdecimal()],
            crisis_words=form_value(form, "crisis_words").splitlines(),
        )
    except (UserError, ValueError) as exc:
        db.rollback()
        message = (
            exc.translated(i18n.gettext)
            if isinstance(exc, UserError)
            else i18n.gettext("Targets are whole numbers of minutes.")
        )
        return _sla_page(request, db, membership, error=message, values=form, status_code=400)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/inbox/sla", status_code=303)


# --- Team report -------------------------------------------------------------------------


@router.get("/w/{slug}/inbox/report")
def report_page(request: Request, db: Db, membership: Member, days: int = 30) -> Response:
    """Volume, first response p50/p90 and resolution time, for the team and per person."""
    period = days if days in REPORT_PERIODS else 30
    now = utcnow()
    report = team_report(
        db, workspace_id=membership.workspace_id, since=now - timedelta(days=period), until=now
    )
    members = {m.user_id: m.user for m in list_members(db, workspace=membership.workspace)}
    chart = volume_chart(report)
    return render(
        request,
        "inbox/report.html",
        {
            "section": "inbox",
            "report": report,
            "volume_option": echarts_option(chart, i18n.current_language())
            if chart.categories
            else None,
            "members": members,
            "days": period,
            "periods": REPORT_PERIODS,
        },
    )
