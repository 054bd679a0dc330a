"""Check pages: the inline preview and conversion for the composer (HTMX), and the
workspace's sensitive-word list (list, add, remove, import, export)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts.models import Membership, Permission
from guanxi.channels.models import ChannelAudience
from guanxi.checks import service, wordlist
from guanxi.checks.findings import CheckedField, highlight
from guanxi.checks.labels import CATEGORY_LABELS
from guanxi.checks.script import CONVERSION_LABELS, convert, parse_conversion
from guanxi.checks.words import WORD_SEVERITY_LABELS, WordSeverity
from guanxi.connectors.base import HashtagStyle
from guanxi.core import i18n
from guanxi.core.errors import N_, UserError
from guanxi.web.deps import Db, Member, Writer, client_ip, verify_csrf
from guanxi.web.limits import UPLOAD_FORM_OVERHEAD, FormField, FormText, QueryField, body_limit
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])


WORDS_SHOWN = 500
# The composer's textareas are named like the variant's fields.
CONVERTIBLE_FIELDS = frozenset({"text", "title", "digest"})
AUDIENCE_LABELS: dict[ChannelAudience, str] = {
    ChannelAudience.MAINLAND: N_("Mainland China"),
    ChannelAudience.HONG_KONG: N_("Hong Kong"),
    ChannelAudience.TAIWAN: N_("Taiwan"),
    ChannelAudience.OVERSEAS: N_("Overseas"),
}
FIELD_LABELS: dict[CheckedField, str] = {
    CheckedField.TEXT: N_("Text"),
    CheckedField.TITLE: N_("Title"),
    CheckedField.DIGEST: N_("Digest"),
    CheckedField.LINK: N_("Link"),
}
HASHTAG_STYLE_LABELS: dict[HashtagStyle, str] = {
    HashtagStyle.DOUBLE_HASH: N_("#topic# (Weibo)"),
    HashtagStyle.SINGLE_HASH: N_("#topic followed by a space (Douyin, Xiaohongshu)"),
    HashtagStyle.NONE: N_("No hashtags (WeChat articles)"),
}


def _parse_audience(value: str) -> ChannelAudience:
    try:
        return ChannelAudience(value)
    except ValueError:
        raise UserError(
            N_("Unknown audience “{value}”. Choose one of: {choices}."),
            value=value,
            choices=", ".join(a.value for a in ChannelAudience),
        ) from None


def _parse_hashtag_style(value: str) -> HashtagStyle:
    try:
        return HashtagStyle(value)
    except ValueError:
        raise UserError(
            N_("Unknown hashtag style “{value}”. Choose one of: {choices}."),
            value=value,
            choices=", ".join(s.value for s in HashtagStyle),
        ) from None


def _fragment_error(request: Request, error: UserError) -> Response:
    i18n.set_language(request.state.language)
    return render(
        request,
        "checks/_error.html",
        {"message": error.translated(i18n.gettext)},
        status_code=error.status_code,
    )


@router.post("/w/{slug}/checks/preview")
def preview(
    request: Request,
    db: Db,
    membership: Member,
    text: FormText = "",
    title: FormField = "",
    digest: FormText = "",
    link: FormField = "",
    audience: FormField = ChannelAudience.MAINLAND.value,
    hashtag_style: FormField = HashtagStyle.DOUBLE_HASH.value,
) -> Response:
    """The findings for the composer's current text, with the text highlighted (HTMX)."""
    try:
        parsed_audience = _parse_audience(audience)
        parsed_style = _parse_hashtag_style(hashtag_style)
    except UserError as error:
        return _fragment_error(request, error)
    words = service.compiled_words(db, workspace=membership.workspace)
    findings = service.run_checks(
        text=text,
        title=title,
        digest=digest,
        link=link,
        audience=parsed_audience,
        hashtag_style=parsed_style,
        words=words,
    )
    i18n.set_language(request.state.language)
    fields = [
        (i18n.gettext(FIELD_LABELS[name]), highlight(value, findings, name))
        for name, value in (
            (CheckedField.TITLE, title),
            (CheckedField.DIGEST, digest),
            (CheckedField.TEXT, text),
            (CheckedField.LINK, link),
        )
        if value and any(span.field is name for f in findings for span in f.spans)
    ]
    return render(
        request,
        "checks/_findings.html",
        {
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity.value,
                    "message": f.translated(i18n.gettext),
                    "conversion": f.params.get("conversion", ""),
                }
                for f in findings
            ],
            "fields": fields,
            "conversion_labels": {c.value: label for c, label in CONVERSION_LABELS.items()},
        },
    )


@router.post("/w/{slug}/checks/convert")
def convert_text(
    request: Request,
    membership: Member,
    text: FormText = "",
    conversion: FormField = "",
    field: FormField = "text",
) -> Response:
    """``text`` converted by OpenCC, as the composer's textarea to swap in (HTMX)."""
    if field not in CONVERTIBLE_FIELDS:
        return _fragment_error(
            request,
            UserError(
                N_("Only the text, the title and the digest can be converted, not “{field}”."),
                field=field,
            ),
        )
    try:
        parsed = parse_conversion(conversion)
    except UserError as error:
        return _fragment_error(request, error)
    return render(
        request,
        "checks/_textarea.html",
        {"field": field, "value": convert(text, parsed)},
    )


def _words_page(
    request: Request,
    db: Db,
    membership: Membership,
    *,
    query: str = "",
    error: str | None = None,
    report: wordlist.ImportReport | None = None,
    status_code: int = 200,
) -> Response:
    workspace = membership.workspace
    i18n.set_language(request.state.language)
    words = wordlist.list_words(db, workspace=workspace, query=query, limit=WORDS_SHOWN)
    context: dict[str, Any] = {
        "section": "publish",
        "words": words,
        "total": wordlist.count_words(db, workspace=workspace),
        "shown_limit": WORDS_SHOWN,
        "query": query,
        "error": error,
        "report": report,
        "bad_rows": [
            {
                "line": row.line,
                "text": row.text,
                "message": i18n.gettext(row.message).format(**row.params),
            }
            for row in (report.bad_rows if report else [])
        ],
        "can_write": membership.can(Permission.WRITE),
        "severity_labels": {s.value: label for s, label in WORD_SEVERITY_LABELS.items()},
        "category_labels": CATEGORY_LABELS,
        "audience_labels": {a.value: label for a, label in AUDIENCE_LABELS.items()},
        "hashtag_style_labels": {s.value: label for s, label in HASHTAG_STYLE_LABELS.items()},
    }
    return render(request, "checks/words.html", context, status_code=status_code)


@router.get("/w/{slug}/checks/words")
def words_page(request: Request, db: Db, membership: Member, q: QueryField = "") -> Response:
    """The workspace's sensitive-word list, with a box to try the checks."""
    return _words_page(request, db, membership, query=q)


def _back(membership: Membership) -> RedirectResponse:
    return RedirectResponse(f"/w/{membership.workspace.slug}/checks/words", status_code=303)


@router.post("/w/{slug}/checks/words")
def add_word(
    request: Request,
    db: Db,
    membership: Writer,
    term: FormField = "",
    category: FormField = "",
    severity: FormField = WordSeverity.WARN.value,
) -> Response:
    """Add a term (or change the category and severity of a listed one)."""
    i18n.set_language(request.state.language)
    try:
        entry = wordlist.parse_entry(term, category, severity)
    except UserError as error:
        return _words_page(
            request, db, membership, error=error.translated(i18n.gettext), status_code=400
        )
    wordlist.add_word(db, membership=membership, entry=entry, ip=client_ip(request))
    db.commit()
    return _back(membership)


@router.post("/w/{slug}/checks/words/{word_id}/delete")
def remove_word(request: Request, db: Db, membership: Writer, word_id: int) -> Response:
    """Remove a term from the list."""
    wordlist.remove_word(db, membership=membership, word_id=word_id, ip=client_ip(request))
    db.commit()
    return _back(membership)


@router.post(
    "/w/{slug}/checks/words/import",
    openapi_extra=body_limit(wordlist.IMPORT_MAX_BYTES + UPLOAD_FORM_OVERHEAD),
)
async def import_words(
    request: Request,
    db: Db,
    membership: Writer,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import a file of terms; good rows are kept and bad rows listed on the page."""
    i18n.set_language(request.state.language)
    content = await file.read(wordlist.IMPORT_MAX_BYTES + 1) if file is not None else b""
    try:
        report = wordlist.import_words(
            db, membership=membership, content=content, ip=client_ip(request)
        )
    except UserError as error:
        db.rollback()
        return _words_page(
            request, db, membership, error=error.translated(i18n.gettext), status_code=400
        )
    db.commit()
    return _words_page(request, db, membership, report=report)


@router.get("/w/{slug}/checks/words/export")
def export_words(db: Db, membership: Member) -> Response:
    """The list as a CSV file (term,category,severity), importable again."""
    return Response(
        wordlist.export_words(db, workspace=membership.workspace),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{membership.workspace.slug}-words.csv"'
        },
    )
