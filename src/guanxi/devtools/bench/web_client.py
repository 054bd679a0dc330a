"""The HTTP client of ``guanxi bench web``'s simulated people: HTTP/1.1 on loopback.

A load generator shares the cores with what it measures, so its own CPU per request must be
small: httpx's asynchronous client spent 1.6–1.7 ms of CPU per request on a 60 KB page
(its layers of transports, pools and header objects), this one 0.06–0.08 ms. It speaks
only what the web app answers: one request at a time per connection, bodies with a
``Content-Length`` or chunked, cookies by name (a browser's jar for one host), a kept-alive
connection reused when it idled less than ``keepalive_s`` and, as a browser does, a request
sent again once on a new connection when a reused one was closed before any answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

CHUNK_LIMIT = 1 << 16  # the stream's buffer: a header block or chunk line is far shorter


class ClientError(Exception):
    """A request got no valid answer: the connection failed, closed, or the time ran out."""


@dataclass(frozen=True)
class Response:
    """What a person's request got back."""

    status_code: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    content: bytes
    cookies: list[str] = field(default_factory=list)  # the Set-Cookie headers

    @property
    def text(self) -> str:
        """The body as text (the app answers in UTF-8)."""
        return self.content.decode("utf-8", "replace")

    @property
    def is_redirect(self) -> bool:
        """Whether the answer sends the browser elsewhere."""
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers


class _ClosedUnansweredError(Exception):
    """The server closed a kept-alive connection before answering: send again."""


class LoopbackClient:
    """One person's browser: a connection to the app, their cookies."""

    def __init__(self, base_url: str, *, timeout_s: float, keepalive_s: float) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.authority = parts.netloc.encode()
        self.timeout_s = timeout_s
        self.keepalive_s = keepalive_s
        self.cookies: dict[str, str] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._idle_since = 0.0

    async def request(
        self,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request and read its whole answer; ``data`` goes as a form."""
        message = self._message(method, path, data, headers or {})
        try:
            async with asyncio.timeout(self.timeout_s):
                reused = self._writer is not None
                if reused and time.monotonic() - self._idle_since >= self.keepalive_s:
                    await self._close()  # the server may be closing it: do not race it
                    reused = False
                try:
                    response = await self._exchange(message)
                except _ClosedUnansweredError:
                    if not reused:
                        raise ClientError("the server closed the connection") from None
                    response = await self._exchange(message)  # on a new connection
        except TimeoutError:
            await self._close()
            msg = f"no answer within {self.timeout_s:g} s"
            raise ClientError(msg) from None
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            _ClosedUnansweredError,
        ) as exc:
            await self._close()
            raise ClientError(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # a malformed answer
            await self._close()
            raise ClientError(f"malformed answer: {exc}") from exc
        for cookie in response.cookies:
            self._keep(cookie)
        return response

    def _message(
        self, method: str, path: str, data: dict[str, str] | None, headers: dict[str, str]
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"host: " + self.authority]
        body = b""
        if data is not None:
            body = urlencode(data).encode()
            lines.append(b"content-type: application/x-www-form-urlencoded")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"content-length: %d" % len(body))
        if self.cookies:
            jar = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            lines.append(b"cookie: " + jar.encode())
        lines.extend(f"{name}: {value}".encode() for name, value in headers.items())
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    async def _exchange(self, message: bytes) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=CHUNK_LIMIT
            )
        reader, writer = self._reader, self._writer
        assert reader is not None
        try:
            writer.write(message)
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise  # it had begun to answer: a real failure
            await self._close()
            raise _ClosedUnansweredError from exc
        status, headers, cookies = _parse_head(head)
        content = await self._body(reader, headers, status=status)
        if headers.get("connection", "").lower() == "close":
            await self._close()
        else:
            self._idle_since = time.monotonic()
        return Response(status_code=status, headers=headers, content=content, cookies=cookies)

    async def _body(
        self, reader: asyncio.StreamReader, headers: dict[str, str], *, status: int
    ) -> bytes:
        if status in (204, 304) or 100 <= status < 200:
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers from this app
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        content = await reader.read()  # the body ends with the connection
        await self._close()
        return content

    def _keep(self, set_cookie: str) -> None:
        """A ``Set-Cookie`` header into the jar: kept, replaced, or removed when expired."""
        pair, *attributes = set_cookie.split(";")
        name, _, value = pair.strip().partition("=")
        expired = False
        for attribute in attributes:
            key, _, given = attribute.partition("=")
            if key.strip().lower() == "max-age":
                with contextlib.suppress(ValueError):
                    expired = int(given) <= 0
        if expired:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value.strip('"')

    async def _close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def aclose(self) -> None:
        """Close the connection (the person leaves)."""
        await self._close()


def _parse_head(head: bytes) -> tuple[int, dict[str, str], list[str]]:
    """The status, headers and Set-Cookie values of a response's header block."""
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        msg = f"not an HTTP/1 status line: {lines[0][:80]!r}"
        raise ValueError(msg)
    status = int(rest[:3])
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            cookies.append(value)
        headers[name] = value
    return status, headers, cookies
