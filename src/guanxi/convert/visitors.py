"""What a click's request says about who made it: the platform's app, the kind of device,
a bot or a person, and a visitor key that counts one person once an hour without keeping
their address."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from guanxi.connectors.browsers import in_app_platform, is_preview_fetcher
from guanxi.convert.crawlers import crawler_list

USER_AGENT_MAX = 512  # longer agents are cut before they are looked at
_IPV4_24 = (2**32 - 1) ^ (2**8 - 1)
_IPV6_48 = (2**128 - 1) ^ (2**80 - 1)


@dataclass(frozen=True)
class Browser:
    """The user agent, read once: where it was clicked and by what."""

    platform: str  # catalog slug of the app's in-app browser, "" for a plain browser
    device: str  # phone, tablet or desktop
    bot: bool


@lru_cache(maxsize=4096)
def read_user_agent(user_agent: str) -> Browser:
    """The platform, device and bot verdict of ``user_agent`` (cached: a campaign's clicks
    come from a few thousand distinct agents)."""
    agent = user_agent[:USER_AGENT_MAX]
    lowered = agent.lower()
    bot = not agent.strip() or is_preview_fetcher(agent) or crawler_list().is_crawler(agent)
    if "ipad" in lowered or "tablet" in lowered:
        device = "tablet"
    elif "mobi" in lowered or "iphone" in lowered or "android" in lowered:
        device = "phone"
    else:
        device = "desktop"
    return Browser(platform=in_app_platform(agent) or "", device=device, bot=bot)


def network_of(address: str | None) -> str:
    """The client's network, the only part of its address that is stored: an IPv4 /24 or
    an IPv6 /48 ("" when the address is missing or not an IP address)."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    # The network's first address from the integer: a third of ``ip_network``'s cost.
    if isinstance(ip, ipaddress.IPv4Address):
        return f"{ipaddress.IPv4Address(int(ip) & _IPV4_24)}/24"
    return f"{ipaddress.IPv6Address(int(ip) & _IPV6_48)}/48"


def visitor_key(secret: bytes, *, address: str | None, user_agent: str, day: str) -> str:
    """A key for one visitor on one day: the keyed hash of the full address and user agent.
    It changes every day, so it counts repeats within the hour without following anyone
    across days."""
    message = f"{address or ''}|{user_agent[:USER_AGENT_MAX]}|{day}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
