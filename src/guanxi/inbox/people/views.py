"""The relationship book's pages: people, a profile, merges and the KOL export."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Membership, Permission
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import NotFoundError, UserError
from guanxi.inbox.items.models import ITEM_KIND_LABELS
from guanxi.inbox.people import names, service
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
    people = service.list_people(db, workspace_id=workspace_id, kind=kind, segment=segment, query=q)
    return render(
        request,
        "inbox/people.html",
        {
            "section": "inbox",
            "people": names.people_rows(db, people),
            "suggestions": service.merge_suggestions(db, workspace_id=workspace_id),
            "kind_labels": _kind_labels(),
            "filters": {"kind": kind, "segment": segment, "q": q},
            "can_write": membership.can(Permission.WRITE),
        },
    )


@router.get("/w/{slug}/inbox/people/kols.csv")
def export_kols(db: Db, membership: Member, minimum: int = 0) -> Response:
    """The KOL and media list as CSV, highest influence first."""
    body = service.export_kols(db, workspace_id=membership.workspace_id, minimum_score=minimum)
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
        raise service.InvalidPersonError(i18n.gettext("Choose two different people to merge."))
    kept = service.merge_people(db, membership=membership, keep_id=keep_id, merge_id=merge_id)
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
    shown = service.profile(db, workspace_id=workspace_id, person_id=person_id)
    return render(
        request,
        "inbox/person.html",
        {
            "section": "inbox",
            "profile": shown,
            "person_name": names.person_name,
            "nameless": names.nameless,
            "history": service.history(db, workspace_id=workspace_id, person_id=person_id),
            "notes": service.person_notes(db, person_id=person_id),
            "tags": service.person_tags(db, person_id=person_id),
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
    """Set the person's remark (the name the team knows them by), kind and segment."""
    person = service.update_person(
        db,
        membership=membership,
        person_id=person_id,
        kind=form_value(form, "kind"),
        segment=form_value(form, "segment"),
    )
    if "remark" in form:
        names.set_remark(
            db, membership=membership, person=person, remark=form_value(form, "remark")
        )
    db.commit()
    return RedirectResponse(
        f"/w/{membership.workspace.slug}/inbox/people/{person_id}", status_code=303
    )


@router.post("/w/{slug}/inbox/people/{person_id}/tag")
def tag_person(db: Db, membership: Writer, person_id: int, form: SubmittedForm) -> Response:
    """Add or remove a tag on the person."""
    service.tag_person(
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
        service.add_person_note(db, membership=membership, person_id=person_id, text=text)
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
