"""The incrementality page: each campaign's treated regions and dates, its incremental
revenue and orders with their placebo intervals, and the form to set where and when a
campaign ran (write access)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.convert import flows, incrementality, pages
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, UserError
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

FIELDS = ("campaign_id", "regions", "starts_on", "ends_on")


def _page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    today = incrementality.today_in(workspace.timezone)
    context: dict[str, Any] = {
        "section": "convert",
        "page": "incremental",
        "estimates": incrementality.campaign_estimates(
            db,
            workspace_id=workspace.id,
            first_day=date.min,
            last_day=date.max,
            zone=workspace.timezone,
            today=today,
        ),
        "campaigns": flows.campaigns(db, workspace.id),
        "can_write": membership.can(Permission.WRITE),
        "illustrative": incrementality.has_illustrative_orders(db, workspace_id=workspace.id),
        "pre_days": incrementality.PRE_DAYS,
        "values": values or {},
        "error": error,
    }
    return render(request, "convert/incremental.html", context, status_code=status_code)


@router.get("/w/{slug}/revenue/incremental")
def incremental_page(request: Request, membership: Member, db: Db) -> Response:
    """Every campaign with treated regions, and its incremental revenue."""
    return _page(request, db, membership)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(
            N_("“{value}” is not a date: use the form YYYY-MM-DD."), value=value[:20]
        ) from None


@router.post("/w/{slug}/revenue/incremental")
def set_regions(request: Request, membership: Writer, db: Db, form: SubmittedForm) -> Response:
    """Set a campaign's treated regions and dates; the page then shows its estimate."""
    values = {name: form_value(form, name) for name in FIELDS}

    def change() -> str:
        incrementality.save_regions(
            db,
            workspace_id=membership.workspace_id,
            campaign_id=parse_id(values["campaign_id"]),
            regions=values["regions"],
            starts_on=_date(values["starts_on"]),
            ends_on=_date(values["ends_on"]),
        )
        return f"/w/{membership.workspace.slug}/revenue/incremental"

    return pages.form_post(request, db, membership, page=_page, values=values, change=change)
