"""Finding connectors: every ``guanxi.connectors`` entry point, built-ins included."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from importlib.metadata import entry_points
from typing import Protocol

import httpx
from pydantic_settings import BaseSettings

from guanxi.connectors.base import Capability, Connector, ConnectorConfig
from guanxi.core.settings import Settings, get_settings

ENTRY_POINT_GROUP = "guanxi.connectors"

ConnectorFactory = Callable[[ConnectorConfig], Connector]


class UnknownConnectorError(LookupError):
    """No installed connector has this name."""


class ConnectedAccount(Protocol):
    """An account on a platform, as a connector is chosen for it (a channel)."""

    @property
    def connector(self) -> str:
        """The entry-point name of the account's connector."""
        ...


@cache
def connector_factories() -> dict[str, ConnectorFactory]:
    """Every installed connector's factory, by name (a plugin may replace a built-in)."""
    factories: dict[str, ConnectorFactory] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        factories[entry_point.name] = entry_point.load()
    return factories


def connector_names() -> list[str]:
    """The names of the installed connectors, sorted."""
    return sorted(connector_factories())


def connector_settings_models() -> dict[str, type[BaseSettings]]:
    """The settings model of each installed connector that has settings of its own, by name."""
    models: dict[str, type[BaseSettings]] = {}
    for name, factory in connector_factories().items():
        model = getattr(factory, "settings_model", None)
        if isinstance(model, type) and issubclass(model, BaseSettings):
            models[name] = model
    return models


def build_connector(name: str, settings: Settings, http: httpx.Client) -> Connector:
    """Connector ``name`` configured from the settings (its base URL, app keys)."""
    try:
        factory = connector_factories()[name]
    except KeyError as exc:
        msg = f"no connector named {name!r}; installed: {', '.join(connector_names())}"
        raise UnknownConnectorError(msg) from exc
    from_settings = getattr(factory, "from_settings", None)
    if from_settings is None:
        msg = f"the {name!r} connector has no from_settings(settings, http) constructor"
        raise TypeError(msg)
    connector = from_settings(settings, http)
    if not isinstance(connector, Connector):
        msg = f"the {name!r} entry point does not build a guanxi Connector"
        raise TypeError(msg)
    return connector


# Longer than any single platform call the connectors make (uploads included).
SHARED_HTTP_TIMEOUT_S = 60.0


def _refuse_request(request: httpx.Request) -> httpx.Response:
    msg = f"a connector built not to call its platform tried to call {request.url.host}"
    raise RuntimeError(msg)


# For connectors built only to check a draft or read a push, which never call the platform:
# no TLS context to build (that took half the time of a post's page) and any request refused.
OFFLINE_HTTP = httpx.Client(transport=httpx.MockTransport(_refuse_request))


def connector_capabilities(
    names: Iterable[str], settings: Settings
) -> dict[str, frozenset[Capability]]:
    """What each installed connector among ``names`` can do (built, no request made);
    a name no installed connector has is left out."""
    installed = connector_factories()
    return {
        name: frozenset(build_connector(name, settings, OFFLINE_HTTP).capabilities)
        for name in set(names)
        if name in installed
    }


@cache
def shared_connector(name: str) -> Connector:
    """Connector ``name`` from the environment's settings, built once per process and shared
    by the jobs and services that run in it (one HTTP connection pool per connector)."""
    return build_connector(name, get_settings(), httpx.Client(timeout=SHARED_HTTP_TIMEOUT_S))


def connector_for(
    account: ConnectedAccount, *, settings: Settings | None = None, http: httpx.Client | None = None
) -> Connector:
    """The installed connector of ``account`` (a channel).

    Without arguments, the process's shared one (see ``shared_connector``), as jobs use it;
    with ``settings`` and ``http``, one built from those (a web app's own settings, with a
    client that lives as long as the request). UnknownConnectorError when not installed.
    """
    if settings is None and http is None:
        return shared_connector(account.connector)
    if settings is None or http is None:
        raise ValueError("connector_for: give both the settings and the HTTP client, or neither")
    return build_connector(account.connector, settings, http)
