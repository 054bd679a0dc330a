"""The shell: home, workspace overview, the sections still to come, health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from guanxi.core.errors import N_
from guanxi.planner.models import Plan
from guanxi.web.deps import CurrentUser, Db, Member, preferred_membership, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

# The sections other capabilities will fill, and what each will bring.
COMING_SECTIONS: dict[str, tuple[str, str]] = {
    "inbox": (
        N_("Inbox"),
        N_(
            "Comments, mentions and messages from every platform in one list, with "
            "moderation, replies and a relationship book of fans and KOLs."
        ),
    ),
    "listen": (
        N_("Listen"),
        N_(
            "Imported and pulled posts enriched with Chinese NLP: sentiment, kind of source, "
            "journey stage and topics, with dashboards and alerts."
        ),
    ),
    "market": (
        N_("Market"),
        N_(
            "App-store chart ranks across countries, campaign annotations and the measured "
            "effect of a campaign."
        ),
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
    """The workspace's front page: what it has, and where to go next."""
    plan_count = db.scalar(
        select(func.count()).select_from(Plan).where(Plan.workspace_id == membership.workspace_id)
    )
    return render(
        request,
        "shell/overview.html",
        {"section": "overview", "plan_count": plan_count, "coming": COMING_SECTIONS},
    )


def _coming_page(section: str) -> None:
    title, description = COMING_SECTIONS[section]

    def page(request: Request, membership: Member) -> Response:
        return render(
            request,
            "shell/coming.html",
            {"section": section, "title": title, "description": description},
        )

    page.__doc__ = f"The {section} section, still to come: says what it will do."
    router.add_api_route(f"/w/{{slug}}/{section}", page, methods=["GET"], name=f"{section}_page")


for _section in COMING_SECTIONS:
    _coming_page(_section)
