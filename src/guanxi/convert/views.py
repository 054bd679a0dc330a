"""The tracked links page: make a link for a campaign, a post or a KOL, copy its short
address, list one KOL's links, see its clicks (people counted once an hour, every visit,
bots) and where they came from.

Reading is for every member; making and archiving links need write access.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership, Permission
from guanxi.convert import flows, kols, links, pages
from guanxi.core.bounds import parse_id
from guanxi.web.deps import Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

SECTION = "convert"
FIELDS = (
    "url",
    "label",
    "campaign_id",
    "post_id",
    "kol_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)


def _page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    made: str | None = None,
    status_code: int = 200,
) -> Response:
    workspace_id = membership.workspace_id
    settings = app_settings(request)
    listed = kols.list_kols(db, workspace_id=workspace_id)
    # The list's KOL filter: one of the workspace's KOLs, else every link.
    chosen = parse_id(request.query_params.get("kol"))
    kol = next((kol for kol in listed if kol.id == chosen), None)
    rows = links.list_links(db, workspace_id=workspace_id, kol_id=kol.id if kol else None)
    context: dict[str, Any] = {
        "section": SECTION,
        "rows": [(link, counts, links.short_url(settings, link.key)) for link, counts in rows],
        "platforms": {
            link.id: links.clicks_by_platform(db, link_id=link.id)
            for link, counts in rows
            if counts.counted
        },
        "campaigns": flows.campaigns(db, workspace_id),
        "posts": flows.recent_posts(db, workspace_id),
        "names": flows.names_of(db, workspace_id),
        "kols": listed,
        "kol_names": {kol.id: kol.name for kol in listed},
        "kol": kol,
        "illustrative": links.has_illustrative_clicks(db, workspace_id=workspace_id),
        "can_write": membership.can(Permission.WRITE),
        "values": values or {},
        "error": error,
        "made": made,
    }
    return render(request, "convert/links.html", context, status_code=status_code)


@router.get("/w/{slug}/links")
def links_page(request: Request, membership: Member, db: Db) -> Response:
    """The workspace's tracked links with their clicks, and the form to make one."""
    made = request.query_params.get("made")
    return _page(request, db, membership, made=made if made and made.isalnum() else None)


@router.post("/w/{slug}/links")
def make_link(request: Request, membership: Writer, db: Db, form: SubmittedForm) -> Response:
    """Make a tracked link; the page then shows its short address to copy."""
    values = {name: form_value(form, name) for name in FIELDS}

    def change() -> str:
        link = links.create_link(
            db,
            workspace_id=membership.workspace_id,
            link=links.LinkInput(
                url=values["url"],
                label=values["label"],
                campaign_id=parse_id(values["campaign_id"]),
                post_id=parse_id(values["post_id"]),
                kol_id=parse_id(values["kol_id"]),
                utm_source=values["utm_source"],
                utm_medium=values["utm_medium"],
                utm_campaign=values["utm_campaign"],
            ),
            created_by_id=membership.user_id,
        )
        slug = membership.workspace.slug
        return f"/w/{slug}/links?made={link.key}"

    return pages.form_post(request, db, membership, page=_page, values=values, change=change)


@router.post("/w/{slug}/links/{link_id}/archive")
def archive(membership: Writer, db: Db, link_id: int) -> Response:
    """Take a link off the list (it keeps redirecting: it may be printed or posted)."""
    link = links.get_link(db, workspace_id=membership.workspace_id, link_id=link_id)
    links.archive_link(link=link)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/links", status_code=303)
