"""The shell's pages: home, the workspace's front page built from the capabilities' glances,
the global search (shell/search.py), the API's documentation, health."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.core.capability import Glance, capabilities
from guanxi.core.db import utcnow
from guanxi.shell import search
from guanxi.web.deps import CurrentUser, Db, Member, preferred_membership, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])
router.include_router(search.router)  # the global search, across the capabilities


@dataclass(frozen=True)
class Card:
    """One capability's card on the front page: what it declares, and its figures now."""

    glance: Glance
    href: str
    figures: object


@dataclass(frozen=True)
class HeadlineFigures:
    """A capability's headline above the cards: its template and its figures now."""

    template: str
    figures: object


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """Liveness for process supervisors."""
    return {"status": "ok"}


@router.get("/")
def home(request: Request, user: CurrentUser) -> Response:
    """Go to the workspace the user was last in, or the first one they joined."""
    membership = preferred_membership(request, request.state.memberships)
    if membership is not None:
        return RedirectResponse(f"/w/{membership.workspace.slug}/", status_code=303)
    return render(request, "shell/no_workspace.html")


@router.get("/w/{slug}/")
def workspace_overview(request: Request, db: Db, membership: Member) -> Response:
    """The workspace's front page: the capabilities' headline figures, then each at a glance
    and where to go next."""
    workspace, now = membership.workspace, utcnow()
    glances = sorted(
        (c.glance for c in capabilities() if c.glance is not None), key=lambda g: g.position
    )
    cards = [
        Card(
            glance=glance,
            href=glance.href
            if glance.href.startswith("/")
            else f"/w/{workspace.slug}/{glance.href}",
            figures=glance.load(db, workspace_id=workspace.id, now=now) if glance.load else None,
        )
        for glance in glances
    ]
    headlines = [
        HeadlineFigures(headline.template, headline.load(db, workspace_id=workspace.id, now=now))
        for headline in sorted(
            (c.headline for c in capabilities() if c.headline is not None),
            key=lambda h: h.position,
        )
    ]
    context = {"section": "overview", "cards": cards, "headlines": headlines}
    return render(request, "shell/overview.html", context)


@router.get("/api/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    """The API's interactive documentation, from the vendored Swagger UI (no CDN)."""
    return render(request, "api_docs.html", {"openapi_url": request.app.openapi_url})
