"""Bounds on what one request may carry: its body's size, its JSON's depth, its integers.

Every route gets them without declaring anything: ``BodySizeLimit`` counts each request's
streamed body and answers 413 past ``DEFAULT_MAX_BODY_BYTES`` (a route that streams an
upload to disk declares its own, larger limit with ``body_limit``); a JSON body nested
deeper than ``MAX_JSON_DEPTH`` is refused before it is parsed; and
``integers_within_database_range`` answers 404 for an integer path or query parameter that
no database row can have, before the route runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Form, Query, Request
from fastapi.dependencies.models import Dependant
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guanxi.core import i18n
from guanxi.core.bounds import DB_INT_MAX, DB_INT_MIN, FIELD_MAX_LENGTH, TEXT_MAX_LENGTH
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.web.rendering import render
from guanxi.web.routing import api_routes

MB = 1024 * 1024
# Forms and JSON: the largest post is a few hundred kB; anything bigger is a mistake or an attack.
DEFAULT_MAX_BODY_BYTES = 1 * MB
# The OpenAPI extension that carries a route's own body limit, so clients can read it.
BODY_LIMIT_EXTENSION = "x-max-body-bytes"
# What an upload form carries besides its file: the multipart envelope and the other fields.
UPLOAD_FORM_OVERHEAD = 1 * MB
MAX_JSON_DEPTH = 32
QueryField = Annotated[str, Query(max_length=FIELD_MAX_LENGTH)]
"""A text query parameter: a filter, a date, an address to go back to."""
FormField = Annotated[str, Form(max_length=FIELD_MAX_LENGTH)]
"""A short form field: a name, an e-mail address, a choice, a date."""
FormText = Annotated[str, Form(max_length=TEXT_MAX_LENGTH)]
"""A long form field: a post's text, a description."""

_STRING_RE = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET_RE = re.compile(rb"[\[\]{}]")
# Pydantic reads an integer parameter as its own lax parser does ("1_000", "7.0", " +7 "),
# so the range is checked on the number it will read, not on a narrower reading of the text.
_AS_INTEGER: TypeAdapter[int] = TypeAdapter(int)


def body_limit(max_bytes: int) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body may exceed the default (an upload that
    streams to disk): the middleware enforces it and the OpenAPI shows it."""
    return {BODY_LIMIT_EXTENSION: max_bytes}


class BodyTooLargeError(Exception):
    """The request's body went past its route's limit while it was being read."""


def _mb(size: int) -> str:
    return f"{round(size / MB, 1):g}"


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (strings ignored)."""
    depth = deepest = 0
    for bracket in _BRACKET_RE.findall(_STRING_RE.sub(b'""', body)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BodySizeLimit:
    """ASGI middleware: a request whose body is larger than its route allows gets 413.

    The declared ``Content-Length`` is checked before the app runs; the streamed body is
    counted as the app reads it, so a chunked body cannot slip past. JSON bodies (which are
    read whole anyway) are also checked for nesting depth before the app parses them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._larger: list[tuple[re.Pattern[str], frozenset[str], int]] | None = None

    def limit_for(self, scope: Scope) -> int:
        """The body limit of the route ``scope`` asks for."""
        if self._larger is None:
            self._larger = list(_declared_limits(scope["app"].routes))
        for pattern, methods, limit in self._larger:
            if scope["method"] in methods and pattern.match(scope["path"]):
                return limit
        return DEFAULT_MAX_BODY_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):  # bytes: ASCII
            await _too_large(scope, receive, send, limit)
            return
        if headers.get(b"content-type", b"").split(b";")[0].strip().lower().endswith(b"json"):
            # Held in memory to be measured: never more than the default, even on upload routes.
            await self._json(scope, receive, send, min(limit, DEFAULT_MAX_BODY_BYTES))
            return
        await self._streamed(scope, receive, send, limit)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app made of the cut-off body, the answer is the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _too_large(scope, receive, send, limit)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: let the app see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        brackets = body.count(b"[") + body.count(b"{")  # cheap: most bodies stop here
        if brackets > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
            message_text = N_(
                "The JSON body nests deeper than {depth} levels. Send a flatter document."
            )
            await _answer(scope, receive, send, 400, message_text, depth=MAX_JSON_DEPTH)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _declared_limits(routes: list[Any]) -> Iterator[tuple[re.Pattern[str], frozenset[str], int]]:
    for path, route in api_routes(routes):
        if route is None or path is None:
            continue
        extra = route.openapi_extra or {}
        if BODY_LIMIT_EXTENSION in extra:
            pattern, _format, _convertors = compile_path(path)
            yield pattern, frozenset(route.methods or ()), int(extra[BODY_LIMIT_EXTENSION])


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    message = N_(
        "The request is larger than {limit} MB, the most this address accepts. "
        "Send less at once (a shorter text, a smaller or split file)."
    )
    await _answer(scope, receive, send, 413, message, limit=_mb(limit))


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, message: str, **params: object
) -> None:
    """The error in the request's language: JSON for the API, the error page for pages."""
    state = scope.get("state") or {}
    i18n.set_language(state.get("language", "en"))
    text = i18n.gettext(message).format(**params)
    response: Response
    if scope["path"].startswith("/api/") or "session" not in scope:
        response = JSONResponse({"detail": text}, status_code=status)
    else:
        request = StarletteRequest(scope, receive)
        response = render(request, "error.html", {"message": text, "problems": []}, status)
    response.headers["Connection"] = "close"  # the rest of the body is not read
    await response(scope, receive, send)


async def integers_within_database_range(request: Request) -> None:
    """Answer 404 for an integer path or query parameter outside the database's range.

    No row has such an id (and no page or count reaches it), but the database driver would
    fail on it: one app-wide dependency, so every route, present and future, is covered.
    Asynchronous: it reads no database, and a synchronous dependency costs every request a
    trip through the thread pool.
    """
    route = request.scope.get("route")
    dependant: Dependant | None = getattr(route, "dependant", None)
    if dependant is None:
        return
    parameters = getattr(route, _INTEGER_PARAMETERS, None)
    if parameters is None:  # a route's parameters do not change: read once, kept on it
        parameters = tuple(_integer_parameters(dependant))
        setattr(route, _INTEGER_PARAMETERS, parameters)
    for name, source in parameters:
        values = (
            [request.path_params.get(name)]
            if source == "path"
            else request.query_params.getlist(name)
        )
        for value in values:
            if _outside_range(value):
                raise NotFoundError(
                    N_("Nothing has the number {value}. Check the address."), value=value
                )


async def no_nul_in_text(request: Request) -> None:
    """Answer 400 for a NUL character in a query parameter or a url-encoded form field.

    PostgreSQL can neither store nor compare such a text (SQLite can), so a search or a
    saved name holding one failed only there. Checked before the route runs, so the answer
    is the same on both databases and nothing has been written. Multipart bodies are left to
    their routes: an upload streams and its file may hold any byte.
    """
    fields = list(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            body = await request.body()  # kept: the route reads it again, or its form
        except RuntimeError:  # FastAPI parsed the route's form fields first: that is cached
            form = await request.form()
            fields += [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        else:
            if b"%00" in body or b"\x00" in body:
                fields += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    for name, value in fields:
        if "\x00" in name or "\x00" in value:
            raise UserError(
                N_(
                    "The field “{field}” contains a NUL character (code 0), which no text may "
                    "hold. Remove it (it often comes from copying binary data) and send again."
                ),
                field=name.replace("\x00", ""),
            )


# The attribute of a route that keeps its integer parameters (name, "path" or "query").
_INTEGER_PARAMETERS = "guanxi_integer_parameters"


def _integer_parameters(dependant: Dependant) -> Iterator[tuple[str, str]]:
    stack = [dependant]
    while stack:
        current = stack.pop()
        for field in current.path_params:
            if _is_integer(field.field_info.annotation):
                yield field.alias, "path"
        for field in current.query_params:
            if _is_integer(field.field_info.annotation):
                yield field.alias, "query"
        stack.extend(current.dependencies)


def _is_integer(annotation: Any) -> bool:
    return annotation is int or int in getattr(annotation, "__args__", ())


def _outside_range(value: str | None) -> bool:
    if value is None:
        return False
    try:  # a text too long to be any integer fails here too, so the route answers 422
        number = _AS_INTEGER.validate_python(value)
    except ValidationError:
        return False  # not a number at all: the route's own validation explains it
    return not DB_INT_MIN <= number <= DB_INT_MAX
