"""The JSON API's one convention: an address scheme and an authentication per router group.

A capability's API is one router group in its ``api.py``, declared once with its prefix and
its authentication (as a router map does):

- ``workspace_api("publish")``: ``/api/v1/w/{slug}/publish/...``, the data of workspace
  ``slug``, for a token of that workspace (another workspace's address is a 404, as for the
  pages); ``browser=True`` also lets a signed-in member's browser read with its session
  cookie (the JSON the pages fetch for their charts).
- ``global_api("catalog")``: ``/api/v1/catalog/...``, data that is the same for every
  workspace, for any valid token.

``keep_former_paths`` keeps a group's addresses of before this scheme answering for one
release, hidden from the OpenAPI document, with ``Deprecation`` and ``Link`` headers naming
the new address.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from guanxi.accounts.models import Membership, Permission
from guanxi.web.deps import api_member_with, token_member

API_ROOT = "/api/v1"
WORKSPACE_ROOT = API_ROOT + "/w/{slug}"

api_reader = api_member_with(Permission.READ)
api_browser_reader = api_member_with(Permission.READ, browser=True)
ApiReader = Annotated[Membership, Depends(api_reader)]
ApiBrowserReader = Annotated[Membership, Depends(api_browser_reader)]
ApiWriter = Annotated[Membership, Depends(api_member_with(Permission.WRITE))]
ApiApprover = Annotated[Membership, Depends(api_member_with(Permission.APPROVE))]
ApiOwner = Annotated[Membership, Depends(api_member_with(Permission.MANAGE_MEMBERS))]


def workspace_api(capability: str, *, tags: list[str], browser: bool = False) -> APIRouter:
    """The router group of ``capability``'s API for one workspace's data."""
    reader = api_browser_reader if browser else api_reader
    return APIRouter(
        prefix=f"{WORKSPACE_ROOT}/{capability}",
        tags=list(tags),
        dependencies=[Depends(reader)],
    )


def global_api(capability: str, *, tags: list[str]) -> APIRouter:
    """The router group of ``capability``'s API for data every workspace shares."""
    return APIRouter(
        prefix=f"{API_ROOT}/{capability}", tags=list(tags), dependencies=[Depends(token_member)]
    )


def keep_former_paths(router: APIRouter, *, former: str) -> None:
    """Answer each route of ``router`` also at ``former`` + its path within the group, for
    one release, as the route itself answers; the response says ``Deprecation: true`` and
    links its successor. A former address named no workspace: the token's is the one."""
    routes = list(router.routes)
    for route in routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None)
        if not path.startswith(router.prefix) or not methods:
            continue
        within = path.removeprefix(router.prefix)
        router.routes.append(
            Route(
                former + within,
                endpoint=FormerPath(path),
                methods=sorted(methods),
                include_in_schema=False,
                name=f"former {getattr(route, 'name', '')}",
            )
        )


class FormerPath:
    """An ASGI endpoint that sends a request on to its successor route, adding the headers."""

    def __init__(self, successor: str) -> None:
        self.successor = successor
        self.successor_parts = successor.split("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = dict(scope.get("path_params", {}))
        if "{slug}" in self.successor_parts:
            params["slug"] = await run_in_threadpool(_token_workspace, Request(scope))
        path = "/".join(
            str(params[part[1:-1]]) if part.startswith("{") else part
            for part in self.successor_parts
        )
        raw_path = quote(path)
        head = scope["method"] == "HEAD"  # answered as GET without the body, as Starlette does

        async def send_deprecated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"deprecation", b"true"))
                headers.append((b"link", f'<{raw_path}>; rel="successor-version"'.encode()))
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        successor = {key: value for key, value in scope.items() if key != "path_params"}
        successor["path"] = path
        successor["raw_path"] = raw_path.encode()
        successor["method"] = "GET" if head else scope["method"]
        await scope["router"](successor, receive, send_deprecated)


def _token_workspace(request: Request) -> str:
    """The slug of the workspace the request's token acts in (401 without a live token)."""
    db: Session = request.app.state.session_factory()
    try:
        return token_member(request, db).workspace.slug
    finally:
        db.close()
