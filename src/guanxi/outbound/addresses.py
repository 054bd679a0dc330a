"""Which network addresses outbound requests may reach.

Only public internet addresses on the usual web ports, unless the operator admits more
networks with ``GUANXI_OUTBOUND_ALLOW_NETWORKS`` (tests and the demo deliver to 127.0.0.1).
An IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo) is judged by
both, so ``::ffff:127.0.0.1`` is loopback.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The ports web services listen on; anything else would let a user probe other services.
WEB_PORTS = frozenset({80, 443, 8080, 8443})
# NAT64 prefixes (RFC 6052 and RFC 8215) embed an IPv4 address in their last 32 bits.
NAT64_NETWORKS = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """The comma-separated networks of ``text`` (``127.0.0.0/8, ::1``); ValueError if one is not."""
    parts = (part.strip() for part in text.split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, NAT64, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found = [address.ipv4_mapped, address.sixtofour]
    if address.teredo is not None:
        found.extend(address.teredo)
    if any(address in network for network in NAT64_NETWORKS):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [ipv4 for ipv4 in found if ipv4 is not None]


def _not_public(address: IPAddress) -> str | None:
    flags = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not global", not address.is_global),  # CGNAT 100.64/10, documentation ranges, ...
    )
    return next((name for name, flagged in flags if flagged), None)


@dataclass(frozen=True)
class AddressPolicy:
    """The addresses and ports outbound requests may reach."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    ports: frozenset[int] = field(default=WEB_PORTS)

    @classmethod
    def from_text(cls, networks: str) -> AddressPolicy:
        """The policy admitting ``networks`` (the setting's comma-separated text) too."""
        return cls(allowed_networks=parse_networks(networks))

    def admitted(self, address: IPAddress) -> bool:
        """Whether the operator admitted ``address`` explicitly (any port)."""
        candidates: Iterable[IPAddress] = [address, *embedded_ipv4(address)]
        return any(
            candidate in network
            for candidate in candidates
            for network in self.allowed_networks
            if candidate.version == network.version
        )

    def refusal(self, address: IPAddress, port: int) -> str | None:
        """Why ``address:port`` may not be reached (for the server log), or None if it may."""
        if self.admitted(address):
            return None
        for candidate in (address, *embedded_ipv4(address)):
            reason = _not_public(candidate)
            if reason is not None:
                return f"{candidate} is {reason}"
        if port not in self.ports:
            return f"port {port} is not a web port"
        return None
