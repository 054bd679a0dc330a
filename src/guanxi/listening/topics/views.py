"""The topic queries' pages: the list, a form to add or change one, and live validation.

Pages live under ``/w/{slug}/listen/topics``. Every route looks the workspace up through the
membership: another workspace's answers 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.errors import UserError
from guanxi.listening.topics import service as topics
from guanxi.listening.topics.models import TOPIC_CATEGORY_LABELS, TopicCategory
from guanxi.listening.topics.queries import QuerySyntaxError
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _topic_form(form: dict[str, Any]) -> topics.TopicForm:
    return topics.TopicForm(
        name=str(form.get("name", "")),
        query=str(form.get("query", "")),
        category=str(form.get("category", TopicCategory.THEME)),
        active=form.get("active") == "on",
    )


def _topics_page(request: Request, membership: Membership, db: Session, **extra: Any) -> Response:
    context = {
        "section": "listen",
        "slug": membership.workspace.slug,
        "topics": topics.list_topics(db, workspace_id=membership.workspace_id),
        "categories": list(TopicCategory),
        "edit": None,
        "error": "",
        "pointer": "",
        "form": None,
        "category_labels": TOPIC_CATEGORY_LABELS,
    }
    context.update(extra)
    status = 400 if context["error"] else 200
    return render(request, "listen/insight/topics.html", context, status_code=status)


@router.get("/w/{slug}/listen/topics")
def topics_page(request: Request, membership: Member, db: Db) -> Response:
    """The topic queries and a form to add one."""
    return _topics_page(request, membership, db)


@router.get("/w/{slug}/listen/topics/{topic_id}")
def topic_edit_page(request: Request, membership: Member, db: Db, topic_id: int) -> Response:
    """The form to change one topic query."""
    topic = topics.get_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
    return _topics_page(request, membership, db, edit=topic)


@router.post("/w/{slug}/listen/topics")
async def topic_create(request: Request, membership: Writer, db: Db) -> Response:
    """Add a topic query; a bad query is shown again with the error under it."""
    return await _save_topic(request, membership, db, topic_id=0)


@router.post("/w/{slug}/listen/topics/{topic_id}")
async def topic_update(request: Request, membership: Writer, db: Db, topic_id: int) -> Response:
    """Change a topic query."""
    topics.get_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
    return await _save_topic(request, membership, db, topic_id=topic_id)


async def _save_topic(
    request: Request, membership: Membership, db: Session, *, topic_id: int
) -> Response:
    form = _topic_form(dict(await request.form()))
    try:
        if topic_id:
            topics.update_topic(
                db, workspace_id=membership.workspace_id, topic_id=topic_id, form=form
            )
        else:
            topics.create_topic(db, workspace_id=membership.workspace_id, form=form)
    except UserError as error:
        db.rollback()
        edit = (
            topics.get_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
            if topic_id
            else None
        )
        pointer = error.pointer if isinstance(error, QuerySyntaxError) else ""
        return _topics_page(
            request,
            membership,
            db,
            edit=edit,
            form=form,
            error=error.translated(i18n.gettext),
            pointer=pointer,
        )
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/listen/topics", status_code=303)


@router.post("/w/{slug}/listen/topics/{topic_id}/delete")
def topic_delete(membership: Writer, db: Db, topic_id: int) -> Response:
    """Remove a topic query with its matches."""
    topics.delete_topic(db, workspace_id=membership.workspace_id, topic_id=topic_id)
    db.commit()
    return RedirectResponse(f"/w/{membership.workspace.slug}/listen/topics", status_code=303)


@router.post("/w/{slug}/listen/topics-validate")
async def topic_validate(request: Request, membership: Member) -> Response:
    """Live validation while typing (HTMX): the error with a caret, or a confirmation."""
    form = await request.form()
    text = str(form.get("query", ""))
    error, pointer = "", ""
    try:
        topics.validate_query(text)
    except QuerySyntaxError as problem:
        error, pointer = problem.translated(i18n.gettext), problem.pointer
    context = {"error": error, "pointer": pointer, "slug": membership.workspace.slug}
    return render(request, "listen/insight/_validation.html", context)
