"""The simulated people's HTTP client (``guanxi bench web``): what a browser would do with
the web app's answers, against a small server that answers as told.

Each test runs its loop on a thread of its own: after the browser tests, Playwright's loop
is running in this worker's main thread, where ``asyncio.run`` would refuse to start."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from guanxi.devtools.bench.web_client import ClientError, LoopbackClient
from guanxi.devtools.bench.web_load import run_in_own_loop

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(answer: Answer) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


def test_cookies_are_kept_sent_back_and_removed_when_the_server_expires_them() -> None:
    """Given a server that sets a session cookie, then expires it, when the person makes
    three requests, then the second carries the cookie and the third none, and a form's
    fields and a chunked body come through whole."""
    seen: list[bytes] = []
    answers = [
        (
            b"HTTP/1.1 303 See Other\r\nset-cookie: session=abc; Path=/; HttpOnly\r\n"
            b"location: /w/x/\r\ncontent-length: 0\r\n\r\n"
        ),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
            b"set-cookie: session=; Max-Age=0; Path=/\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        ),
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    ]

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in answers:
            seen.append(await _read_request(reader))
            writer.write(reply)
            await writer.drain()
        writer.close()

    async def run() -> list[str]:
        server, base = await _serve(answer)
        client = LoopbackClient(base, timeout_s=5, keepalive_s=4)
        try:
            signed = await client.request("POST", "/login", data={"email": "li@example.com"})
            assert signed.is_redirect
            assert signed.headers["location"] == "/w/x/"
            page = await client.request("GET", "/w/x/", headers={"HX-Request": "true"})
            last = await client.request("GET", "/w/x/inbox")
            return [page.text, last.text]
        finally:
            await client.aclose()
            server.close()

    assert run_in_own_loop(run) == ["hello world", "ok"]
    assert b"email=li%40example.com" in seen[0]
    assert b"content-type: application/x-www-form-urlencoded" in seen[0]
    assert b"cookie: session=abc" in seen[1]
    assert b"HX-Request: true" in seen[1]
    assert b"cookie:" not in seen[2]


def test_a_kept_alive_connection_the_server_closed_is_replaced_without_an_error() -> None:
    """Given a server that closes each connection after one answer without saying so (as
    uvicorn does to an idle kept-alive connection), when the person asks again on it, then
    the request goes again on a new connection and gets its answer."""
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n" + str(connections).encode())
        await writer.drain()
        writer.close()

    async def run() -> list[str]:
        server, base = await _serve(answer)
        client = LoopbackClient(base, timeout_s=5, keepalive_s=60)
        try:
            first = await client.request("GET", "/")
            await asyncio.sleep(0.05)  # the server has closed its side by now
            second = await client.request("GET", "/")
            return [first.text, second.text]
        finally:
            await client.aclose()
            server.close()

    assert run_in_own_loop(run) == ["1", "2"]


def test_a_connection_closed_midway_through_an_answer_is_an_error() -> None:
    """Given a server that dies in the middle of its answer, when the person asks, then the
    request fails with the cause (it is not silently sent again)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        writer.close()

    async def run() -> None:
        server, base = await _serve(answer)
        client = LoopbackClient(base, timeout_s=5, keepalive_s=4)
        try:
            await client.request("GET", "/")
        finally:
            await client.aclose()
            server.close()

    with pytest.raises(ClientError, match="IncompleteReadError"):
        run_in_own_loop(run)
