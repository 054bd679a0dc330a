"""Server-side rendering with Jinja2, translated into the request's language."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import object_session

from guanxi import __version__
from guanxi.accounts.models import ROLE_LABELS, Membership, User
from guanxi.catalog.service import platform_name
from guanxi.core import i18n, values
from guanxi.web import timing
from guanxi.web.deps import preferred_membership
from guanxi.web.security import csp_nonce

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _format_datetime(value: datetime | None, timezone: str = "Asia/Shanghai") -> str:
    """``value`` in the workspace's zone; a time too extreme to convert (year 1 or 9999,
    stored before values were checked) is shown as stored, in UTC, instead of failing."""
    if value is None:
        return ""
    try:
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError):
        return f"{value.strftime('%Y-%m-%d %H:%M')} UTC"


def _web_link(value: object) -> str:
    """``value`` when it is an http(s) link a page may put in ``href``; "" otherwise."""
    return value if isinstance(value, str) and values.is_web_url(value) else ""


def _format_number(value: float | int | None) -> str:
    if value is None:
        return "—"
    if i18n.current_language() == "zh_Hans":
        # Chinese counts in 万 (10^4) and 亿 (10^8), as the platforms report themselves.
        if abs(value) >= 100_000_000:
            return f"{value / 100_000_000:.2f}".rstrip("0").rstrip(".") + "亿"
        if abs(value) >= 10_000:
            return f"{value / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
        return f"{value:,}"
    if abs(value) >= 1_000_000_000:
        return f"{value / 1_000_000_000:.2f}".rstrip("0").rstrip(".") + " bn"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + " m"
    return f"{value:,}"


def make_templates() -> Jinja2Templates:
    """The template environment with gettext bound to the current language."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat() of each per render
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
    )
    env.globals["version"] = __version__
    env.globals["language_names"] = i18n.LANGUAGE_NAMES
    env.globals["role_labels"] = {str(role): label for role, label in ROLE_LABELS.items()}
    env.filters["datetime"] = _format_datetime
    env.filters["number"] = _format_number
    env.filters["weblink"] = _web_link
    env.filters["platform"] = platform_name
    return Jinja2Templates(env=env)


def _unread_notifications(
    request: Request, user: User | None, membership: Membership | None
) -> int | None:
    """The user's unread notifications in the workspace shown, counted once per request.

    None when there is nobody signed in, no workspace, or no open session to ask (error
    pages render after the request's session closed): the bell then shows without a count.
    """
    if user is None or membership is None:
        return None
    cached = getattr(request.state, "unread_notifications", None)
    if isinstance(cached, int):
        return cached
    db = object_session(user)
    if db is None or not db.is_active:
        return None
    # Imported here: the publishing views import this module.
    from guanxi.publishing.notification_views import count_unread

    with db.no_autoflush:  # a page re-shown with unsaved input must not flush it
        count = count_unread(db, user_id=user.id, workspace_id=membership.workspace_id)
    request.state.unread_notifications = count
    return count


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` in the request's language with the shell's common context."""
    language = getattr(request.state, "language", "en")
    i18n.set_language(language)
    templates: Jinja2Templates = request.app.state.templates
    base: dict[str, Any] = {
        "lang": language,
        "html_lang": i18n.HTML_LANG[language],
        "csrf_token": request.state.csrf_token if hasattr(request.state, "csrf_token") else "",
        "user": getattr(request.state, "user", None),
        "membership": getattr(request.state, "membership", None),
        "memberships": getattr(request.state, "memberships", []),
        "section": "",
        "csp_nonce": csp_nonce(request),
    }
    membership = base["membership"]
    memberships = base["memberships"]
    # Catalog pages belong to no workspace; the navigation keeps the one the user was in.
    current = membership or preferred_membership(request, memberships)
    base["nav_workspace"] = current.workspace if current else None
    base["unread_notifications"] = _unread_notifications(request, base["user"], current)
    base.update(context or {})
    with timing.rendering():  # the Server-Timing header's "render"
        return templates.TemplateResponse(request, template, base, status_code=status_code)
