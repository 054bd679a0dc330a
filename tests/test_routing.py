"""The app's routers answer "no match" from one regular expression: the same routes answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match, compile_path

from guanxi.core.settings import Settings
from guanxi.shell.app import create_app
from guanxi.web.routing import api_routes, skip_unmatchable

PARAMETER = re.compile(r"{(\w+)(?::(\w+))?}")
METHODS = ("GET", "POST")


def _sample_paths(app: FastAPI) -> list[str]:
    """A path each route answers (its parameters filled in), each one letter off (a path no
    route may answer), and a few addresses of no route."""
    paths = ["/", "/nowhere", "/w/demo/nowhere", "/api/v1/w/demo/nowhere", "/w/demo/inbox/"]
    for context in iter_route_contexts(app.router.routes):
        path = PARAMETER.sub(
            lambda m: "7" if m.group(2) == "int" else ("a/b" if m.group(2) == "path" else "x1"),
            context.path_format,
        )
        paths += [path, path + "z"]
    return sorted(set(paths))


def _scope(method: str, path: str) -> dict[str, object]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


def _answers(app: FastAPI, method: str, path: str) -> list[Match]:
    """How each of the app's routes matches the request (the first FULL answers it)."""
    return [route.matches(_scope(method, path))[0] for route in app.router.routes]


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, FastAPI]:
    """The app as built, and the same app with FastAPI's own matching only."""
    folder: Path = tmp_path_factory.mktemp("routing")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'unused.db'}",
        data_dir=folder,
        secret_key="routing-test-secret-key-long-enough-0123456789abcdef",
        smtp_host="",
    )
    guarded = create_app(settings)
    skip_unmatchable(guarded)
    return guarded, create_app(settings)


def test_every_route_matches_as_with_fastapis_own_matching(apps: tuple[FastAPI, FastAPI]) -> None:
    """Given the app's routers with their one-regex test, when a request for each route's
    path (and paths near it, and paths of no route) is matched with each method, then every
    router answers FULL, PARTIAL (another method) or NONE exactly as FastAPI's matching
    alone does; and most routers do have the test (else this would prove nothing)."""
    guarded, plain = apps
    tested = [route for route in guarded.router.routes if "matches" in vars(route)]
    assert len(tested) >= len(guarded.router.routes) // 2
    for path in _sample_paths(plain):
        for method in METHODS:
            assert _answers(guarded, method, path) == _answers(plain, method, path), (
                method,
                path,
            )


def test_the_routes_read_from_the_routers_are_fastapis_own(apps: tuple[FastAPI, FastAPI]) -> None:
    """``api_routes`` reads each route's full path from the routers and their prefixes,
    without FastAPI's route contexts (which build every route's dependencies): it must name
    the very routes, with the very paths, FastAPI's contexts give."""
    _guarded, plain = apps
    from_contexts = sorted(
        (context.path_regex.pattern, id(context.original_route))
        for context in iter_route_contexts(plain.router.routes)
        if isinstance(context.original_route, APIRoute)
    )
    read = sorted(
        (compile_path(path)[0].pattern, id(route))
        for path, route in api_routes(plain.router.routes)
        if path is not None and route is not None
    )
    assert read == from_contexts
    assert len(from_contexts) > 100
