"""The listening insight pages and API: topic queries, dashboards, alerts.

Pages live under ``/w/{slug}/listen/`` (dashboard, topics, alerts); the dashboard's charts
read one JSON endpoint per panel under ``/api/v1/w/{slug}/listen/``, which answers a
signed-in member's browser (session cookie) or an API token of the same workspace.
Every route looks the workspace up through the membership: another workspace's answers 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Permission
from guanxi.core import fields, i18n
from guanxi.core.bounds import DB_INT_MAX, parse_id
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
from guanxi.web.deps import (
    ApiAuthError,
    Approver,
    Db,
    Member,
    Writer,
    api_member,
    session_user,
    verify_csrf,
)
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

LIST_PARAMS = ("platform", "topic", "sentiment", "kind", "stage")


def insight_reader(slug: str, request: Request, db: Db) -> Membership:
    """The membership of a dashboard API call: an API token, else the signed-in session."""
    if request.headers.get("authorization"):
        membership = api_member(request, db)
        if membership.workspace.slug != slug:
            raise NotFoundError(N_("There is no workspace at this address, or it is not yours."))
    else:
        user = session_user(request, db)
        if user is None:
            raise ApiAuthError(N_("Sign in, or send an API token as 'Authorization: Bearer'."))
        request.state.user = user
        membership = accounts.get_membership(db, user=user, workspace_slug=slug)
    accounts.require(membership, Permission.READ)
    return membership


Reader = Annotated[Membership, Depends(insight_reader)]


def _day(value: str | None, label: str) -> date | None:
    return fields.day(value, field=label) if value else None


def filters_from(request: Request) -> dashboards.DashboardFilters:
    """The dashboard filters in the query string (lists repeat: ``platform=a&platform=b``)."""
    params = request.query_params
    lists = {name: tuple(v for v in params.getlist(name) if v) for name in LIST_PARAMS}
    topic_ids = tuple(found for value in lists["topic"] if (found := parse_id(value)) is not None)
    if len(topic_ids) != len(lists["topic"]):
        raise UserError(N_("Choose topics from the list."))
    return dashboards.DashboardFilters(
        start=_day(params.get("start"), N_("Start date")),
        end=_day(params.get("end"), N_("End date")),
        platforms=lists["platform"],
        topic_ids=topic_ids,
        sentiments=lists["sentiment"],
        kinds=lists["kind"],
        stages=lists["stage"],
    )


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
    filters = filters_from(request)
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
    filters = filters_from(request)
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
    filters = filters_from(request)
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


@router.get("/api/v1/w/{slug}/listen/dashboard/{panel}", tags=["listening"])
def panel_api(request: Request, membership: Reader, db: Db, panel: str) -> JSONResponse:
    """One dashboard panel as JSON: volume, sentiment, share-of-voice, source-kinds,
    stages, platforms, authors or keywords; the filters are query parameters."""
    compute = dashboards.PANELS.get(panel)
    if compute is None:
        raise NotFoundError(N_("There is no dashboard panel of that name."))
    return JSONResponse(
        compute(db, workspace_id=membership.workspace_id, filters=filters_from(request))
    )


@router.get("/api/v1/w/{slug}/listen/posts", tags=["listening"])
def posts_api(request: Request, membership: Reader, db: Db, page: int = 1) -> JSONResponse:
    """The drill-down list as JSON, with the character spans to highlight."""
    drill = dashboards.drill_down(
        db, workspace_id=membership.workspace_id, filters=filters_from(request), page=page
    )
    rows = [row.as_json() for row in drill["rows"]]
    return JSONResponse({"page": drill["page"], "has_more": drill["has_more"], "rows": rows})


@router.get("/api/v1/w/{slug}/listen/topics", tags=["listening"])
def topics_api(membership: Reader, db: Db) -> JSONResponse:
    """The workspace's topic queries."""
    found = topics.list_topics(db, workspace_id=membership.workspace_id)
    return JSONResponse(
        [
            {
                "id": t.id,
                "name": t.name,
                "category": t.category,
                "query": t.query,
                "active": t.active,
            }
            for t in found
        ]
    )


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
