"""The listening insight pages: topic queries, dashboards, alerts.

Pages live under ``/w/{slug}/listen/`` (dashboard, topics, alerts); the dashboard's charts
read their panels from the listening API (``listening/api.py``) with the session cookie.
Every route looks the workspace up through the membership: another workspace's answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core import fields, i18n
from guanxi.core.bounds import DB_INT_MAX
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.settings import Settings
from guanxi.listening import alert_jobs, alerts, dashboards, topics
from guanxi.listening.dashboard_exports import csv_chunks, xlsx_file
from guanxi.listening.queries import QuerySyntaxError
from guanxi.listening.topic_models import (
    ALERT_METRIC_LABELS,
    TOPIC_CATEGORY_LABELS,
    AlertMetric,
    TopicCategory,
)
from guanxi.outbound.addresses import AddressPolicy
from guanxi.web.deps import Approver, Db, Member, Writer, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _labels() -> dict[str, Any]:
    return {
        "sentiment_labels": dashboards.SENTIMENT_LABELS,
        "kind_labels": dashboards.SOURCE_KIND_LABELS,
        "stage_labels": dashboards.STAGE_LABELS,
        "category_labels": TOPIC_CATEGORY_LABELS,
        "metric_labels": ALERT_METRIC_LABELS,
    }


# --- The dashboard ---------------------------------------------------------------------


@router.get("/w/{slug}/listen/dashboard")
def dashboard_page(request: Request, membership: Member, db: Db) -> Response:
    """Filters, one chart per panel (filled from the JSON API), and the drill-down list."""
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    workspace_id = membership.workspace_id
    context = {
        "section": "listen",
        "slug": membership.workspace.slug,
        "filters": filters,
        "topics": topics.list_topics(db, workspace_id=workspace_id),
        "query_string": request.url.query,
        "total": dashboards.total_mentions(db, workspace_id=workspace_id, filters=filters),
        "drill": dashboards.drill_down(db, workspace_id=workspace_id, filters=filters),
        **_labels(),
    }
    return render(request, "listen/insight/dashboard.html", context)


@router.get("/w/{slug}/listen/dashboard/posts")
def drill_down_fragment(request: Request, membership: Member, db: Db, page: int = 1) -> Response:
    """One page of the drill-down list (HTMX swaps it in)."""
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    drill = dashboards.drill_down(
        db, workspace_id=membership.workspace_id, filters=filters, page=page
    )
    query = "&".join(part for part in request.url.query.split("&") if not part.startswith("page="))
    context = {
        "slug": membership.workspace.slug,
        "drill": drill,
        "query_string": query,
        **_labels(),
    }
    return render(request, "listen/insight/_posts.html", context)


@router.get("/w/{slug}/listen/dashboard/export.{extension}")
def export(request: Request, membership: Member, db: Db, extension: str) -> Response:
    """The filtered mentions as CSV or XLSX."""
    filters = dashboards.DashboardFilters.from_query(request.query_params)
    name = f"{membership.workspace.slug}-mentions-{datetime.now(UTC).date().isoformat()}"
    if extension == "csv":
        body = b"".join(csv_chunks(db, workspace_id=membership.workspace_id, filters=filters))
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if extension == "xlsx":
        body = xlsx_file(
            db, workspace_id=membership.workspace_id, filters=filters, title=i18n.gettext
        )
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    raise NotFoundError(N_("Exports are CSV or XLSX files."))


# --- Topics ----------------------------------------------------------------------------


def _topic_form(form: dict[str, Any]) -> topics.TopicForm:
    return topics.TopicForm(
        name=str(form.get("name", "")),
        query=str(form.get("query", "")),
        category=str(form.get("category", TopicCategory.THEME)),
        active=form.get("active") == "on",
    )


def _topics_page(request: Request, membership: Membership, db: Session, **extra: Any) -> Response:
    context = {
        "section": "listen",
        "slug": membership.workspace.slug,
        "topics": topics.list_topics(db, workspace_id=membership.workspace_id),
        "categories": list(TopicCategory),
        "edit": None,
        "error": "",
        "pointer": "",
        "form": None,
        **_labels(),
    }
    context.update(extra)
    status = 400 if context["error"] else 200
    return render(request, "listen/insight/topics.html", context, status_code=status)


@router.get("/w/{slug}/listen/topics")
def topics_page(request: Request, membership: Member, db: Db) -> Response:
    """The topic queries and a form to add one."""
    return _topics_page(request, membership, db)


@router.get("/w/{slug}/listen/topics/{topic_id}")
def topic_edit_page(request: Request, membership: Member, db: Db, topic_id: int) -> Response:
    """The form to change one topic query."""
    topic = topics.get_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
    return _topics_page(request, membership, db, edit=topic)


@router.post("/w/{slug}/listen/topics")
async def topic_create(request: Request, membership: Writer, db: Db) -> Response:
    """Add a topic query; a bad query is shown again with the error under it."""
    return await _save_topic(request, membership, db, topic_id=0)


@router.post("/w/{slug}/listen/topics/{topic_id}")
async def topic_update(request: Request, membership: Writer, db: Db, topic_id: int) -> Response:
    """Change a topic query."""
    topics.get_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
    return await _save_topic(request, membership, db, topic_id=topic_id)


async def _save_topic(
    request: Request, membership: Membership, db: Session, *, topic_id: int
) -> Response:
    form = _topic_form(dict(await request.form()))
    try:
        if topic_id:
            topics.update_topic(
                db, workspace_id=membership.workspace_id, topic_id=topic_id, form=form
            )
        else:
            topics.create_topic(db, workspace_id=membership.workspace_id, form=form)
    except UserError as error:
        db.rollback()
        edit = (
            topics.get_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
            if topic_id
            else None
        )
        pointer = error.pointer if isinstance(error, QuerySyntaxError) else ""
        return _topics_page(
            request,
            membership,
            db,
            edit=edit,
            form=form,
            error=error.translated(i18n.gettext),
            pointer=pointer,
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/listen/topics", status_code=303)


@router.post("/w/{slug}/listen/topics/{topic_id}/delete")
def topic_delete(membership: Writer, db: Db, topic_id: int) -> Response:
    """Remove a topic query with its matches."""
    topics.delete_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/listen/topics", status_code=303)


@router.post("/w/{slug}/listen/topics-validate")
async def topic_validate(request: Request, membership: Member) -> Response:
    """Live validation while typing (HTMX): the error with a caret, or a confirmation."""
    form = await request.form()
    text = str(form.get("query", ""))
    error, pointer = "", ""
    try:
        topics.validate_query(text)
    except QuerySyntaxError as problem:
        error, pointer = problem.translated(i18n.gettext), problem.pointer
    context = {"error": error, "pointer": pointer, "slug": membership.workspace.slug}
    return render(request, "listen/insight/_validation.html", context)


# --- Alerts ----------------------------------------------------------------------------


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
        **_labels(),
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
    alert_jobs.enqueue_alert_checks(membership.workspace_id)
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/listen/alerts?checking=1", status_code=303
    )
