"""Server-side rendering with Jinja2, translated into the request's language.

Capabilities add to it without this module knowing them: ``register_context`` adds names to
every page's context (the notification bell's count), and a template filter is added to
``app.state.templates.env.filters``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from guanxi import __version__
from guanxi.accounts.models import ROLE_LABELS
from guanxi.core import i18n, values
from guanxi.core.db import reading_from_now
from guanxi.core.errors import N_
from guanxi.web import timing, zones
from guanxi.web.deps import preferred_membership
from guanxi.web.security import csp_nonce

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# Given the request and the common context, the names it adds to every page's context.
ContextFunction = Callable[[Request, Mapping[str, Any]], Mapping[str, Any]]


@jinja2.pass_context
def _format_datetime(
    context: jinja2.runtime.Context, value: datetime | None, timezone: str | None = None
) -> str:
    """``value`` in ``timezone`` (by default the viewer's: ``viewer_zone`` of every page's
    context), with its offset ("2026-12-06 20:15 UTC+8"); a time too extreme to convert
    (year 1 or 9999, stored before values were checked) is shown as stored, in UTC."""
    if value is None:
        return ""
    zone = timezone or context.get("viewer_zone") or zones.DEFAULT_ZONE
    try:
        local = value.astimezone(ZoneInfo(zone))
    except (OverflowError, ValueError):
        return f"{value.strftime('%Y-%m-%d %H:%M')} UTC"
    return f"{local.strftime('%Y-%m-%d %H:%M')} {zones.offset_label(local)}"


# Weibo's verified_type as people know it: -1 none, 0 a person (orange V), 1-7 an
# organisation (blue V: government, company, media, school, website, app, group).
_VERIFIED_PERSON = N_("verified person (orange V)")
_VERIFIED_ORGANISATION = N_("verified organisation (blue V)")
_NOT_VERIFIED = N_("not verified")


def _verified(value: int | None) -> str:
    """A verification code as words in the current language ("" when unknown)."""
    if value is None:
        return ""
    if value < 0:
        return i18n.gettext(_NOT_VERIFIED)
    if value == 0:
        return i18n.gettext(_VERIFIED_PERSON)
    return i18n.gettext(_VERIFIED_ORGANISATION)


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


@jinja2.pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    """``message`` in the current language, formatted with ``variables`` as Jinja's newstyle
    gettext does: always %-formatted (``%%`` is one ``%``), and escaped where the template
    autoescapes."""
    translated = i18n.gettext(message)
    if not variables and "%" not in translated:  # most calls: nothing to format
        return Markup(translated) if eval_ctx.autoescape else translated  # noqa: S704 - our own catalog
    if eval_ctx.autoescape:
        return Markup(translated) % variables  # noqa: S704 - our own catalog; the values are escaped
    return translated % variables


@jinja2.pass_eval_context
def _translated(eval_ctx: EvalContext, labels: Mapping[Any, str]) -> dict[Any, str]:
    """``labels`` with each word as ``_()`` gives it: a list translates its labels once per
    page instead of once per line."""
    return {key: _template_gettext(eval_ctx, label) for key, label in labels.items()}


def _options(choices: Iterable[tuple[object, object]], selected: object = None) -> Markup:
    """``<option>`` elements of (value, label) pairs, the one whose value is ``selected``
    (compared as text) marked: a menu of a workspace's 200 members is one call, not 200
    turns of a template loop."""
    chosen = None if selected is None else str(selected)
    return Markup(  # noqa: S704 - every value and label is escaped
        "".join(
            f'<option value="{escape(value)}"'
            f"{' selected' if chosen is not None and str(value) == chosen else ''}>"
            f"{escape(label)}</option>"
            for value, label in choices
        )
    )


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
    # The same newstyle gettext in one call instead of three through the template context:
    # a page says _("...") a hundred times or more.
    env.globals["_"] = env.globals["gettext"] = _template_gettext
    env.globals["version"] = __version__
    env.globals["language_names"] = i18n.LANGUAGE_NAMES
    env.globals["options"] = _options
    env.globals["role_labels"] = {str(role): label for role, label in ROLE_LABELS.items()}
    env.filters["datetime"] = _format_datetime
    env.filters["number"] = _format_number
    env.filters["weblink"] = _web_link
    env.filters["verified"] = _verified
    env.filters["translated"] = _translated
    return Jinja2Templates(env=env)


def renders_a_fragment(request: Request) -> bool:
    """Whether the request is htmx's and so gets a fragment, never a whole page: the
    navigation's figures (the bell, the approvals badge) are not drawn and need no query."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted")


def register_context(app: FastAPI, function: ContextFunction) -> None:
    """Have ``function`` add names to the context of every page ``app`` renders.

    It is called with the request and the common context (``user``, ``nav_workspace``...)
    and returns the names to add; a page's own context still wins over them.
    """
    app.state.context_functions = [*getattr(app.state, "context_functions", ()), function]


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` in the request's language with the shell's common context."""
    language = getattr(request.state, "language", "en")
    i18n.set_language(language)
    session = getattr(request.state, "db", None)
    if session is not None:  # its changes are committed: no write lock held while rendering
        reading_from_now(session, request.app.state.session_factory)
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
    fallback = current.workspace.timezone if current else zones.DEFAULT_ZONE
    base["viewer_zone"], base["viewer_zone_source"] = zones.viewer_zone(request, fallback)
    for function in getattr(request.app.state, "context_functions", ()):
        base.update(function(request, base))
    base.update(context or {})
    with timing.rendering():  # the Server-Timing header's "render"
        return templates.TemplateResponse(request, template, base, status_code=status_code)
