"""The external reviewer's pages: a signed, expiring link to one post, without an account.

The link shows that post's variants and attached files, and nothing else of the workspace;
it was issued for one named reviewer and records one decision.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.core import i18n
from guanxi.core.errors import UserError
from guanxi.publishing import approvals, media
from guanxi.publishing.media_views import file_response
from guanxi.publishing.models import ReviewLink, VariantState
from guanxi.publishing.states import state_labels
from guanxi.web.deps import Db, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _review_page(
    request: Request,
    db: Session,
    link: ReviewLink,
    token: str,
    *,
    error: str | None = None,
    done: bool = False,
    status_code: int = 200,
) -> Response:
    post = approvals.post_for_link(db, link=link)
    channels = {t.channel_id: db.get(Channel, t.channel_id) for t in post.variants}
    library = {
        asset.id: asset
        for variant in post.variants
        for asset_id in [*(variant.media_ids or []), variant.cover_media_id]
        if asset_id is not None
        for asset in [media.media_by_id(db, workspace_id=post.workspace_id, media_id=asset_id)]
        if asset is not None
    }
    return render(
        request,
        "publishing/review.html",
        {
            "post": post,
            "link": link,
            "token": token,
            "channels": channels,
            "library": library,
            "state_labels": state_labels(),
            "in_review": any(t.state == VariantState.IN_REVIEW for t in post.variants),
            "used": link.used_at is not None,
            "error": error,
            "done": done,
        },
        status_code=status_code,
    )


@router.get("/review/{token}")
def review_page(request: Request, db: Db, token: str) -> Response:
    """What an external reviewer sees: this post's variants, and nothing else."""
    link = approvals.review_link_for_token(db, token=token, settings=app_settings(request))
    return _review_page(request, db, link, token)


@router.post("/review/{token}")
def review_decide(request: Request, db: Db, token: str, form: SubmittedForm) -> Response:
    """The link's reviewer approves or rejects the variants in review, once."""
    link = approvals.review_link_for_token(db, token=token, settings=app_settings(request))
    try:
        approvals.external_decide(
            db,
            link=link,
            approved=form_value(form, "decision") == "approve",
            comment=form_value(form, "comment"),
            settings=app_settings(request),
        )
        db.commit()
    except UserError as exc:
        db.rollback()
        i18n.set_language(request.state.language)
        db.refresh(link)
        return _review_page(
            request,
            db,
            link,
            token,
            error=exc.translated(i18n.gettext),
            status_code=exc.status_code,
        )
    return _review_page(request, db, link, token, done=True)


@router.get("/review/{token}/media/{media_id}")
def review_media(request: Request, db: Db, token: str, media_id: int) -> Response:
    """A file attached to the reviewed post (only those), for the external reviewer."""
    post = approvals.post_for_review_token(db, token=token, settings=app_settings(request))
    attached = {i for t in post.variants for i in [*(t.media_ids or []), t.cover_media_id] if i}
    asset = media.media_by_id(db, workspace_id=post.workspace_id, media_id=media_id)
    if asset is None or media_id not in attached:
        raise media.media_not_found()
    return file_response(asset, app_settings(request).data_dir)
