"""Outbound requests to user-given addresses: only public addresses, checked after DNS and
on every redirect, with one message for every refusal (issue #11, finding 8)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from pydantic import ValidationError

from guanxi.core.errors import UserError
from guanxi.core.settings import Settings
from guanxi.outbound.addresses import AddressPolicy
from guanxi.outbound.client import (
    COULD_NOT_DELIVER,
    MAX_RESPONSE_BYTES,
    DeliveryFailed,
    OutboundClient,
    check_address,
)

LOOPBACK = AddressPolicy.from_text("127.0.0.0/8")
LOOPBACK_AND_V6 = AddressPolicy.from_text("127.0.0.0/8,::1/128")
PUBLIC_IP = "93.184.216.34"  # a global unicast address; the tests never connect to it


@dataclass
class Receiver:
    """A local HTTP server that records what it receives and answers as told."""

    host: str
    answer: Callable[[BaseHTTPRequestHandler], None]
    received: list[dict[str, object]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"


@pytest.fixture
def serve() -> Iterator[Callable[..., Receiver]]:
    """Start receivers on loopback addresses; stop them after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(host: str = "127.0.0.1", answer: Callable[..., None] | None = None) -> Receiver:
        receiver = Receiver(host, answer or (lambda handler: handler.send_response(204)))

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.received.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "host": self.headers["Host"],
                        "body": body,
                    }
                )
                receiver.answer(self)
                self.end_headers()

            do_GET = do_POST = _record  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((host, 0), Handler)
        receiver.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def refused(client: OutboundClient, url: str) -> str:
    """The message a user sees when delivering to ``url`` fails."""
    with pytest.raises(DeliveryFailed) as failure:
        client.post_json(url, {"event": "test"})
    return failure.value.message


def test_a_local_receiver_gets_the_json_when_its_network_is_admitted(
    serve: Callable[..., Receiver],
) -> None:
    """The control for the tests below: with 127.0.0.0/8 admitted, delivery works."""
    receiver = serve()
    with OutboundClient(LOOPBACK) as client:
        answer = client.post_json(receiver.url(), {"event": "test", "topic": "茶"})
    assert answer.ok
    assert [json.loads(r["body"]) for r in receiver.received] == [  # type: ignore[arg-type]
        {"event": "test", "topic": "茶"}
    ]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",  # a name that resolves to loopback
        "0.0.0.0:{port}",
        "2130706433:{port}",  # 127.0.0.1 written as one decimal number
        "0x7f.1:{port}",  # 127.0.0.1 in hexadecimal, short form
        "[::1]:{port}",
        "[::ffff:127.0.0.1]:{port}",  # IPv4-mapped IPv6
        "169.254.169.254",  # cloud metadata
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "224.0.0.1",  # multicast
    ],
)
def test_by_default_only_public_addresses_are_reached(
    serve: Callable[..., Receiver], address: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Given a receiver listening on 127.0.0.1, when a webhook names it in any spelling (or
    a private network), then nothing reaches it and the user reads the generic message."""
    receiver = serve()
    url = f"http://{address.format(port=receiver.port)}/hook"
    with caplog.at_level(logging.WARNING), OutboundClient(AddressPolicy()) as client:
        assert refused(client, url) == COULD_NOT_DELIVER
    assert receiver.received == []
    assert " refused: " in caplog.text  # refused by the guard; the reason is in the log


def test_credentials_in_the_address_are_refused_at_send_time(
    serve: Callable[..., Receiver],
) -> None:
    """An address with user:password is never sent, not even to an admitted network."""
    receiver = serve()
    with OutboundClient(LOOPBACK) as client:
        url = f"http://admin:secret@127.0.0.1:{receiver.port}/hook"
        assert refused(client, url) == COULD_NOT_DELIVER
    assert receiver.received == []


def test_a_public_looking_name_that_redirects_to_loopback_is_refused_at_the_redirect(
    serve: Callable[..., Receiver],
) -> None:
    """Given hooks.example resolving to an admitted receiver (127.0.0.1 only) that redirects
    to another receiver on 127.0.0.2, when a webhook is sent, then the redirect is refused
    and the second receiver gets nothing; admitting 127.0.0.2 too delivers it there."""
    inner = serve("127.0.0.2")

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(307)
        handler.send_header("Location", inner.url("/internal-admin"))

    outer = serve("127.0.0.1", redirect)
    resolver = {"hooks.example": ["127.0.0.1"], "127.0.0.2": ["127.0.0.2"]}
    url = f"http://hooks.example:{outer.port}/hook"

    first_hop_only = AddressPolicy.from_text("127.0.0.1/32")
    with OutboundClient(first_hop_only, resolver=lambda name, _port: resolver[name]) as client:
        assert refused(client, url) == COULD_NOT_DELIVER
    assert len(outer.received) == 1
    assert inner.received == []

    with OutboundClient(LOOPBACK, resolver=lambda name, _port: resolver[name]) as client:
        assert client.post_json(url, {"event": "test"}).ok
    assert [r["path"] for r in inner.received] == ["/internal-admin"]


def test_the_checked_address_is_the_one_connected_to_and_the_name_is_kept(
    serve: Callable[..., Receiver],
) -> None:
    """The name is resolved once, by the guard: the request goes to that address (the system
    resolver does not know hooks.example) and carries the name in its Host header."""
    receiver = serve()
    with OutboundClient(LOOPBACK, resolver=lambda _name, _port: ["127.0.0.1"]) as client:
        assert client.post_json(f"http://hooks.example:{receiver.port}/hook", {}).ok
    assert receiver.received[0]["host"] == f"hooks.example:{receiver.port}"


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    """The system could connect to any of a name's addresses, so each one must be public."""
    with OutboundClient(AddressPolicy(), resolver=lambda _n, _p: [PUBLIC_IP, "10.0.0.5"]) as c:
        assert refused(c, "https://hooks.example/hook") == COULD_NOT_DELIVER


def test_every_refusal_and_failure_reads_the_same(
    serve: Callable[..., Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    """A refused port, a refused connection, a timeout, a redirect loop, an answer too big
    and an unknown name all give the user one message; the log tells them apart."""
    public = OutboundClient(AddressPolicy(), resolver=lambda _n, _p: [PUBLIC_IP])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    loop = serve("127.0.0.1", lambda h: (h.send_response(302), h.send_header("Location", "/")))
    huge = serve(
        "127.0.0.1",
        lambda h: (
            h.send_response(200),
            h.end_headers(),
            h.wfile.write(b"x" * 2 * MAX_RESPONSE_BYTES),
        ),
    )
    local = OutboundClient(LOOPBACK)  # the default timeout: a loaded machine answers slowly
    impatient = OutboundClient(LOOPBACK, read_timeout_s=0.3)  # for the server that never does
    with caplog.at_level(logging.WARNING), public, local, impatient, silent:
        messages = {
            refused(public, "http://hooks.example:22/ssh"),
            refused(public, "ftp://hooks.example/file"),
            refused(local, f"http://127.0.0.1:{closed}/hook"),
            refused(impatient, f"http://127.0.0.1:{silent.getsockname()[1]}/hook"),
            refused(local, loop.url()),
            refused(local, huge.url()),
            refused(local, "http://no-such-host.invalid/hook"),
        }
    assert messages == {COULD_NOT_DELIVER}
    for reason in ("port 22", "ConnectError", "ReadTimeout", "redirects", "larger", "resolve"):
        assert reason in caplog.text


def test_saving_refuses_credentials_and_non_public_literal_addresses() -> None:
    """At save time the form says what is wrong; names are checked when sending."""
    policy = AddressPolicy()
    with pytest.raises(UserError, match="user name and password"):
        check_address("https://bot:token@hooks.example/x", policy=policy)
    with pytest.raises(UserError, match="https://"):
        check_address("file:///etc/passwd", policy=policy)
    for literal in ("http://127.0.0.1/x", "http://[::ffff:127.0.0.1]/x", "http://169.254.169.254/"):
        with pytest.raises(UserError, match="public internet addresses"):
            check_address(literal, policy=policy)
    with pytest.raises(UserError, match="public internet addresses"):
        check_address(f"http://{PUBLIC_IP}:6379/", policy=policy)  # not a web port
    assert check_address(" https://hooks.example/x ", policy=policy) == "https://hooks.example/x"
    assert check_address("http://127.0.0.1:9000/x", policy=LOOPBACK) == "http://127.0.0.1:9000/x"


def test_the_allowlist_setting_takes_networks_and_says_what_a_wrong_one_should_be() -> None:
    """GUANXI_OUTBOUND_ALLOW_NETWORKS is empty by default; a name instead of a network is a
    configuration error that shows the expected form."""
    assert Settings.model_fields["outbound_allow_networks"].default == ""
    with pytest.raises(ValidationError, match=r"CIDR such as 127\.0\.0\.0/8"):
        Settings(outbound_allow_networks="127.0.0.0/8, localhost")
    admitted = Settings(outbound_allow_networks="127.0.0.0/8, ::1")
    assert OutboundClient.from_settings(admitted).policy == LOOPBACK_AND_V6


def test_https_keeps_the_name_for_tls_while_connecting_to_the_checked_address() -> None:
    """Over https the certificate is checked for the name (SNI), not the address."""
    seen: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = OutboundClient(
        AddressPolicy(),
        resolver=lambda _name, _port: [PUBLIC_IP],
        transport=httpx.MockTransport(transport),
    )
    with client:
        assert client.post_json("https://hooks.example/hook?key=1", {"ok": True}).ok
    assert str(seen[0].url) == f"https://{PUBLIC_IP}/hook?key=1"
    assert seen[0].headers["host"] == "hooks.example"
    assert seen[0].extensions["sni_hostname"] == "hooks.example"
