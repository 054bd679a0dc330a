"""Route matching in one regular expression per included router, not one call per route.

FastAPI matches a request against the app's included routers one after the other, and
inside each against every route in turn, each a Python call that also saves and restores
its own entries in the request scope (hundreds of calls for a page whose router comes
late: 0.2 to 0.7 ms of CPU per request, more than the bell's query). ``skip_unmatchable``
gives each included router a first test: one compiled alternation of its routes' path
patterns. A path none of them matches is answered "no match" at once, exactly what the
router would have answered; any other path goes through FastAPI's own matching, so which
route answers, with which parameters, does not change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match, compile_path
from starlette.types import Scope

_GROUP_NAME = re.compile(r"\(\?P<\w+>")

Matcher = Callable[[Scope], tuple[Match, Scope]]


def skip_unmatchable(app: FastAPI) -> None:
    """Give each router ``app`` includes a one-regex test before its own matching.

    Call it once the routes are final (the app's first request): a route added later to
    an included router would not be in its test.
    """
    for route in app.router.routes:
        pattern = _paths_pattern(route)
        if pattern is not None:
            route.matches = _guarded(route.matches, pattern)  # type: ignore[method-assign,assignment]


def _paths_pattern(route: BaseRoute) -> re.Pattern[str] | None:
    """One pattern matching the paths of every route an included router holds; None when
    ``route`` is not an included router, or holds anything but plain API routes (mounts,
    websockets, low-priority routes: left to FastAPI)."""
    if getattr(route, "original_router", None) is None:
        return None
    patterns: list[str] = []
    for path, _route in api_routes([route]):
        if path is None:
            return None
        patterns.append(_GROUP_NAME.sub("(?:", compile_path(path)[0].pattern))
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[tuple[str | None, APIRoute | None]]:
    """Every route of ``routes`` and of the routers they include, as (its full path, the
    API route); (None, None) for one that is not a plain API route (a mount, a websocket,
    a router's low-priority routes) when it sits in an included router.

    Read from the routers' own routes and prefixes, as FastAPI forms a route's path (each
    include's prefix, then the route's path): asking FastAPI for its route contexts would
    build every route's dependencies up front, about a second of CPU per app."""
    return _walk(routes, "", nested=False)


def _walk(
    routes: Iterable[BaseRoute], prefix: str, *, nested: bool
) -> Iterator[tuple[str | None, APIRoute | None]]:
    for route in routes:
        router = getattr(route, "original_router", None)
        include = getattr(route, "include_context", None)
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif router is not None and include is not None:
            if getattr(router, "_low_priority_routes", None):
                yield None, None
            yield from _walk(router.routes, prefix + include.prefix, nested=True)
        elif nested:
            yield None, None
        # else: a mount or a plain Starlette route of the app itself, no API route


def _guarded(matches: Matcher, pattern: re.Pattern[str]) -> Matcher:
    def guarded(scope: Scope) -> tuple[Match, Scope]:
        # Under a root path, Starlette's own rules of what the routes see apply: no test.
        if (
            scope["type"] == "http"
            and not scope.get("root_path")
            and pattern.match(scope["path"]) is None
        ):
            return Match.NONE, {}
        return matches(scope)

    return guarded
