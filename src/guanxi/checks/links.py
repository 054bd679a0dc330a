"""Links to sites unreachable from the mainland (a maintained domain list in ``data/``).

Every URL in the text, the title, the digest and the link field is matched on its host:
a listed domain matches itself and every subdomain (``m.youtube.com``); ``name.*`` matches
the name under any country suffix (``google.com.hk``, ``google.de``). Flagged for mainland
audiences only: Hong Kong, Taiwan and overseas readers reach these sites.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from guanxi.channels.models import ChannelAudience
from guanxi.checks.findings import CheckSubject, Finding, Span
from guanxi.connectors.base import Severity
from guanxi.core.errors import N_

# A URL with a scheme, or a bare "www." host; it stops at whitespace, quotes, angle brackets
# and Chinese punctuation (Chinese text puts no space after a link).
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。！？、；：“”‘’（）【】《》\u3000]+", re.IGNORECASE
)
# A bare domain with a path, as people paste them: youtube.com/watch?v=..., t.co/abc.
BARE_DOMAIN_RE = re.compile(
    r"(?<![\w.@/])(?:[a-z0-9-]+\.)+[a-z]{2,}(?=/|$|[\s，。！？、；])", re.IGNORECASE
)
# Country-code second levels under which a name is registered (google.com.hk, google.co.jp).
SECOND_LEVELS = frozenset({"com", "co", "net", "org", "ac", "gov", "edu"})


@cache
def unreachable_domains() -> tuple[frozenset[str], frozenset[str]]:
    """The listed domains, and the names listed as ``name.*``."""
    text = resources.files("guanxi.checks").joinpath("data/unreachable_domains.txt")
    exact: set[str] = set()
    any_suffix: set[str] = set()
    for line in text.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if entry.endswith(".*"):
            any_suffix.add(entry[:-2])
        elif entry:
            exact.add(entry)
    return frozenset(exact), frozenset(any_suffix)


def url_host(url: str) -> str:
    """The lower-case host of ``url`` (which may lack its scheme), or ""."""
    candidate = url if "://" in url else "http://" + url
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def unreachable_domain(host: str) -> str | None:
    """The listed domain ``host`` falls under, or None."""
    exact, any_suffix = unreachable_domains()
    labels = host.split(".")
    for index in range(len(labels) - 1):
        if ".".join(labels[index:]) in exact:
            return ".".join(labels[index:])
    for index, label in enumerate(labels[:-1]):
        suffix = labels[index + 1 :]
        if label not in any_suffix:
            continue
        # name.tld (google.de) or name.second.cc (google.com.hk, google.co.jp).
        if len(suffix) == 1 or (
            len(suffix) == 2 and suffix[0] in SECOND_LEVELS and len(suffix[1]) == 2
        ):
            return ".".join(labels[index:])
    return None


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Every URL in ``text`` as (start, end, url), bare domains with a path included."""
    found = [(m.start(), m.end(), m.group(0)) for m in URL_RE.finditer(text)]
    taken = [(start, end) for start, end, _ in found]
    for match in BARE_DOMAIN_RE.finditer(text):
        if not any(start <= match.start() < end for start, end in taken):
            end = match.end()
            while end < len(text) and not text[end].isspace() and text[end] not in "，。！？、；":
                end += 1
            found.append((match.start(), end, text[match.start() : end]))
    return sorted(found)


def check_links(subject: CheckSubject) -> list[Finding]:
    """A warning per unreachable site a mainland post links to, with each link highlighted."""
    if subject.audience is not ChannelAudience.MAINLAND:
        return []
    spans_by_domain: dict[str, list[Span]] = {}
    for name, value in subject.fields():
        for start, end, url in find_urls(value):
            domain = unreachable_domain(url_host(url))
            if domain is not None:
                spans_by_domain.setdefault(domain, []).append(Span(name, start, end))
        if name.value == "link" and not find_urls(value):
            # The link field holds one address; it may lack a scheme and a path.
            domain = unreachable_domain(url_host(value.strip()))
            if domain is not None:
                spans_by_domain.setdefault(domain, []).append(Span(name, 0, len(value)))
    return [
        Finding(
            code=f"links.unreachable:{domain}",
            severity=Severity.WARNING,
            message=N_(
                "{domain} cannot be opened from mainland China: readers there will find the "
                "link broken. Link to a page hosted in China instead (a WeChat article, "
                "a Weibo post, your .cn site)."
            ),
            params={"domain": domain},
            spans=tuple(spans),
        )
        for domain, spans in spans_by_domain.items()
    ]
