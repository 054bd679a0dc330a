"""Security headers on every response, a strict Content-Security-Policy, no inline code
that the policy would block, and the API documentation served from the app itself."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from guanxi.core.settings import Mode, Settings
from guanxi.shell.app import create_app
from guanxi.web.rendering import TEMPLATES_DIR
from tests.conftest import UserFactory, WorkspaceFactory, sign_in

ALWAYS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})'")


def policy(headers: Mapping[str, str]) -> dict[str, str]:
    """The CSP header as {directive: sources}."""
    value = headers.get("content-security-policy", "")
    pairs = (part.strip().split(" ", 1) for part in value.split(";"))
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def assert_secured(headers: Mapping[str, str]) -> None:
    for name, value in ALWAYS.items():
        assert headers.get(name) == value, name
    assert "camera=()" in headers["permissions-policy"]
    directives = policy(headers)
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"


@pytest.fixture
def crashing_app(app: FastAPI) -> FastAPI:
    """The app with a page and an API route that fail with an unexpected error."""

    def crash() -> None:
        raise RuntimeError("database password is hunter2")

    app.add_api_route("/crash", crash)
    app.add_api_route("/api/v1/crash", crash)
    return app


class RefuseLargeBodies:
    """Another layer's own answer, as a request-size limit gives before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/upload":
            await PlainTextResponse("Too large", status_code=413)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/login", 200),
        ("GET", "/", 303),
        ("GET", "/static/app.css", 200),
        ("GET", "/static/no-such-file.css", 404),
        ("GET", "/no-such-page", 404),
        ("DELETE", "/login", 405),
        ("POST", "/login", 403),
        ("GET", "/api/v1/catalog/platforms", 401),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    """Pages, redirects, static files, 404s, refusals and API answers all carry the headers."""
    response = client.request(method, path, follow_redirects=False)

    assert response.status_code == status
    assert_secured(response.headers)


def test_answers_of_other_middleware_carry_the_headers(app: FastAPI) -> None:
    """A middleware added later (outside the others) still answers inside the headers layer."""
    app.add_middleware(RefuseLargeBodies)
    with TestClient(app) as client:
        response = client.post("/upload", content=b"x" * 10)

    assert response.status_code == 413
    assert_secured(response.headers)


def test_unexpected_error_shows_a_friendly_page_with_the_headers(crashing_app: FastAPI) -> None:
    """Given a page that fails with an unexpected exception,
    when it is requested,
    then the answer is a 500 page that says what to do, carries every security header,
    and shows neither the traceback nor the exception's text."""
    with TestClient(crashing_app, raise_server_exceptions=False) as client:
        response = client.get("/crash")
        api_response = client.get("/api/v1/crash")

    assert response.status_code == 500
    assert_secured(response.headers)
    assert "text/html" in response.headers["content-type"]
    assert "Something went wrong on our side" in response.text
    assert "Reload the page" in response.text
    for leak in ("Traceback", "RuntimeError", "hunter2", "crash()"):
        assert leak not in response.text
    assert api_response.status_code == 500
    assert_secured(api_response.headers)
    assert api_response.json() == {
        "detail": "Something went wrong on our side. Reload the page to see whether your "
        "last change was saved, and try again in a moment."
    }


def test_unexpected_error_page_is_translated(crashing_app: FastAPI) -> None:
    with TestClient(crashing_app, raise_server_exceptions=False) as client:
        response = client.get("/crash", headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 500
    assert "我们这边出了问题。请刷新页面" in response.text
    assert "hunter2" not in response.text


def test_policy_allows_only_own_scripts_and_styles_with_a_fresh_nonce(client: TestClient) -> None:
    """Scripts and styles come from the app or carry this response's nonce; no inline
    attributes, no eval, and each response has its own nonce."""
    first, second = client.get("/login"), client.get("/login")

    directives = policy(first.headers)
    nonce = NONCE.search(first.headers["content-security-policy"])
    other = NONCE.search(second.headers["content-security-policy"])
    assert nonce is not None
    assert other is not None
    assert nonce.group(1) != other.group(1)
    assert directives["script-src"] == f"'self' 'nonce-{nonce.group(1)}'"
    assert directives["style-src"] == f"'self' 'nonce-{nonce.group(1)}'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert "unsafe" not in first.headers["content-security-policy"]


def test_htmx_is_configured_for_the_strict_policy(client: TestClient) -> None:
    """htmx neither evaluates code from attributes nor injects its own <style> element."""
    page = client.get("/login").text

    meta = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    assert meta is not None
    config = json.loads(meta.group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False


def test_strict_transport_security_in_production_only(
    client: TestClient, tmp_path: Path, database_url: str, session_factory: sessionmaker[Session]
) -> None:
    production = Settings(
        mode=Mode.PRODUCTION,
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="production-secret-key-that-is-long-enough-0123",  # type: ignore[arg-type]
    )
    with TestClient(create_app(production, session_factory), base_url="https://testserver") as c:
        secure = c.get("/login")

    assert secure.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "strict-transport-security" not in client.get("/login").headers


def test_connect_forms_may_lead_to_the_platform_consent_page(
    settings: Settings,
    session_factory: sessionmaker[Session],
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given an instance with a Weibo app, the channels page (whose connect forms redirect
    to Weibo's consent page) allows that origin as a form target; other pages do not."""
    weibo = settings.model_copy(
        update={
            "weibo_api_base": "https://api.weibo.example",
            "weibo_app_key": "app-key",
            "weibo_app_secret": SecretStr("app-secret"),
        }
    )
    user = make_user("owner@acme.example", name="Owner")
    make_workspace("acme", owner=user)
    with TestClient(create_app(weibo, session_factory)) as client:
        sign_in(client, user.email)
        channels = client.get("/w/acme/channels")
        overview = client.get("/w/acme/")

    assert channels.status_code == 200
    assert "https://api.weibo.example" in policy(channels.headers)["form-action"].split()
    assert policy(overview.headers)["form-action"] == "'self'"


# --- Templates the policy would break ----------------------------------------------------------

TEMPLATES = sorted(TEMPLATES_DIR.rglob("*.html"))


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=lambda path: str(path.relative_to(TEMPLATES_DIR))
)
def test_templates_have_no_inline_code_the_policy_blocks(template: Path) -> None:
    """No style="…" or on…="…" attributes, no hx-on; inline <script> and <style> elements
    are JSON data or carry the nonce."""
    source = template.read_text(encoding="utf-8")

    assert not re.search(r"\sstyle=", source), "style attribute: use a class in app.css"
    assert not re.search(r"\son[a-z]+=", source), "event-handler attribute: use a script file"
    assert "hx-on" not in source, "hx-on needs eval: use a script file"
    for tag in re.findall(r"<script\b[^>]*>", source):
        assert (
            "src=" in tag or 'type="application/json"' in tag or 'nonce="{{ csp_nonce }}"' in tag
        ), tag
    for tag in re.findall(r"<style\b[^>]*>", source):
        assert 'nonce="{{ csp_nonce }}"' in tag, tag


# --- API documentation --------------------------------------------------------------------------


def test_api_docs_use_only_assets_served_by_the_app(client: TestClient) -> None:
    """Given the API documentation page, its scripts and style sheets are all same-origin
    files the app serves (no CDN), and they load."""
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert_secured(response.headers)
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert "/static/vendor/swagger-ui-bundle.js" in assets
    assert "/static/vendor/swagger-ui.css" in assets
    for asset in assets:
        if asset.startswith("data:"):
            continue
        assert asset.startswith("/"), asset
        assert not asset.startswith("//"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.content, asset
    assert 'data-openapi-url="/api/v1/openapi.json"' in response.text
    assert "<script>" not in response.text
