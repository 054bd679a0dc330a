"""The debates' pages: the brand's topic campaigns and a debate's participation chart."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Permission
from guanxi.channels.our_posts import search_our_posts
from guanxi.core import i18n
from guanxi.inbox.debates import service
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

POSTS_NAMED = 200


@router.get("/w/{slug}/inbox/debates")
def debates_page(request: Request, db: Db, membership: Member) -> Response:
    """The brand's topic campaigns."""
    return render(
        request,
        "inbox/debates.html",
        {
            "section": "inbox",
            "debates": service.list_debates(db, workspace_id=membership.workspace_id),
            "can_write": membership.can(Permission.WRITE),
            "error": None,
        },
    )


@router.post("/w/{slug}/inbox/debates")
def create_debate(db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Follow a new topic."""
    debate = service.create_debate(
        db,
        membership=membership,
        hashtag=form_value(form, "hashtag"),
        title=form_value(form, "title"),
    )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/debates/{debate.id}", status_code=303
    )


@router.get("/w/{slug}/inbox/debates/{debate_id}")
def debate_page(
    request: Request, db: Db, membership: Member, debate_id: int, q: QueryField = ""
) -> Response:
    """A debate's participation over time, with a chart; our posts to link, found by text."""
    debate = service.get_debate(db, workspace_id=membership.workspace_id, debate_id=debate_id)
    workspace = membership.workspace
    linked = service.linked_posts(db, debate_id=debate.id)
    # Linked posts by name: the brand's recent published posts cover those a team links.
    recent = {
        post.external_id: post
        for post in search_our_posts(db, workspace=workspace, query="", limit=POSTS_NAMED)
    }
    result = service.participation(db, debate=debate, timezone=membership.workspace.timezone)
    labels = {
        "items": i18n.gettext("Comments"),
        "participants": i18n.gettext("Unique participants"),
        "negative": i18n.gettext("Negative %"),
    }
    return render(
        request,
        "inbox/debate.html",
        {
            "section": "inbox",
            "debate": debate,
            "posts": [(external_id, recent.get(external_id)) for external_id in linked],
            "candidates": [
                post
                for post in search_our_posts(db, workspace=workspace, query=q, limit=20)
                if post.external_id not in linked
            ],
            "query": q,
            "result": result,
            "chart": json.dumps(service.chart_option(result, labels=labels), ensure_ascii=False),
            "can_write": membership.can(Permission.WRITE),
        },
    )


@router.post("/w/{slug}/inbox/debates/{debate_id}/posts")
def link_post(db: Db, membership: Writer, debate_id: int, form: SubmittedForm) -> Response:
    """Link a brand post to the debate."""
    service.link_post(
        db, membership=membership, debate_id=debate_id, post_external_id=form_value(form, "post")
    )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/debates/{debate_id}", status_code=303
    )
