"""Connected accounts: list a workspace's channels; connect, reconnect and disconnect them.

Generic over every installed connector (``guanxi.connectors`` entry points): a connector
that implements ``OAuthConnect`` is connected through its platform's consent page, with a
signed, expiring ``state`` bound to the session and the workspace; one that implements
``CredentialsConnect`` through a form of its ``credential_fields``. Nothing is stored
unless the platform accepted the connection.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from guanxi.accounts import service as accounts
from guanxi.accounts.models import Membership, Permission, User
from guanxi.catalog.service import get_catalog
from guanxi.channels import service
from guanxi.channels.models import CHANNEL_STATUS_LABELS, Channel
from guanxi.connectors import registry
from guanxi.connectors.base import (
    ConnectedIdentity,
    Connector,
    ConnectorError,
    CredentialField,
    CredentialsConnect,
    OAuthConnect,
)
from guanxi.core import i18n
from guanxi.core.bounds import parse_id
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.security import SecretBox
from guanxi.web.deps import CurrentUser, Db, Member, Writer, app_settings, verify_csrf
from guanxi.web.forms import SubmittedForm, form_value
from guanxi.web.limits import QueryField
from guanxi.web.rendering import render
from guanxi.web.security import allow_form_targets

router = APIRouter(dependencies=[Depends(verify_csrf)])


STATE_SALT = "guanxi.channels.oauth-state"
STATE_MAX_AGE_S = 600  # the consent page must be answered within ten minutes
SESSION_NONCE = "channels_oauth_nonce"
SESSION_NOTICE = "channels_notice"
HTTP_TIMEOUT_S = 15.0


class ConnectFailedError(UserError):
    """The platform or the form refused the connection; nothing was stored."""


@dataclass(frozen=True)
class ConnectorOffer:
    """A connector as the page offers it."""

    name: str
    label: str
    method: str  # "oauth" or "credentials"
    platforms: list[tuple[str, str]]  # (catalog slug, name in the UI language)
    fields: tuple[CredentialField, ...] = field(default=())


@contextmanager
def _connector(request: Request, name: str) -> Iterator[Connector]:
    """Connector ``name`` built from the settings, with an HTTP client for this request."""
    if name not in registry.connector_names():
        raise NotFoundError(N_("No such kind of account can be connected here."))
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        yield registry.build_connector(name, app_settings(request), http)


def _platform_names(slugs: tuple[str, ...]) -> list[tuple[str, str]]:
    language = i18n.current_language()
    known = {p.slug: p.name(language) for p in get_catalog().platforms}
    return [(slug, known.get(slug, slug)) for slug in slugs]


def _offers(request: Request) -> list[ConnectorOffer]:
    offers = []
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        for name in registry.connector_names():
            connector = registry.build_connector(name, app_settings(request), http)
            platforms = _platform_names(connector.platforms)
            # A connector serving many platforms may say what it offers (the manual one does).
            many = i18n.gettext(str(getattr(connector, "offer_label", name)))
            label = platforms[0][1] if len(platforms) == 1 else many
            if isinstance(connector, OAuthConnect):
                offers.append(ConnectorOffer(name, label, "oauth", platforms))
                # The connect and reconnect forms end on the platform's consent page.
                allow_form_targets(request, *_consent_origin(connector))
            elif isinstance(connector, CredentialsConnect):
                fields = connector.credential_fields
                offers.append(ConnectorOffer(name, label, "credentials", platforms, fields))
    return offers


def _consent_origin(connector: OAuthConnect) -> list[str]:
    """The origin of the platform's consent page (none when no app is configured:
    connecting then fails with a message before any redirect)."""
    try:
        url = urlsplit(connector.authorization_url(state="", redirect_uri=""))
    except ConnectorError:
        return []
    return [f"{url.scheme}://{url.netloc}"] if url.scheme in ("http", "https") else []


def _translated(exc: ConnectorError | UserError) -> str:
    text = i18n.gettext(exc.message)
    return text.format(**exc.params) if exc.params else text


def _list_page(
    request: Request,
    db: Session,
    membership: Membership,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    i18n.set_language(request.state.language)
    notice = request.session.pop(SESSION_NOTICE, None)
    channels = service.list_channels(db, workspace=membership.workspace)
    names = dict(_platform_names(tuple(sorted({c.platform for c in channels}))))
    return render(
        request,
        "channels/list.html",
        {
            "section": "channels",
            "channels": channels,
            "platform_names": names,
            "status_labels": {str(s): label for s, label in CHANNEL_STATUS_LABELS.items()},
            "offers": _offers(request),
            "can_write": membership.can(Permission.WRITE),
            "error": error,
            "notice": notice if isinstance(notice, dict) else None,
        },
        status_code=status_code,
    )


def _back_to_list(
    request: Request, membership: Membership, message: str, **params: str
) -> Response:
    # Post/redirect/get: the notice survives the redirect untranslated, with its parameters.
    request.session[SESSION_NOTICE] = {"message": message, "params": params}
    return RedirectResponse(f"/w/{membership.workspace.slug}/channels", status_code=303)


@router.get("/w/{slug}/channels")
def channels_page(request: Request, db: Db, membership: Member) -> Response:
    """The workspace's connected accounts and, for writers, the ways to connect more."""
    return _list_page(request, db, membership)


# --- Connecting ------------------------------------------------------------------------


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app_settings(request).resolved_secret_key(), salt=STATE_SALT)


def _redirect_uri(request: Request, name: str) -> str:
    return f"{app_settings(request).base_url.rstrip('/')}/channels/oauth/{name}/callback"


def _chosen_platform(connector: Connector, platform: str) -> str:
    if not platform and len(connector.platforms) == 1:
        return connector.platforms[0]
    if platform not in connector.platforms:
        raise ConnectFailedError(N_("Choose the platform of the account to connect."))
    return platform


def _start_oauth(
    request: Request,
    membership: Membership,
    connector: Connector,
    *,
    platform: str,
    channel: Channel | None,
) -> Response:
    if not isinstance(connector, OAuthConnect):
        raise ConnectFailedError(
            N_("This kind of account is connected with a form, not a sign-in.")
        )
    nonce = request.session.get(SESSION_NONCE)
    if not isinstance(nonce, str) or not nonce:
        nonce = secrets.token_urlsafe(16)
        request.session[SESSION_NONCE] = nonce
    state = _serializer(request).dumps(
        {
            "workspace": membership.workspace.slug,
            "connector": connector.name,
            "platform": platform,
            "channel": channel.id if channel else 0,
            "nonce": nonce,
        }
    )
    url = connector.authorization_url(
        state=state, redirect_uri=_redirect_uri(request, connector.name)
    )
    return RedirectResponse(url, status_code=303)


def _store(
    request: Request,
    db: Session,
    membership: Membership,
    user: User,
    *,
    connector: Connector,
    platform: str,
    identity: ConnectedIdentity,
    channel: Channel | None,
) -> Response:
    """Keep a connection the platform accepted (or complete a reconnect) and go back."""
    if channel is not None and identity.external_id != channel.external_id:
        raise ConnectFailedError(
            N_(
                "You signed in as {name}, not as {expected}. Sign in to the platform as "
                "{expected} to reconnect it, or connect {name} as a new account."
            ),
            name=identity.name,
            expected=channel.name,
        )
    service.create_channel(
        db,
        workspace=membership.workspace,
        connector=connector.name,
        platform=platform,
        external_id=identity.external_id,
        name=identity.name,
        credentials=identity.credentials,
        box=SecretBox.from_settings(app_settings(request)),
        actor=user,
        token=identity.token,
    )
    db.commit()
    message = N_("Reconnected {name}.") if channel else N_("Connected {name}.")
    return _back_to_list(request, membership, message, name=identity.name)


def _reconnecting(db: Session, membership: Membership, value: str, name: str) -> Channel | None:
    if not value or value == "0":
        return None
    channel_id = parse_id(value)
    if channel_id is None:
        raise NotFoundError(N_("No such connected account in this workspace."))
    channel = service.get_channel(db, workspace=membership.workspace, channel_id=channel_id)
    if channel.connector != name:
        raise NotFoundError(N_("No such connected account in this workspace."))
    return channel


def _connect_form(
    request: Request,
    membership: Membership,
    offer: ConnectorOffer,
    *,
    channel: Channel | None,
    values: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "channels/connect.html",
        {
            "section": "channels",
            "offer": offer,
            "channel": channel,
            "values": values,
            "error": error,
        },
        status_code=status_code,
    )


def _offer(request: Request, name: str) -> ConnectorOffer:
    offer = next((o for o in _offers(request) if o.name == name), None)
    if offer is None:
        raise NotFoundError(N_("No such kind of account can be connected here."))
    return offer


@router.get("/w/{slug}/channels/connect/{name}")
def connect_form(
    request: Request, db: Db, membership: Writer, name: str, channel: QueryField = ""
) -> Response:
    """The form of a credentials connector (an AppID and AppSecret, ...)."""
    i18n.set_language(request.state.language)
    offer = _offer(request, name)
    if offer.method != "credentials":
        return RedirectResponse(f"/w/{membership.workspace.slug}/channels", status_code=303)
    existing = _reconnecting(db, membership, channel, name)
    values = {"platform": existing.platform} if existing else {}
    return _connect_form(request, membership, offer, channel=existing, values=values)


@router.post("/w/{slug}/channels/connect/{name}")
def connect(
    request: Request,
    db: Db,
    user: CurrentUser,
    membership: Writer,
    name: str,
    posted: SubmittedForm,
) -> Response:
    """Start an OAuth connection, or verify a credentials form and keep the account."""
    i18n.set_language(request.state.language)
    form = {key: form_value(posted, key).strip() for key in posted}
    channel = _reconnecting(db, membership, form.get("channel", ""), name)
    with _connector(request, name) as connector:
        try:
            platform = channel.platform if channel else form.get("platform", "")
            platform = _chosen_platform(connector, platform)
            if isinstance(connector, OAuthConnect):
                return _start_oauth(
                    request, membership, connector, platform=platform, channel=channel
                )
            return _connect_with_credentials(
                request,
                db,
                membership,
                user,
                connector,
                platform=platform,
                channel=channel,
                form=form,
            )
        except (ConnectorError, UserError) as exc:
            db.rollback()  # nothing of a refused connection is kept
            if isinstance(connector, OAuthConnect):
                return _list_page(request, db, membership, error=_translated(exc), status_code=400)
            offer = _offer(request, name)
            values = {k: v for k, v in form.items() if k in {"platform", *_plain(offer)}}
            return _connect_form(
                request,
                membership,
                offer,
                channel=channel,
                values=values,
                error=_translated(exc),
                status_code=400,
            )


def _plain(offer: ConnectorOffer) -> set[str]:
    # Secrets are never sent back to the browser, even after a failed attempt.
    return {f.name for f in offer.fields if not f.secret}


def _connect_with_credentials(
    request: Request,
    db: Session,
    membership: Membership,
    user: User,
    connector: Connector,
    *,
    platform: str,
    channel: Channel | None,
    form: dict[str, str],
) -> Response:
    if not isinstance(connector, CredentialsConnect):
        raise ConnectFailedError(N_("This kind of account cannot be connected here."))
    missing = [f for f in connector.credential_fields if not form.get(f.name)]
    if missing:
        raise ConnectFailedError(
            N_("Fill in {field}: the platform needs it to connect the account."),
            field=i18n.gettext(missing[0].label),
        )
    credentials = {f.name: form[f.name] for f in connector.credential_fields}
    identity = connector.verify_credentials(credentials)
    return _store(
        request,
        db,
        membership,
        user,
        connector=connector,
        platform=platform,
        identity=identity,
        channel=channel,
    )


@router.post("/w/{slug}/channels/{channel_id}/reconnect")
def reconnect(request: Request, db: Db, membership: Writer, channel_id: int) -> Response:
    """Connect the same account again: the platform's sign-in, or its form."""
    i18n.set_language(request.state.language)
    channel = service.get_channel(db, workspace=membership.workspace, channel_id=channel_id)
    with _connector(request, channel.connector) as connector:
        if not isinstance(connector, OAuthConnect):
            target = f"/w/{membership.workspace.slug}/channels/connect/{channel.connector}"
            return RedirectResponse(f"{target}?channel={channel.id}", status_code=303)
        try:
            return _start_oauth(
                request, membership, connector, platform=channel.platform, channel=channel
            )
        except ConnectorError as exc:
            return _list_page(request, db, membership, error=_translated(exc), status_code=400)


@router.post("/w/{slug}/channels/{channel_id}/disconnect")
def disconnect(
    request: Request, db: Db, user: CurrentUser, membership: Writer, channel_id: int
) -> Response:
    """Stop acting as the account and forget its secrets."""
    channel = service.get_channel(db, workspace=membership.workspace, channel_id=channel_id)
    service.disconnect_channel(db, channel=channel, actor=user)
    db.commit()
    return _back_to_list(request, membership, N_("Disconnected {name}."), name=channel.name)


@router.get("/channels/oauth/{name}/callback")
def oauth_callback(
    request: Request,
    db: Db,
    user: CurrentUser,
    name: str,
    state: QueryField = "",
    code: QueryField = "",
    error: QueryField = "",
) -> Response:
    """Where the platform sends the user back: check ``state``, then keep the account."""
    i18n.set_language(request.state.language)
    payload = _verified_state(request, state, name)
    membership = accounts.get_membership(db, user=user, workspace_slug=payload["workspace"])
    request.state.membership = membership
    accounts.require(membership, Permission.WRITE)
    request.session.pop(SESSION_NONCE, None)  # one consent, one use
    if error or not code:
        message = i18n.gettext(
            "The platform did not grant access, so nothing was connected. Try again and "
            "choose to allow guanxi."
        )
        return _list_page(request, db, membership, error=message, status_code=400)
    channel_id = int(payload.get("channel") or 0)
    channel = (
        service.get_channel(db, workspace=membership.workspace, channel_id=channel_id)
        if channel_id
        else None
    )
    with _connector(request, name) as connector:
        try:
            if not isinstance(connector, OAuthConnect):
                raise ConnectFailedError(N_("This kind of account cannot be connected here."))
            identity = connector.complete_authorization(
                code=code, redirect_uri=_redirect_uri(request, name)
            )
            return _store(
                request,
                db,
                membership,
                user,
                connector=connector,
                platform=str(payload["platform"]),
                identity=identity,
                channel=channel,
            )
        except (ConnectorError, UserError) as exc:
            db.rollback()
            return _list_page(request, db, membership, error=_translated(exc), status_code=400)


def _verified_state(request: Request, state: str, name: str) -> dict[str, Any]:
    expired = ConnectFailedError(
        N_("This connection attempt has expired or did not start here. Start it again.")
    )
    try:
        payload = _serializer(request).loads(state, max_age=STATE_MAX_AGE_S)
    except SignatureExpired as exc:
        raise expired from exc
    except BadSignature as exc:
        raise expired from exc
    nonce = request.session.get(SESSION_NONCE)
    if (
        not isinstance(payload, dict)
        or payload.get("connector") != name
        or not isinstance(nonce, str)
        or not secrets.compare_digest(str(payload.get("nonce", "")), nonce)
    ):
        raise expired
    return payload
