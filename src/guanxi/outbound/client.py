"""The one client for requests to addresses that users type.

For each hop it parses the URL (http or https, no credentials), resolves the name once,
refuses the request unless every address is allowed (``AddressPolicy``), and connects to
the address it checked, keeping the name in the Host header and in TLS SNI, so a second
lookup cannot point somewhere else. Redirects are followed here, a few at most, each hop
checked the same way. Connect and read timeouts are short, the whole exchange has a deadline
and the answer a size cap. Every refusal and every network failure raises the same
``DeliveryFailed``; the reason goes to the server log only, so the message cannot be used to
map the server's network. Call it from the worker, never in a web request.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from guanxi.core.errors import N_, UserError
from guanxi.core.settings import Settings
from guanxi.outbound.addresses import AddressPolicy, IPAddress

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0
DEADLINE_S = 10.0  # the whole exchange, redirects included
MAX_REDIRECTS = 3
MAX_RESPONSE_BYTES = 64 * 1024
MAX_URL_LENGTH = 2000
SCHEMES = ("http", "https")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "guanxi-webhook/1"

# The one message a user sees, whatever went wrong: refused address or port, refused
# connection, timeout, too many redirects. The log says which.
COULD_NOT_DELIVER = N_(
    "Could not deliver to this address. Check that it is a public http(s) address that "
    "accepts POST requests, then try again."
)

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class DeliveryFailed(UserError):  # noqa: N818 - reads as what the user is told
    """An outbound request was refused or failed; the message is the same for every cause."""

    def __init__(self) -> None:
        super().__init__(COULD_NOT_DELIVER)


class _Refused(Exception):  # noqa: N818 - internal: the reason, for the log
    pass


@dataclass(frozen=True)
class Delivered:
    """The answer of the last hop (any status: the caller decides what success is)."""

    status_code: int
    content: bytes

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status_code < 300


def redacted(url: str) -> str:
    """``url`` without credentials, query or fragment, for the log."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<not a URL>"
    return str(parsed.copy_with(userinfo=b"", query=None, fragment=None))[:300]


def _parse(url: str) -> httpx.URL:
    if len(url) > MAX_URL_LENGTH:
        raise _Refused("URL too long")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise _Refused(f"not a URL: {error}") from None
    if parsed.scheme not in SCHEMES:
        raise _Refused(f"scheme {parsed.scheme!r} is not http(s)")
    if parsed.userinfo:
        raise _Refused("credentials in the URL")
    if not parsed.raw_host:
        raise _Refused("no host")
    return parsed


def check_address(url: str, *, policy: AddressPolicy) -> str:
    """``url`` stripped, if it may be saved as a delivery address; else a UserError saying why.

    Saving does not resolve names (no network in a web request): a name is checked when a
    request is made. A literal address that will be refused is refused now.
    """
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")):
        raise UserError(N_("The webhook address must start with https:// (or http://)."))
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UserError(N_("“{url}” is not a web address."), url=url[:200]) from None
    if parsed.userinfo:
        raise UserError(
            N_(
                "Remove the user name and password from the webhook address: guanxi does not "
                "send credentials written in an address. Use a secret token in the path instead."
            )
        )
    if len(url) > MAX_URL_LENGTH or not parsed.raw_host:
        raise UserError(N_("“{url}” is not a web address."), url=url[:200])
    try:
        literal: IPAddress | None = ipaddress.ip_address(parsed.host)
    except ValueError:
        literal = None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if literal is not None and policy.refusal(literal, port) is not None:
        raise UserError(
            N_(
                "guanxi delivers only to public internet addresses on a web port (80, 443, "
                "8080, 8443). Give the public address of the service."
            )
        )
    return url


class OutboundClient:
    """Makes requests to user-given addresses under an ``AddressPolicy`` (see module doc)."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        # No keep-alive: a pooled TLS connection to one address could carry another name.
        self._http = httpx.Client(
            timeout=httpx.Timeout(read_timeout_s, connect=CONNECT_TIMEOUT_S),
            limits=httpx.Limits(max_keepalive_connections=0),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would resolve names itself
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundClient:
        """The client for this instance (``GUANXI_OUTBOUND_ALLOW_NETWORKS``)."""
        return cls(AddressPolicy.from_text(settings.outbound_allow_networks))

    def __enter__(self) -> OutboundClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connections."""
        self._http.close()

    def post_json(self, url: str, payload: Any) -> Delivered:
        """POST ``payload`` as JSON to ``url``; DeliveryFailed for any refusal or failure."""
        body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        try:
            return self._exchange("POST", url, body)
        except _Refused as reason:
            log.warning("outbound request to %s refused: %s", redacted(url), reason)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as error:
            log.warning(
                "outbound request to %s failed: %s: %s", redacted(url), type(error).__name__, error
            )
        raise DeliveryFailed

    def _exchange(self, method: str, url: str, body: bytes | None) -> Delivered:
        deadline = time.monotonic() + DEADLINE_S
        target = _parse(url)
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._send(method, target, body, deadline)
            try:
                if response.status_code not in REDIRECTS:
                    return Delivered(response.status_code, _read(response, deadline))
                location = response.headers.get("location", "")
            finally:
                response.close()
            if not location:
                raise _Refused(f"redirect {response.status_code} without a location")
            target = _parse(str(target.join(location)))
            if response.status_code in {301, 302, 303} and method != "GET":
                method, body = "GET", None  # what browsers and httpx do
        raise _Refused(f"more than {MAX_REDIRECTS} redirects")

    def _send(
        self, method: str, target: httpx.URL, body: bytes | None, deadline: float
    ) -> httpx.Response:
        host = target.raw_host.decode("ascii")
        port = target.port or (443 if target.scheme == "https" else 80)
        if time.monotonic() > deadline:
            raise _Refused("deadline passed")
        address = self._checked_address(host, port)
        headers = {"Host": target.netloc.decode("ascii"), "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self._http.build_request(
            method,
            target.copy_with(host=str(address)),
            content=body,
            headers=headers,
            extensions={"sni_hostname": host.strip("[]")},
        )
        return self._http.send(request, stream=True)

    def _checked_address(self, host: str, port: int) -> IPAddress:
        name = host.strip("[]")
        try:
            found = [ipaddress.ip_address(text.split("%")[0]) for text in self.resolver(name, port)]
        except (OSError, UnicodeError, ValueError) as error:
            raise _Refused(f"{name} does not resolve: {error}") from None
        if not found:
            raise _Refused(f"{name} has no address")
        for address in found:  # one bad address is enough: the system could pick it
            reason = self.policy.refusal(address, port)
            if reason is not None:
                raise _Refused(f"{name}:{port} → {reason}")
        return found[0]


def _read(response: httpx.Response, deadline: float) -> bytes:
    content = bytearray()
    for chunk in response.iter_bytes():  # decoded bit by bit, so a gzip bomb stops at the cap
        content.extend(chunk)
        if len(content) > MAX_RESPONSE_BYTES:
            raise _Refused(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
        if time.monotonic() > deadline:
            raise _Refused("deadline passed while reading the answer")
    return bytes(content)
