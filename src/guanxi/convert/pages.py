"""What the conversions pages share: how a page is built again with a form's values and an
error, how a form post runs (the change, or the page again saying what to fix), and the
days a page is asked for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.db import utcnow
from guanxi.core.errors import N_, UserError

EARLIEST = date(2000, 1, 1)  # no order guanxi holds is older; earlier dates are typing slips
LATEST = date(2100, 1, 1)
MSG_DAY = N_("{value} is not a day: write it as YYYY-MM-DD.")


class PageBuilder(Protocol):
    """Builds a page with a form's values kept and the error said."""

    def __call__(
        self,
        request: Request,
        db: Session,
        membership: Membership,
        *,
        values: dict[str, str] | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response: ...


def form_post(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    page: PageBuilder,
    values: dict[str, str],
    change: Callable[[], str],
) -> Response:
    """Make the ``change`` a form asks for and go to the address it returns (303); when it
    raises a UserError, nothing is kept and ``page`` is shown again with the values typed and
    the error (400)."""
    try:
        address = change()
    except UserError as exc:
        db.rollback()
        error = exc.translated(i18n.gettext)
        return page(request, db, membership, values=values, error=error, status_code=400)
    db.commit()
    return RedirectResponse(address, status_code=303)


def today(membership: Membership) -> date:
    """Today in the workspace's time zone."""
    return utcnow().astimezone(ZoneInfo(membership.workspace.timezone)).date()


def day(value: str | None, default: date | None = None) -> date | None:
    """The day typed, or ``default`` when it is empty; a UserError when it is no day."""
    if not value:
        return default
    try:
        found = date.fromisoformat(value)
    except ValueError:
        raise UserError(MSG_DAY, value=value[:40]) from None
    if not EARLIEST <= found <= LATEST:
        raise UserError(MSG_DAY, value=value[:40])
    return found


def period(request: Request, membership: Membership, *, days: int) -> tuple[date, date]:
    """The page's period: ``from`` and ``to`` of the query, else the last ``days`` days (a
    day that cannot be read counts as not given, as in a filter)."""
    last = day_or(request.query_params.get("to"), today(membership))
    return day_or(request.query_params.get("from"), last - timedelta(days=days - 1)), last


def day_or(value: str | None, default: date) -> date:
    """The day a filter names, or ``default`` when it names none guanxi can use."""
    try:
        return day(value, default) or default
    except UserError:
        return default
