"""The global search: the top bar's box, its dropdown while typing, and the full page.

Every capability answers for its own things (``Capability.search``); this page only asks
them in turn and shows their sections, each with its count and links."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import FunctionType

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import ROLE_PERMISSIONS, Membership, Role
from guanxi.core import i18n
from guanxi.core.capability import capabilities, load_reference
from guanxi.core.errors import UserError
from guanxi.core.search import SearchQuery, SearchSection, SearchSource, clean_query
from guanxi.web.deps import Db, Reader, verify_csrf
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

PAGE_HITS = 10  # per section on the full page
DROPDOWN_HITS = 3  # per section in the dropdown under the box


@cache
def sources() -> tuple[SearchSource, ...]:
    """Every capability's search functions, in the capabilities' order."""
    found: list[Callable[..., list[SearchSection]]] = []
    for capability in capabilities():
        found.extend(load_reference(reference, FunctionType) for reference in capability.search)
    return tuple(found)


def run_search(
    db: Session, *, membership: Membership, text: str, limit: int
) -> list[SearchSection]:
    """The sections that found something for ``text``, as ``membership`` may see them."""
    query = SearchQuery(
        workspace_id=membership.workspace_id,
        slug=membership.workspace.slug,
        text=text,
        permissions=frozenset(str(p) for p in ROLE_PERMISSIONS[Role(membership.role)]),
        limit=limit,
    )
    sections = [section for source in sources() for section in source(db, query)]
    return [section for section in sections if section.count]


@router.get("/w/{slug}/search")
def search_page(
    request: Request, db: Db, membership: Reader, q: QueryField = "", dropdown: QueryField = ""
) -> Response:
    """Search posts, the inbox, people, listening, links and the catalog at once; with
    ``dropdown``, the first few of each for the box's list while typing."""
    short = bool(dropdown)
    error, sections, text = None, [], ""
    try:
        text = clean_query(q)
    except UserError as exc:
        i18n.set_language(request.state.language)
        error = exc.translated(i18n.gettext)
    if text:
        limit = DROPDOWN_HITS if short else PAGE_HITS
        sections = run_search(db, membership=membership, text=text, limit=limit)
    context = {"section": "search", "q": q if error else text, "sections": sections, "error": error}
    template = "shell/_search_dropdown.html" if short else "shell/search.html"
    return render(request, template, context, status_code=400 if error else 200)
