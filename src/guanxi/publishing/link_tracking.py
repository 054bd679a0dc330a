"""A variant's web addresses as tracked links, made when the variant is saved.

Saving is the moment (not scheduling): the text the author sees, the preview and the
platform's character count then hold the short link that will go out, and an approval is
given on that text. Every http(s) address in the variant's text becomes a tracked link for
its post, variant and account, unless the author turned tracking off for the variant, left
that address alone (``Variant.untracked_urls``), or the address is on one of the
platform's own domains its connector lists (``own_link_domains``). Re-saving changes
nothing: a short link already in the text stays, and the same address on the same variant
reuses its link. The links are made by whichever capability registered a tracker in
``guanxi.channels.tracking``; with none, addresses stay as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from guanxi.channels.models import Channel
from guanxi.channels.tracking import LinkOwner, link_tracker
from guanxi.connectors.base import OWN_LINK_DOMAINS_ATTRIBUTE, Connector, Severity, VariantDraft
from guanxi.core.errors import N_, UserError
from guanxi.publishing.models import LINK_MAX_LENGTH, Variant

# An address ends at a space, at a non-ASCII character (Chinese text runs on without one)
# or at a quote or bracket; trailing sentence punctuation is not part of it.
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%()]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]"
UNTRACKED_MAX = 50  # addresses a variant may leave alone


@dataclass(frozen=True)
class FoundLink:
    """An address in a variant's text, as the list under the editor shows it."""

    original: str  # as typed
    short: str  # the short link in the text, "" while it is not one
    tracked: bool  # tracked now, or will be on the next save
    own_domain: bool  # on the platform's own domains: always left as typed
    refused: bool = False  # the platform's rules refuse the short link: left as typed


def addresses(text: str) -> list[str]:
    """The web addresses in ``text``, in order, each once."""
    found = []
    for match in _URL.finditer(text):
        url = match.group(0)
        while url and url[-1] in _TRAILING and not _balanced(url):
            url = url[:-1]
        if url.rstrip(_TRAILING) and urlsplit(url).netloc:
            found.append(url)
    return list(dict.fromkeys(found))


def _balanced(url: str) -> bool:
    """A closing bracket at the end is the address's own when it closes one inside."""
    return url[-1] == ")" and url.count("(") >= url.count(")")


def _on_domains(url: str, domains: Iterable[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def own_domains(connector: Connector | None) -> tuple[str, ...]:
    """The platform's own domains its connector lists (none for one that lists none)."""
    return tuple(getattr(connector, OWN_LINK_DOMAINS_ATTRIBUTE, ()))


def _replace(text: str, mapping: dict[str, str]) -> str:
    """``text`` with each address in ``mapping`` replaced, longest first (one address may
    begin with another)."""
    for old in sorted(mapping, key=len, reverse=True):
        text = re.sub(re.escape(old) + r"(?![A-Za-z0-9\-._~/?#\[\]@!$&*+,;=%])", mapping[old], text)
    return text


def checked_untracked(values: Iterable[str]) -> list[str]:
    """Addresses to leave alone, as a form or the API gives them; a UserError past the
    limits."""
    kept = list(dict.fromkeys(value.strip() for value in values if value.strip()))
    if len(kept) > UNTRACKED_MAX or any(len(value) > LINK_MAX_LENGTH for value in kept):
        raise UserError(
            N_("Leave at most {count} addresses untracked, each up to {length} characters."),
            count=UNTRACKED_MAX,
            length=LINK_MAX_LENGTH,
        )
    return kept


def found_links(db: Session, *, variant: Variant, connector: Connector | None) -> list[FoundLink]:
    """The addresses in the variant's text with whether each is tracked."""
    tracker = link_tracker()
    urls = addresses(variant.text)
    if tracker is None or not urls:
        return []
    originals = tracker.originals(db, variant.workspace_id, urls)
    domains = own_domains(connector)
    untracked = set(variant.untracked_urls or [])
    plain = [u for u in urls if u not in originals and u not in untracked]
    refused = variant.track_links and _refused(connector, variant.text, plain, tracker.example())
    return [
        FoundLink(
            original=originals.get(url, url),
            short=url if url in originals else "",
            tracked=url in originals or url not in untracked,
            own_domain=url not in originals and _on_domains(url, domains),
            refused=refused and url in plain,
        )
        for url in urls
    ]


def _errors(connector: Connector, text: str) -> set[str]:
    return {
        violation.code
        for violation in connector.validate(VariantDraft(text=text))
        if violation.severity == Severity.ERROR
    }


def _refused(connector: Connector | None, text: str, urls: list[str], example: str) -> bool:
    """Whether the platform's rules would refuse ``text`` with short links for ``urls`` where
    they take it as typed (Weibo takes links on its app's safe domain only: short links on
    another domain would stop the post)."""
    if connector is None or not urls:
        return False
    tracked = _replace(text, dict.fromkeys(urls, example))
    return bool(_errors(connector, tracked) - _errors(connector, text))


def tracked_text(
    db: Session,
    *,
    variant: Variant,
    channel: Channel,
    connector: Connector | None,
    text: str,
    actor_id: int | None,
) -> str:
    """``text`` with its addresses tracked or restored as the variant's choices say."""
    tracker = link_tracker()
    if tracker is None:
        return text
    urls = addresses(text)
    originals = tracker.originals(
        db, variant.workspace_id, [u for u in urls if tracker.is_short_link(u)]
    )
    untracked = set(variant.untracked_urls or [])
    # Short links the author no longer wants go back to the address they lead to.
    restore = {
        short: original
        for short, original in originals.items()
        if not variant.track_links or original in untracked
    }
    text = _replace(text, restore)
    if not variant.track_links:
        return text
    wanted = [
        url
        for url in addresses(text)
        if not tracker.is_short_link(url)
        and url not in untracked
        and not _on_domains(url, own_domains(connector))
    ]
    if not wanted or _refused(connector, text, wanted, tracker.example()):
        return text
    owner = LinkOwner(
        workspace_id=variant.workspace_id,
        post_id=variant.post_id,
        variant_id=variant.id,
        platform=channel.platform,
        created_by_id=actor_id,
    )
    return _replace(text, tracker.track(db, owner, wanted))


def apply_choices(
    variant: Variant, *, track: bool, listed: Iterable[str], ticked: Iterable[str]
) -> None:
    """Store the author's choices: tracking on or off for the variant, and of the addresses
    the editor listed, which ones stay as typed (the unticked)."""
    variant.track_links = track
    if not track:  # the list is not read: each address keeps its choice for later
        return
    listed, ticked = set(listed), set(ticked)
    untracked = (set(variant.untracked_urls or []) | (listed - ticked)) - ticked
    variant.untracked_urls = checked_untracked(sorted(untracked))


def track_variant(
    db: Session, *, variant: Variant, connector: Connector | None, actor_id: int | None
) -> None:
    """Track the addresses of a variant just made (a new post's, an added account's)."""
    channel = db.get(Channel, variant.channel_id)
    assert channel is not None
    db.flush()  # the variant's id, which its links name
    variant.text = tracked_text(
        db,
        variant=variant,
        channel=channel,
        connector=connector,
        text=variant.text,
        actor_id=actor_id,
    )
