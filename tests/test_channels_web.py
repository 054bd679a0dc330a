"""The Connected accounts pages: list, connect (OAuth and credentials), reconnect, disconnect.

They run against the sandbox with the real Weibo connector. The credentials flow is shown
with a small plugin connector defined here (as a third-party package would): it connects
a Weibo account from a pasted access token, which it checks with ``oauth2/get_token_info``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import AuditEvent, Membership, Role
from guanxi.channels import service as channels
from guanxi.channels import views
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.connectors import registry
from guanxi.connectors.base import (
    ChannelContext,
    ConnectedIdentity,
    ConnectorConfig,
    CredentialField,
    PermanentError,
    PublishRequest,
    PublishResult,
    ReadNotSupported,
    RuleViolation,
    VariantDraft,
)
from guanxi.connectors.manual import ManualConnector
from guanxi.connectors.settings import connector_settings
from guanxi.connectors.weibo import WeiboConnector, WeiboSettings
from guanxi.core.errors import N_
from guanxi.core.security import SecretBox
from guanxi.core.settings import Settings
from guanxi.sandbox.server import RunningSandbox, run_in_thread
from guanxi.sandbox.weibo import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_SAFE_DOMAIN,
    DEMO_WEIBO_NAME,
    DEMO_WEIBO_TOKEN,
    DEMO_WEIBO_UID,
    SECOND_WEIBO_NAME,
    SECOND_WEIBO_UID,
)
from guanxi.shell.app import create_app
from tests import http_support as local
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in
from tests.http_support import local_client


class PastedTokenWeibo(ReadNotSupported):
    """A plugin connector: a Weibo account connected by pasting an access token."""

    name = "weibo_token"
    credential_fields = (CredentialField("access_token", N_("Access token"), secret=True),)

    def __init__(self, config: ConnectorConfig) -> None:
        self._weibo = WeiboConnector(config, safe_domain=DEMO_SAFE_DOMAIN)
        self._config = config
        self.platforms = self._weibo.platforms
        self.capabilities = self._weibo.capabilities
        self.hashtag_style = self._weibo.hashtag_style
        self.variant_fields = self._weibo.variant_fields

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client) -> PastedTokenWeibo:
        """Configured like the built-in Weibo connector."""
        weibo = connector_settings(WeiboSettings, settings)
        return cls(ConnectorConfig(base_url=weibo.api_base, http=http))

    def verify_credentials(self, credentials: Mapping[str, str]) -> ConnectedIdentity:
        """Ask Weibo whose token it is."""
        response = self._config.http.post(
            f"{self._config.base_url}/oauth2/get_token_info",
            data={"access_token": credentials["access_token"]},
        )
        body = response.json()
        if "uid" not in body:
            raise PermanentError(N_("Weibo does not know this token: {error}"), error=body["error"])
        uid = str(body["uid"])
        user = self._config.http.get(
            f"{self._config.base_url}/2/users/show.json",
            params={"uid": uid, "access_token": credentials["access_token"]},
        ).json()
        return ConnectedIdentity(external_id=uid, name=user["screen_name"], credentials=credentials)

    def validate(self, variant: VariantDraft) -> list[RuleViolation]:
        """As the built-in connector."""
        return self._weibo.validate(variant)

    def publish(self, channel: ChannelContext, request: PublishRequest) -> PublishResult:
        """As the built-in connector."""
        return self._weibo.publish(channel, request)

    def publish_status(self, channel: ChannelContext, external_id: str) -> PublishResult:
        """As the built-in connector."""
        return self._weibo.publish_status(channel, external_id)

    def find(self, channel: ChannelContext, request: PublishRequest) -> PublishResult | None:
        """As the built-in connector."""
        return self._weibo.find(channel, request)

    def delete(self, channel: ChannelContext, external_id: str) -> None:
        """As the built-in connector."""
        self._weibo.delete(channel, external_id)


@pytest.fixture(autouse=True)
def installed_connectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed connectors: the built-in Weibo one and the plugin above."""
    factories = {"weibo": WeiboConnector, "weibo_token": PastedTokenWeibo}
    monkeypatch.setattr(registry, "connector_factories", lambda: factories)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """The sandbox with its demo Weibo app and accounts (shared: each test checks only the
    accounts and posts it made)."""
    with run_in_thread() as running:
        yield running


@pytest.fixture
def weibo_settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    """The test instance configured with the sandbox's demo Weibo app."""
    return settings.model_copy(
        update={
            "weibo_api_base": sandbox.api_base("/weibo"),
            "weibo_app_key": DEMO_APP_KEY,
            "weibo_app_secret": SecretStr(DEMO_APP_SECRET),
            "weibo_safe_domain": DEMO_SAFE_DOMAIN,
        }
    )


@pytest.fixture
def web(weibo_settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """A client of the app wired to the sandbox."""
    app: FastAPI = create_app(weibo_settings, session_factory)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def owner(web: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory) -> Membership:
    """The client signed in as the owner of workspace ``acme``."""
    user = make_user("owner@acme.example", name="Owner")
    workspace = make_workspace("acme", owner=user)
    sign_in(web, user.email)
    return workspace.memberships[0]


def post_form(client: TestClient, path: str, **data: str) -> Response:
    """POST a form with the session's CSRF token, without following redirects."""
    return client.post(
        path, data={**data, "csrf_token": csrf_token(client)}, follow_redirects=False
    )


def consent(authorization_url: str, account_id: str, action: str = "allow") -> str:
    """Answer the sandbox's consent page; the URL it sends the browser back to."""
    parts = urlsplit(authorization_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    answer = local.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**query, "account_id": account_id, "password": "sandbox", "action": action},
    )
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert location.path == "/channels/oauth/weibo/callback"
    return f"{location.path}?{location.query}"


def start_oauth(client: TestClient, path: str = "/w/acme/channels/connect/weibo") -> str:
    """Press a Connect/Reconnect button: the platform's consent page address."""
    response = post_form(client, path)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def connect_weibo(client: TestClient, account_id: str = DEMO_WEIBO_UID) -> Response:
    """The whole OAuth flow through the web: button, consent, callback."""
    callback = consent(start_oauth(client), account_id)
    return client.get(callback, follow_redirects=False)


def stored(db: Session) -> list[Channel]:
    """Every channel row, fresh from the database."""
    db.expire_all()
    return list(db.scalars(select(Channel).order_by(Channel.id)))


def test_an_empty_workspace_offers_each_installed_connector(
    web: TestClient, owner: Membership
) -> None:
    """Given no account, the page says so and offers a Connect button per connector."""
    page = web.get("/w/acme/channels")
    assert page.status_code == 200
    assert "No account is connected yet." in page.text
    assert 'action="/w/acme/channels/connect/weibo"' in page.text
    assert 'href="/w/acme/channels/connect/weibo_token"' in page.text
    assert 'href="/w/acme/channels"' in page.text  # the nav link


def test_a_connector_for_many_platforms_says_what_it_offers(
    web: TestClient, owner: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the manual connector installed (it serves every platform without an API), its
    button says what it offers rather than its entry-point name."""
    factories = {**registry.connector_factories(), "manual": ManualConnector}
    monkeypatch.setattr(registry, "connector_factories", lambda: factories)
    page = web.get("/w/acme/channels")
    assert "Connect an account on a platform without an API (manual publishing)" in page.text
    assert "Connect manual" not in page.text


def test_oauth_connects_the_account_end_to_end(
    web: TestClient,
    owner: Membership,
    db: Session,
    sandbox: RunningSandbox,
    session_factory: sessionmaker[Session],
    weibo_settings: Settings,
) -> None:
    """Given the owner, When they connect Weibo and allow on the consent page, Then the
    account is listed as connected, its token is stored encrypted and audited, and a post
    published through the stored channel appears on the sandbox account."""
    response = connect_weibo(web)
    assert response.status_code == 303
    page = web.get(response.headers["location"])
    assert f"Connected {DEMO_WEIBO_NAME}." in page.text
    assert DEMO_WEIBO_NAME in page.text
    [channel] = stored(db)
    assert (channel.connector, channel.platform, channel.external_id) == (
        "weibo",
        "weibo",
        DEMO_WEIBO_UID,
    )
    assert channel.status == ChannelStatus.CONNECTED
    assert channel.token_expires_at is not None
    assert "weibo." not in channel.access_token_encrypted  # not in plain text
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "channel"))
    assert list(actions) == ["channel.connect"]

    box = SecretBox.from_settings(weibo_settings)
    context = channels.channel_context(channel, sessions=session_factory, box=box, owner="test")
    with local_client() as http:
        connector = WeiboConnector.from_settings(weibo_settings, http)
        result = connector.publish(
            context,
            PublishRequest(
                "t-1", VariantDraft(text="连接后的第一条", link=f"https://{DEMO_SAFE_DOMAIN}/")
            ),
        )
    published = local.get(
        f"{sandbox.base_url}/_sandbox/posts", params={"account_id": DEMO_WEIBO_UID}
    ).json()
    assert [p["post_id"] for p in published] == [result.external_id]


def test_the_oauth_page_is_in_chinese_too(web: TestClient, owner: Membership) -> None:
    """The page follows the user's language."""
    post_form(web, "/language", language="zh_Hans", next="/w/acme/channels")
    page = web.get("/w/acme/channels")
    assert 'lang="zh-Hans"' in page.text


def test_a_tampered_or_foreign_state_stores_nothing(
    web: TestClient, owner: Membership, db: Session, make_user: UserFactory
) -> None:
    """A state that was altered, or started in another session, is refused."""
    callback = consent(start_oauth(web), DEMO_WEIBO_UID)
    tampered = re.sub(r"state=([^&]+)", lambda m: f"state={m.group(1)[:-2]}xx", callback)
    refused = web.get(tampered)
    assert refused.status_code == 400
    assert "expired or did not start here" in refused.text
    assert stored(db) == []

    with TestClient(web.app, base_url="http://testserver") as other:
        sign_in(other, "owner@acme.example")
        foreign = other.get(callback)
    assert foreign.status_code == 400
    assert stored(db) == []


def test_an_expired_state_stores_nothing(
    web: TestClient, owner: Membership, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consent page must be answered in time."""
    callback = consent(start_oauth(web), DEMO_WEIBO_UID)
    monkeypatch.setattr(views, "STATE_MAX_AGE_S", -1)
    assert web.get(callback).status_code == 400
    assert stored(db) == []


def test_cancelling_on_the_consent_page(web: TestClient, owner: Membership, db: Session) -> None:
    """Refusing on Weibo's page connects nothing and says so."""
    callback = consent(start_oauth(web), DEMO_WEIBO_UID, action="cancel")
    page = web.get(callback)
    assert page.status_code == 400
    assert "did not grant access" in page.text
    assert stored(db) == []


def test_reconnect_clears_reconnect_needed(web: TestClient, owner: Membership, db: Session) -> None:
    """Given a channel whose token failed, the page shows why; reconnecting as the same
    account makes it connected again."""
    connect_weibo(web)
    [channel] = stored(db)
    channels.mark_needs_reconnect(db, channel=channel, reason="Weibo: expired_token")
    db.commit()
    page = web.get("/w/acme/channels")
    assert "Reconnect needed" in page.text
    assert "Weibo: expired_token" in page.text
    callback = consent(start_oauth(web, f"/w/acme/channels/{channel.id}/reconnect"), DEMO_WEIBO_UID)
    done = web.get(callback, follow_redirects=False)
    assert done.status_code == 303
    assert f"Reconnected {DEMO_WEIBO_NAME}." in web.get("/w/acme/channels").text
    [channel] = stored(db)
    assert channel.status == ChannelStatus.CONNECTED


def test_reconnecting_as_another_account_is_refused(
    web: TestClient, owner: Membership, db: Session
) -> None:
    """Signing in as a different Weibo account does not replace the one being reconnected."""
    connect_weibo(web)
    [channel] = stored(db)
    channels.mark_needs_reconnect(db, channel=channel, reason="expired")
    db.commit()
    callback = consent(
        start_oauth(web, f"/w/acme/channels/{channel.id}/reconnect"), SECOND_WEIBO_UID
    )
    page = web.get(callback)
    assert page.status_code == 400
    assert f"You signed in as {SECOND_WEIBO_NAME}, not as {DEMO_WEIBO_NAME}." in page.text
    [channel] = stored(db)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT


def test_disconnect_forgets_the_secrets(web: TestClient, owner: Membership, db: Session) -> None:
    """Disconnected: gone from the list, tokens wiped, audited."""
    connect_weibo(web)
    [channel] = stored(db)
    response = post_form(web, f"/w/acme/channels/{channel.id}/disconnect")
    assert response.status_code == 303
    page = web.get("/w/acme/channels")
    assert f"Disconnected {DEMO_WEIBO_NAME}." in page.text
    assert "No account is connected yet." in page.text
    [channel] = stored(db)
    assert (channel.status, channel.access_token_encrypted) == (ChannelStatus.DISCONNECTED, "")
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "channel.disconnect"))


def test_credentials_connector_form(
    web: TestClient, owner: Membership, db: Session, weibo_settings: Settings
) -> None:
    """A credentials connector: its form; a missing or wrong value is refused with the
    platform's reason and nothing stored; the right one connects the account."""
    form = web.get("/w/acme/channels/connect/weibo_token")
    assert form.status_code == 200
    assert 'name="access_token"' in form.text
    assert 'type="password"' in form.text

    missing = post_form(web, "/w/acme/channels/connect/weibo_token", access_token="")
    assert missing.status_code == 400
    assert "Fill in Access token" in missing.text
    wrong = post_form(web, "/w/acme/channels/connect/weibo_token", access_token="2.00nope")
    assert wrong.status_code == 400
    assert "Weibo does not know this token: invalid_access_token" in wrong.text
    assert "2.00nope" not in wrong.text  # a secret is never sent back
    assert stored(db) == []

    right = post_form(web, "/w/acme/channels/connect/weibo_token", access_token=DEMO_WEIBO_TOKEN)
    assert right.status_code == 303
    [channel] = stored(db)
    assert (channel.connector, channel.name) == ("weibo_token", DEMO_WEIBO_NAME)
    box = SecretBox.from_settings(weibo_settings)
    assert channels.credentials_of(channel, box) == {"access_token": DEMO_WEIBO_TOKEN}


def test_reconnect_of_a_credentials_channel_uses_its_form(
    web: TestClient, owner: Membership, db: Session
) -> None:
    """Reconnect leads to the form for the same account."""
    post_form(web, "/w/acme/channels/connect/weibo_token", access_token=DEMO_WEIBO_TOKEN)
    [channel] = stored(db)
    response = post_form(web, f"/w/acme/channels/{channel.id}/reconnect")
    assert (
        response.headers["location"] == f"/w/acme/channels/connect/weibo_token?channel={channel.id}"
    )
    form = web.get(response.headers["location"])
    assert f"Reconnect {DEMO_WEIBO_NAME}" in form.text


def test_without_a_weibo_app_connecting_says_what_to_set(
    owner: Membership, web: TestClient, db: Session
) -> None:
    """No GUANXI_WEIBO_APP_KEY: a clear message, nothing stored."""
    web.app.state.settings = web.app.state.settings.model_copy(update={"weibo_app_key": ""})  # type: ignore[attr-defined]
    response = post_form(web, "/w/acme/channels/connect/weibo")
    assert response.status_code == 400
    assert "GUANXI_WEIBO_APP_KEY" in response.text
    assert stored(db) == []


def test_an_unknown_connector_is_not_found(web: TestClient, owner: Membership) -> None:
    """A connector that is not installed: 404."""
    assert post_form(web, "/w/acme/channels/connect/myspace").status_code == 404
    assert web.get("/w/acme/channels/connect/myspace").status_code == 404


@pytest.mark.parametrize("role", [Role.EDITOR, Role.MANAGER])
def test_editors_and_managers_may_connect(
    web: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory, role: Role
) -> None:
    """Writers connect."""
    owner = make_user("o@acme.example")
    member = make_user("m@acme.example")
    make_workspace("acme", owner=owner, members={member: role})
    sign_in(web, member.email)
    assert connect_weibo(web).status_code == 303


def test_analysts_only_read(
    web: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory, db: Session
) -> None:
    """An analyst sees the accounts but no buttons, and is refused if they post anyway,
    even with a valid consent in hand."""
    owner = make_user("o@acme.example")
    analyst = make_user("a@acme.example")
    make_workspace("acme", owner=owner, members={analyst: Role.ANALYST})
    sign_in(web, owner.email)
    callback = consent(start_oauth(web), DEMO_WEIBO_UID)
    web.post("/logout", data={"csrf_token": csrf_token(web)})
    sign_in(web, analyst.email)
    page = web.get("/w/acme/channels")
    assert page.status_code == 200
    assert "Your role can see the connected accounts but not change them." in page.text
    assert "/channels/connect/weibo" not in page.text
    assert post_form(web, "/w/acme/channels/connect/weibo").status_code == 403
    assert web.get(callback).status_code in {400, 403}
    assert stored(db) == []


def test_another_workspace_is_not_found(
    web: TestClient, owner: Membership, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Channels of a workspace one is not a member of do not exist for them."""
    make_workspace("rival", owner=make_user("r@rival.example"))
    assert web.get("/w/rival/channels").status_code == 404
    assert post_form(web, "/w/rival/channels/connect/weibo").status_code == 404


def test_a_post_without_csrf_is_refused(web: TestClient, owner: Membership) -> None:
    """Forms carry the CSRF token."""
    response = web.post("/w/acme/channels/connect/weibo", data={}, follow_redirects=False)
    assert response.status_code == 403
