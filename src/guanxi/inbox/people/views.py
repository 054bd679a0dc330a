"""The relationship book's pages (people, a profile, merges, the KOL export) and debates."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Membership, Permission
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import NotFoundError, UserError
from guanxi.inbox.debates import service as debates
from guanxi.inbox.items.models import ITEM_KIND_LABELS
from guanxi.inbox.people import service as people
from guanxi.inbox.people.models import PERSON_KIND_LABELS
from guanxi.web.deps import Db, Member, Writer, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


def _kind_labels() -> dict[str, str]:
    return {str(k): v for k, v in PERSON_KIND_LABELS.items()}


@router.get("/w/{slug}/inbox/people")
def people_page(
    request: Request,
    db: Db,
    membership: Member,
    kind: QueryField = "",
    segment: QueryField = "",
    q: QueryField = "",
) -> Response:
    """Everyone who talked with the brand, with merge suggestions."""
    workspace_id = membership.workspace_id
    return render(
        request,
        "inbox/people.html",
        {
            "section": "inbox",
            "people": people.list_people(
                db, workspace_id=workspace_id, kind=kind, segment=segment, query=q
            ),
            "suggestions": people.merge_suggestions(db, workspace_id=workspace_id),
            "kind_labels": _kind_labels(),
            "filters": {"kind": kind, "segment": segment, "q": q},
            "can_write": membership.can(Permission.WRITE),
        },
    )


@router.get("/w/{slug}/inbox/people/kols.csv")
def export_kols(db: Db, membership: Member, minimum: int = 0) -> Response:
    """The KOL and media list as CSV, highest influence first."""
    body = people.export_kols(db, workspace_id=membership.workspace_id, minimum_score=minimum)
    return Response(
        content="\ufeff" + body,  # a BOM so Excel opens the Chinese names as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kols.csv"'},
    )


@router.post("/w/{slug}/inbox/people/merge")
def merge(db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Merge the second person into the first."""
    keep, other = form_value(form, "keep"), form_value(form, "merge")
    keep_id, merge_id = parse_id(keep), parse_id(other)
    if keep_id is None or merge_id is None:
        raise people.InvalidPersonError(i18n.gettext("Choose two different people to merge."))
    kept = people.merge_people(db, membership=membership, keep_id=keep_id, merge_id=merge_id)
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/people/{kept.id}", status_code=303
    )


def _person_page(
    request: Request,
    db: Db,
    membership: Membership,
    person_id: int,
    *,
    error: str | None = None,
    note_text: str = "",
    status_code: int = 200,
) -> Response:
    workspace_id = membership.workspace_id
    return render(
        request,
        "inbox/person.html",
        {
            "section": "inbox",
            "profile": people.profile(db, workspace_id=workspace_id, person_id=person_id),
            "history": people.history(db, workspace_id=workspace_id, person_id=person_id),
            "notes": people.person_notes(db, person_id=person_id),
            "tags": people.person_tags(db, person_id=person_id),
            "kind_labels": _kind_labels(),
            "item_kind_labels": {str(k): v for k, v in ITEM_KIND_LABELS.items()},
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            "note_text": note_text,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/inbox/people/{person_id}")
def person_page(request: Request, db: Db, membership: Member, person_id: int) -> Response:
    """A profile: accounts, influence with its reasons, notes and the full history."""
    return _person_page(request, db, membership, person_id)


@router.post("/w/{slug}/inbox/people/{person_id}")
def update_person(db: Db, membership: Writer, person_id: int, form: SubmittedForm) -> Response:
    """Set the person's kind and segment."""
    people.update_person(
        db,
        membership=membership,
        person_id=person_id,
        kind=form_value(form, "kind"),
        segment=form_value(form, "segment"),
    )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/people/{person_id}", status_code=303
    )


@router.post("/w/{slug}/inbox/people/{person_id}/tag")
def tag_person(db: Db, membership: Writer, person_id: int, form: SubmittedForm) -> Response:
    """Add or remove a tag on the person."""
    people.tag_person(
        db,
        membership=membership,
        person_id=person_id,
        name=form_value(form, "name"),
        remove=form_value(form, "remove") == "1",
    )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/people/{person_id}", status_code=303
    )


@router.post("/w/{slug}/inbox/people/{person_id}/note")
def add_person_note(
    request: Request, db: Db, membership: Writer, person_id: int, form: SubmittedForm
) -> Response:
    """A note on the person; a bad one comes back with its text."""
    text = form_value(form, "text")
    try:
        people.add_person_note(db, membership=membership, person_id=person_id, text=text)
    except NotFoundError:
        raise  # no page to show the note form on: the error page says so
    except UserError as exc:
        db.rollback()
        return _person_page(
            request,
            db,
            membership,
            person_id,
            error=exc.translated(i18n.gettext),
            note_text=text,
            status_code=400,
        )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/people/{person_id}", status_code=303
    )


# --- Debates -----------------------------------------------------------------------------


@router.get("/w/{slug}/inbox/debates")
def debates_page(request: Request, db: Db, membership: Member) -> Response:
    """The brand's topic campaigns."""
    return render(
        request,
        "inbox/debates.html",
        {
            "section": "inbox",
            "debates": debates.list_debates(db, workspace_id=membership.workspace_id),
            "can_write": membership.can(Permission.WRITE),
            "error": None,
        },
    )


@router.post("/w/{slug}/inbox/debates")
def create_debate(db: Db, membership: Writer, form: SubmittedForm) -> Response:
    """Follow a new topic."""
    debate = debates.create_debate(
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
def debate_page(request: Request, db: Db, membership: Member, debate_id: int) -> Response:
    """A debate's participation over time, with a chart."""
    debate = debates.get_debate(db, workspace_id=membership.workspace_id, debate_id=debate_id)
    result = debates.participation(db, debate=debate, timezone=membership.workspace.timezone)
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
            "posts": debates.linked_posts(db, debate_id=debate.id),
            "result": result,
            "chart": json.dumps(debates.chart_option(result, labels=labels), ensure_ascii=False),
            "can_write": membership.can(Permission.WRITE),
        },
    )


@router.post("/w/{slug}/inbox/debates/{debate_id}/posts")
def link_post(db: Db, membership: Writer, debate_id: int, form: SubmittedForm) -> Response:
    """Link a brand post to the debate."""
    debates.link_post(
        db, membership=membership, debate_id=debate_id, post_external_id=form_value(form, "post")
    )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/debates/{debate_id}", status_code=303
    )
