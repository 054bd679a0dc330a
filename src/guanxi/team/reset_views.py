"""Forgotten passwords: asking for a reset link, setting a new password through it, and an
owner handing a member a link when the server sends no e-mail."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response

from guanxi.accounts import reset
from guanxi.accounts.models import Membership
from guanxi.accounts.service import list_members
from guanxi.core import i18n
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.i18n import get_translations
from guanxi.notifications.service import OutgoingEmail, send_emails
from guanxi.team.views import settings_with
from guanxi.web.deps import CurrentUser, Db, Owner, app_settings, client_ip, verify_csrf
from guanxi.web.limits import FormField
from guanxi.web.rendering import render

router = APIRouter(dependencies=[Depends(verify_csrf)])

FORGOT = "/login/forgot"
EMAIL_SUBJECT = N_("guanxi: set a new password")
EMAIL_BODY = N_(
    "Someone asked to set a new password for your guanxi account. If it was you, open this "
    "link within an hour:\n\n{link}\n\nIf it was not you, ignore this e-mail: your password "
    "stays as it is."
)


def _error(request: Request, error: UserError) -> str:
    i18n.set_language(request.state.language)
    return error.translated(i18n.gettext)


def _reset_email(*, to: str, language: str, link: str) -> OutgoingEmail:
    translations = get_translations(language)
    return OutgoingEmail(
        to=to,
        subject=translations.gettext(EMAIL_SUBJECT),
        body=translations.gettext(EMAIL_BODY).format(link=link) + "\n",
    )


@router.get(FORGOT)
def forgot_page(request: Request) -> Response:
    """Ask for a reset link (or, without e-mail, learn whom to ask)."""
    mail = bool(app_settings(request).smtp_host)
    return render(
        request, "accounts/forgot.html", {"mail": mail, "email": "", "sent": False, "error": None}
    )


@router.post(FORGOT)
def ask_for_link(
    request: Request, db: Db, background: BackgroundTasks, email: FormField = ""
) -> Response:
    """Send a reset link to the address if it has an account; the answer is the same either
    way, and the e-mail goes out after the answer, so its time tells nothing either."""
    settings = app_settings(request)
    mail = bool(settings.smtp_host)
    try:
        asked = reset.request_link(
            db,
            email=email,
            ip=client_ip(request),
            secret_key=settings.resolved_secret_key(),
            base_url=settings.base_url,
        )
    except UserError as exc:
        db.rollback()
        context = {"mail": mail, "email": email, "sent": False, "error": _error(request, exc)}
        return render(request, "accounts/forgot.html", context, status_code=exc.status_code)
    db.commit()
    if mail and asked.user is not None and asked.link is not None:
        language = asked.user.language or settings.default_language
        message = _reset_email(to=asked.user.email, language=language, link=asked.link)
        background.add_task(send_emails, settings, [message])
    context = {"mail": mail, "email": email, "sent": True, "error": None}
    return render(request, "accounts/forgot.html", context)


@router.get(reset.RESET_PATH + "{token}")
def reset_page(request: Request, db: Db, token: str) -> Response:
    """The form to set a new password, if the link still works."""
    try:
        reset.user_for_token(
            db, token=token, secret_key=app_settings(request).resolved_secret_key()
        )
    except UserError as exc:
        context = {"token": None, "error": _error(request, exc)}
        return render(request, "accounts/reset.html", context, status_code=exc.status_code)
    return render(request, "accounts/reset.html", {"token": token, "error": None})


@router.post(reset.RESET_PATH + "{token}")
def set_new_password(
    request: Request,
    db: Db,
    token: str,
    new_password: FormField = "",
    confirmation: FormField = "",
) -> Response:
    """Set the new password; every session of the user ends, then they sign in with it."""
    try:
        reset.reset_password(
            db,
            token=token,
            new_password=new_password,
            confirmation=confirmation,
            secret_key=app_settings(request).resolved_secret_key(),
            ip=client_ip(request),
        )
    except UserError as exc:
        db.rollback()
        usable = exc.message != reset.INVALID_LINK
        context = {"token": token if usable else None, "error": _error(request, exc)}
        return render(request, "accounts/reset.html", context, status_code=exc.status_code)
    db.commit()
    language = request.session.get("language")
    request.session.clear()
    if language:
        request.session["language"] = language
    request.session["notice"] = N_("Your new password is set. Sign in with it.")
    return RedirectResponse("/login", status_code=303)


@router.post("/w/{slug}/settings/members/{member_id}/reset-link")
def issue_reset_link(
    request: Request, db: Db, user: CurrentUser, membership: Owner, member_id: int
) -> Response:
    """An owner's reset link for a member, shown once on the members page (for servers that
    send no e-mail); it works for an hour or until the member's password changes."""
    member = next(
        (m for m in list_members(db, workspace=membership.workspace) if m.id == member_id), None
    )
    if member is None:
        raise NotFoundError(N_("No member with this number in this workspace."))
    settings = app_settings(request)
    link = reset.issue_link(
        db,
        user=member.user,
        actor=user,
        secret_key=settings.resolved_secret_key(),
        base_url=settings.base_url,
        ip=client_ip(request),
    )
    db.commit()
    return settings_with(request, db, membership, reset_link=_shown(member, link))


def _shown(member: Membership, link: str) -> dict[str, str]:
    return {"name": member.user.name or member.user.email, "link": link}
