"""The shell: home, workspace overview, the sections still to come, health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from guanxi.core.db import utcnow
from guanxi.core.errors import N_
from guanxi.inbox import overview as inbox_overview
from guanxi.listening import overview as listening_overview
from guanxi.market import overview as market_overview
from guanxi.planner.models import Plan
from guanxi.publishing import overview as publishing_overview
from guanxi.web.deps import CurrentUser, Db, Member, preferred_membership, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

# The workspace's daily sections, as the overview presents them: title, what it does, action.
SECTIONS: dict[str, tuple[str, str, str]] = {
    "publish": (
        N_("Publish"),
        N_(
            "Write once in Chinese, adapt per platform, get it approved and scheduled, and "
            "know for certain what went out."
        ),
        N_("Write a post"),
    ),
    "inbox": (
        N_("Inbox"),
        N_(
            "Comments, mentions and messages from every platform in one list, with "
            "moderation, replies and a relationship book of fans and KOLs."
        ),
        N_("Open the inbox"),
    ),
    "listen": (
        N_("Listen"),
        N_(
            "Imported and pulled posts enriched with Chinese NLP: sentiment, kind of source, "
            "journey stage and topics, with dashboards and alerts."
        ),
        N_("See what is said"),
    ),
    "market": (
        N_("Market"),
        N_(
            "App-store chart ranks across countries, campaign annotations and the measured "
            "effect of a campaign."
        ),
        N_("Watch the charts"),
    ),
}


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
    """The workspace's front page: each capability at a glance, and where to go next."""
    workspace_id, now = membership.workspace_id, utcnow()
    plan_count = db.scalar(
        select(func.count()).select_from(Plan).where(Plan.workspace_id == workspace_id)
    )
    glance = {
        "publish": publishing_overview.glance(db, workspace_id=workspace_id, now=now),
        "inbox": inbox_overview.glance(db, workspace_id=workspace_id),
        "listen": listening_overview.glance(db, workspace_id=workspace_id, now=now),
        "market": market_overview.glance(db, workspace_id=workspace_id),
    }
    return render(
        request,
        "shell/overview.html",
        {"section": "overview", "plan_count": plan_count, "sections": SECTIONS, "glance": glance},
    )


@router.get("/api/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    """The API's interactive documentation, from the vendored Swagger UI (no CDN)."""
    return render(request, "api_docs.html", {"openapi_url": request.app.openapi_url})
