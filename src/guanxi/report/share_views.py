"""The shared report: ``/r/<token>`` shows one report read-only, without an account.

The link opens that report (its current period, in the link's language) and nothing else of
the workspace; each opening is counted. An unknown, expired or withdrawn link gets one and
the same 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from guanxi.accounts.models import Workspace
from guanxi.core.db import utcnow
from guanxi.core.errors import NotFoundError
from guanxi.report import service, sharing
from guanxi.report.present import present
from guanxi.web.deps import Db
from guanxi.web.rendering import render

router = APIRouter()

# The token is in the address: no cache keeps the page, no other site learns the address.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@router.get("/r/{token}")
def shared_report(request: Request, db: Db, token: str) -> Response:
    """The report a share link opens, read-only."""
    now = utcnow()
    share = sharing.open_share(db, token=token, now=now)
    db.commit()  # the opening is counted even if the report then fails
    definition = share.definition
    workspace = db.get(Workspace, share.workspace_id)
    if workspace is None:  # deleted with its links; the cascade has not run yet
        raise NotFoundError(sharing.LINK_CLOSED)
    _period, document = service.build_now(db, workspace=workspace, definition=definition, now=now)
    db.commit()
    request.state.language = share.language
    response = render(
        request,
        "report/shared.html",
        {"report": present(document, share.language), "expires_at": share.expires_at},
    )
    response.headers.update(PRIVATE_HEADERS)
    return response
