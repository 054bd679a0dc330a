"""Calendar, campaigns and publishing-policy pages (thin: the logic is in ``calendar`` and
``policy``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_interval, format_skeleton, get_day_names
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from guanxi.accounts import profile
from guanxi.accounts.models import Membership, Permission
from guanxi.approvals import rules
from guanxi.catalog.service import platform_name
from guanxi.channels.models import Channel
from guanxi.core import i18n
from guanxi.core.bounds import FIELD_MAX_LENGTH
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.publishing import calendar, campaigns, policy
from guanxi.publishing.models import TARGET_STATE_LABELS, VariantState
from guanxi.publishing.states import state_labels
from guanxi.web import zones
from guanxi.web.deps import (
    Approver,
    CurrentUser,
    Db,
    Member,
    Writer,
    client_ip,
    safe_next,
    verify_csrf,
)
from guanxi.web.limits import FormField, FormText, QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


HOURS = list(range(24))
EMPTY_CAMPAIGN = {"name": "", "color": "#c0392b", "starts_on": "", "ends_on": "", "description": ""}


def _babel_locale() -> str:
    return "zh_Hans_CN" if i18n.current_language() == "zh_Hans" else "en"


def _translate(request: Request, error: UserError) -> str:
    i18n.set_language(request.state.language)
    return error.translated(i18n.gettext)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def viewer_zone(request: Request, membership: Membership) -> tuple[str, str]:
    """The viewer's time zone (their personal setting, else the workspace's) and which."""
    return zones.viewer_zone(request, membership.workspace.timezone)


def _calendar_url(
    slug: str, view: calendar.CalendarView, anchor: date, query: dict[str, str]
) -> str:
    params = {"view": view.value, "date": anchor.isoformat(), **query}
    return f"/w/{slug}/calendar?{urlencode(params)}"


def _titles(span: calendar.CalendarRange) -> dict[str, Any]:
    locale = _babel_locale()
    if span.view is calendar.CalendarView.MONTH:
        title = format_skeleton("yMMMM", span.anchor, locale=locale)
    else:
        title = format_interval(span.days[0], span.days[-1], "yMMMd", locale=locale)
    names = get_day_names("abbreviated", locale=locale)
    return {
        "title": title,
        "weekday_names": [names[i] for i in range(7)],
        "day_labels": {day: format_skeleton("MMMEd", day, locale=locale) for day in span.days},
        "long_labels": {day: format_skeleton("yMMMEd", day, locale=locale) for day in span.days},
    }


def _filter_choices(db: Db, membership: Membership) -> dict[str, Any]:
    workspace = membership.workspace
    channels = list(
        db.scalars(
            select(Channel)
            .where(Channel.workspace_id == workspace.id)
            .order_by(Channel.platform, Channel.name)
        )
    )
    platforms = sorted({channel.platform for channel in channels})
    return {
        "platforms": {slug: platform_name(slug) for slug in platforms},
        "channels": channels,
        "campaigns": campaigns.list_campaigns(db, workspace=workspace),
        "states": {state.value: TARGET_STATE_LABELS[state] for state in VariantState},
    }


@router.get("/w/{slug}/calendar")
def calendar_page(
    request: Request,
    db: Db,
    membership: Member,
    view: QueryField = "month",
    day: Annotated[str, Query(alias="date", max_length=FIELD_MAX_LENGTH)] = "",
    platform: QueryField = "",
    channel: QueryField = "",
    campaign: QueryField = "",
    state: QueryField = "",
) -> Response:
    """The month or week grid, filtered; an htmx request for the grid gets only the grid."""
    i18n.set_language(request.state.language)
    zone, zone_source = viewer_zone(request, membership)
    filters, problems = calendar.parse_filters(
        platform=platform, channel=channel, campaign=campaign, state=state
    )
    grid_view = calendar.CalendarView.WEEK if view == "week" else calendar.CalendarView.MONTH
    today = calendar.today_in(zone)
    anchor = today
    if day.strip():
        try:
            anchor = calendar.parse_day(day)
        except UserError as exc:
            problems.append(exc)
    span = calendar.calendar_range(grid_view, anchor, zone)
    grid = calendar.build_grid(db, workspace=membership.workspace, span=span, filters=filters)
    slug = membership.workspace.slug
    query = filters.as_query()
    notice = request.session.pop("notice", None)
    context: dict[str, Any] = {
        "section": "publish",
        "grid": grid,
        "span": span,
        "view": grid_view.value,
        "zone": zone,
        "zone_source": zone_source,
        "common_zones": profile.zone_choices(),
        "today": today,
        "hours": HOURS,
        "missing_hours": {d: calendar.missing_hours(d, zone) for d in span.days}
        if grid_view is calendar.CalendarView.WEEK
        else {},
        "filters": filters,
        "choices": _filter_choices(db, membership),
        "no_campaign": calendar.NO_CAMPAIGN,
        "errors": [problem.translated(i18n.gettext) for problem in problems],
        "notice": notice if isinstance(notice, str) else None,
        "can_write": membership.can(Permission.WRITE),
        "state_labels": state_labels(),
        "urls": {
            "prev": _calendar_url(
                slug, grid_view, calendar.shift_anchor(grid_view, anchor, -1), query
            ),
            "next": _calendar_url(
                slug, grid_view, calendar.shift_anchor(grid_view, anchor, 1), query
            ),
            "today": _calendar_url(slug, grid_view, today, query),
            "month": _calendar_url(slug, calendar.CalendarView.MONTH, anchor, query),
            "week": _calendar_url(slug, calendar.CalendarView.WEEK, anchor, query),
            "here": _calendar_url(slug, grid_view, anchor, query),
        },
        **_titles(span),
    }
    partial = request.headers.get("hx-request") and request.headers.get("hx-target") == "calendar"
    template = "publishing/calendar_grid.html" if partial else "publishing/calendar.html"
    return render(request, template, context)


@router.post("/w/{slug}/calendar/timezone")
def choose_zone(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Member,
    zone: FormField = "",
    back: FormField = "",
) -> Response:
    """Save the zone chosen on the calendar as the viewer's time zone setting (every page's)."""
    default = f"/w/{membership.workspace.slug}/calendar"
    try:
        valid = calendar.require_zone(zone)
    except UserError as exc:
        message = _translate(request, exc)
        if _wants_json(request):
            return JSONResponse({"ok": False, "message": message}, status_code=400)
        request.session["notice"] = message
        return RedirectResponse(safe_next(back, default), status_code=303)
    profile.set_zone(db, user=user, zone=valid)
    db.commit()
    if _wants_json(request):
        return JSONResponse({"ok": True, "zone": valid})
    return RedirectResponse(safe_next(back, default), status_code=303)


def _variant_page(
    request: Request,
    db: Db,
    membership: Membership,
    variant_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    zone, _source = viewer_zone(request, membership)
    variant = calendar.find_variant(db, workspace=membership.workspace, variant_id=variant_id)
    entry = calendar.variant_entry(db, variant=variant, zone=zone)
    anchor = entry.viewer_at.date() if entry else calendar.today_in(zone)
    return render(
        request,
        "publishing/calendar_variant.html",
        {
            "section": "publish",
            "variant": variant,
            "entry": entry,
            "zone": zone,
            "movable": calendar.is_movable(variant),
            "can_write": membership.can(Permission.WRITE),
            "state_labels": state_labels(),
            "error": error,
            "back": _calendar_url(
                membership.workspace.slug, calendar.CalendarView.WEEK, anchor, {}
            ),
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/calendar/variants/{variant_id}")
def variant_detail(request: Request, db: Db, membership: Member, variant_id: int) -> Response:
    """One post on the calendar, with a form to move it (the keyboard and no-JS path)."""
    return _variant_page(request, db, membership, variant_id)


@router.api_route(
    "/w/{slug}/calendar/targets/{rest:path}", methods=["GET", "POST"], include_in_schema=False
)
def old_variant_url(membership: Member, rest: str) -> Response:
    """Links and bookmarks from before variants were called variants everywhere (for the
    workspace's members only: to anyone else the address does not exist)."""
    slug = membership.workspace.slug
    return RedirectResponse(f"/w/{slug}/calendar/variants/{rest}", status_code=308)


@router.post("/w/{slug}/calendar/variants/{variant_id}/reschedule")
def reschedule(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    variant_id: int,
    day: Annotated[str, Form(alias="date", max_length=FIELD_MAX_LENGTH)] = "",
    at: Annotated[str, Form(alias="time", max_length=FIELD_MAX_LENGTH)] = "",
) -> Response:
    """Move a variant to a day and time in the viewer's zone (dragged, or the detail's form)."""
    zone, _source = viewer_zone(request, membership)
    try:
        variant = calendar.reschedule_variant(
            db,
            workspace=membership.workspace,
            variant_id=variant_id,
            day=day,
            at=at,
            zone=zone,
            actor=user,
            ip=client_ip(request),
        )
    except NotFoundError as exc:
        if _wants_json(request):
            return JSONResponse({"ok": False, "message": _translate(request, exc)}, status_code=404)
        raise  # nothing changed; the error page still needs the loaded user, so no rollback
    except UserError as exc:
        db.rollback()  # nothing of a refused move is kept
        message = _translate(request, exc)
        if _wants_json(request):
            return JSONResponse({"ok": False, "message": message}, status_code=exc.status_code)
        return _variant_page(
            request, db, membership, variant_id, error=message, status_code=exc.status_code
        )
    db.commit()
    i18n.set_language(request.state.language)
    notice = N_("The post was moved. Its approval, if any, still holds: the time is not content.")
    if _wants_json(request):
        assert variant.scheduled_at is not None
        return JSONResponse(
            {
                "ok": True,
                "message": i18n.gettext(notice),
                "scheduled_at": variant.scheduled_at.isoformat(),
            }
        )
    request.session["notice"] = notice
    new_day = calendar.parse_day(day)
    url = _calendar_url(membership.workspace.slug, calendar.CalendarView.WEEK, new_day, {})
    return RedirectResponse(url, status_code=303)


# --- Campaigns -------------------------------------------------------------------------------


def _campaigns_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    notice = request.session.pop("notice", None)
    return render(
        request,
        "publishing/campaigns.html",
        {
            "section": "publish",
            "campaigns": campaigns.list_campaigns(db, workspace=workspace),
            "groups": campaigns.posts_by_campaign(db, workspace=workspace),
            "state_labels": state_labels(),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            "notice": notice if isinstance(notice, str) else None,
            "values": values or EMPTY_CAMPAIGN,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/campaigns")
def campaigns_page(request: Request, db: Db, membership: Member) -> Response:
    """Every campaign with its posts, the posts outside any campaign, and a form for a new one."""
    return _campaigns_page(request, db, membership)


@router.post("/w/{slug}/campaigns")
def campaign_create(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    name: FormField = "",
    color: FormField = "",
    starts_on: FormField = "",
    ends_on: FormField = "",
    description: FormText = "",
) -> Response:
    """Create a campaign; a bad field shows the form again with the message."""
    values = {
        "name": name,
        "color": color,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "description": description,
    }
    try:
        data = campaigns.parse_campaign(**values)
        campaigns.create_campaign(
            db, workspace=membership.workspace, data=data, actor=user, ip=client_ip(request)
        )
    except UserError as exc:
        db.rollback()
        return _campaigns_page(
            request,
            db,
            membership,
            error=_translate(request, exc),
            values=values,
            status_code=exc.status_code,
        )
    db.commit()
    request.session["notice"] = N_("Campaign created.")
    return RedirectResponse(f"/w/{membership.workspace.slug}/campaigns", status_code=303)


def _campaign_page(
    request: Request,
    db: Db,
    membership: Membership,
    campaign_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    campaign = campaigns.get_campaign(db, workspace=workspace, campaign_id=campaign_id)
    notice = request.session.pop("notice", None)
    posts = campaigns.posts_by_campaign(db, workspace=workspace).get(campaign.id, [])
    return render(
        request,
        "publishing/campaign_detail.html",
        {
            "section": "publish",
            "campaign": campaign,
            "posts": posts,
            "state_labels": state_labels(),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            "notice": notice if isinstance(notice, str) else None,
            "calendar_url": _calendar_url(
                workspace.slug,
                calendar.CalendarView.MONTH,
                campaign.starts_on or calendar.today_in(workspace.timezone),
                {"campaign": str(campaign.id)},
            ),
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/campaigns/{campaign_id}")
def campaign_detail(request: Request, db: Db, membership: Member, campaign_id: int) -> Response:
    """One campaign: its fields (editable by writers) and its posts."""
    return _campaign_page(request, db, membership, campaign_id)


@router.post("/w/{slug}/campaigns/{campaign_id}")
def campaign_update(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    campaign_id: int,
    name: FormField = "",
    color: FormField = "",
    starts_on: FormField = "",
    ends_on: FormField = "",
    description: FormText = "",
) -> Response:
    """Save a campaign's fields."""
    # A missing campaign is a 404 before anything is rolled back: the error page shows the user.
    campaigns.get_campaign(db, workspace=membership.workspace, campaign_id=campaign_id)
    try:
        data = campaigns.parse_campaign(
            name=name, color=color, starts_on=starts_on, ends_on=ends_on, description=description
        )
        campaigns.update_campaign(
            db,
            workspace=membership.workspace,
            campaign_id=campaign_id,
            data=data,
            actor=user,
            ip=client_ip(request),
        )
    except NotFoundError:
        raise  # nothing changed; the error page still needs the loaded user, so no rollback
    except UserError as exc:
        db.rollback()
        return _campaign_page(
            request,
            db,
            membership,
            campaign_id,
            error=_translate(request, exc),
            status_code=exc.status_code,
        )
    db.commit()
    request.session["notice"] = N_("Campaign saved.")
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/campaigns/{campaign_id}", status_code=303
    )


@router.post("/w/{slug}/campaigns/{campaign_id}/delete")
def campaign_delete(
    request: Request, db: Db, user: CurrentUser, membership: Writer, campaign_id: int
) -> Response:
    """Delete a campaign; its posts stay, outside any campaign."""
    campaigns.delete_campaign(
        db,
        workspace=membership.workspace,
        campaign_id=campaign_id,
        actor=user,
        ip=client_ip(request),
    )
    db.commit()
    request.session["notice"] = N_("Campaign deleted. Its posts are kept, outside any campaign.")
    return RedirectResponse(f"/w/{membership.workspace.slug}/campaigns", status_code=303)


# --- Publishing policy -------------------------------------------------------------------------


def _policy_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    current = policy.get_policy(db, workspace=membership.workspace)
    db.commit()  # the defaults, created on first read, are kept
    notice = request.session.pop("notice", None)
    return render(
        request,
        "publishing/policy.html",
        {
            "section": "settings",
            "policy": current,
            "step_labels": policy.APPROVAL_STEP_LABELS,
            "approver_roles": {role.value: role for role in policy.APPROVER_ROLES},
            "late_labels": {late.value: label for late, label in policy.LATE_POLICY_LABELS.items()},
            "grace_max": policy.GRACE_MINUTES_MAX,
            "can_change_approvers": rules.may_change_who_approves(membership.role),
            "error": error,
            "notice": notice if isinstance(notice, str) else None,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/settings/publishing")
def policy_page(request: Request, db: Db, membership: Approver) -> Response:
    """The workspace's publishing policy (managers and owners)."""
    return _policy_page(request, db, membership)


@router.post("/w/{slug}/settings/publishing")
def policy_save(
    request: Request,
    db: Db,
    membership: Approver,
    approval_steps: FormField = "",
    approver_role: FormField = "",
    late_policy: FormField = "",
    late_grace_minutes: FormField = "",
) -> Response:
    """Save the publishing policy; a bad field shows the page again with the message.

    Only an owner changes who approves: for anyone else the page shows those fields
    read-only and they keep their values.
    """
    if not rules.may_change_who_approves(membership.role):
        current = policy.get_policy(db, workspace=membership.workspace)
        approval_steps = approval_steps or str(current.approval_steps)
        approver_role = approver_role or str(current.approver_role)
    try:
        data = policy.parse_policy(
            approval_steps=approval_steps,
            approver_role=approver_role,
            late_policy=late_policy,
            late_grace_minutes=late_grace_minutes,
        )
        policy.update_policy(
            db,
            workspace=membership.workspace,
            data=data,
            membership=membership,
            ip=client_ip(request),
        )
    except UserError as exc:
        db.rollback()
        return _policy_page(
            request, db, membership, error=_translate(request, exc), status_code=exc.status_code
        )
    db.commit()
    request.session["notice"] = N_("Publishing policy saved.")
    return RedirectResponse(f"/w/{membership.workspace.slug}/settings/publishing", status_code=303)
