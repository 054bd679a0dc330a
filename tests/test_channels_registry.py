"""The Connected accounts page with the connectors actually installed (entry points)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from guanxi.accounts.models import Membership
from guanxi.connectors import registry
from guanxi.connectors.base import OAuthConnect


def test_every_installed_connector_is_offered(signed_in: tuple[TestClient, Membership]) -> None:
    """Each entry point gets a Connect control: a button for OAuth, a form for credentials,
    and each credentials form renders its fields."""
    client, _membership = signed_in
    page = client.get("/w/acme/channels")
    assert page.status_code == 200
    assert {"weibo", "wechat_oa", "douyin", "manual"} <= set(registry.connector_names())
    for name, factory in registry.connector_factories().items():
        if issubclass(factory, OAuthConnect):  # type: ignore[arg-type]
            assert f'action="/w/acme/channels/connect/{name}"' in page.text, name
        else:
            assert f'href="/w/acme/channels/connect/{name}"' in page.text, name
            form = client.get(f"/w/acme/channels/connect/{name}")
            assert form.status_code == 200, name
            for field in getattr(factory, "credential_fields", ()):
                assert f'name="{field.name}"' in form.text, (name, field.name)
