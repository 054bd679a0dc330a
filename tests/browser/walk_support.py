"""A walk through every page a signed-in person can reach, for the roles and phone tests.

The walk starts at the home, the workspace's front page, the person's own page and the
catalog, and follows every same-site link, htmx ``hx-get`` and GET form it finds, visiting
one address per route and set of query keys (``/posts/3`` stands for every post), so a page
added later by any capability is walked without touching this file. Every control on a
visited page (link, form, ``formaction``, ``hx-get``/``hx-post``/...) is matched to the
app's route and the permissions that route's dependencies check (``member_with``), so a
control that would answer 403 is found without posting anything.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

from fastapi import FastAPI

from guanxi.accounts.models import Permission
from tests.test_isolation import http_routes, required_permissions

HTMX_ATTRIBUTES = {
    "hx-get": "GET",
    "hx-post": "POST",
    "hx-put": "PUT",
    "hx-patch": "PATCH",
    "hx-delete": "DELETE",
}
# Not pages: the JSON API (its own tokens), files, the click redirect, the platforms' pushes.
NOT_WALKED = re.compile(r"^/(api/|static/|l/|hooks/|favicon)")
# Pages with no more to find than their first instance, walked once whatever their query.
QUERY_BLIND = frozenset({"page", "cursor", "before", "after", "sort", "order", "q", "day"})
MAX_VISITS = 400


@dataclass(frozen=True)
class Control:
    """A link or button on a page: what it sends where, and how it is written."""

    method: str
    url: str
    described: str


class _Controls(HTMLParser):
    """Every link, form, ``formaction`` and htmx request in an HTML page."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[Control] = []
        self._form_methods: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"])
        if tag == "a" and "href" in values and "download" not in values:
            self._add("GET", values["href"], f'<a href="{values["href"]}">')
        if tag == "form":
            method = (values.get("method") or "GET").upper()
            self._form_methods.append(method)
            # A form without an action posts back to its own page.
            action = values.get("action", "") or self.base
            self._add(method, action, f'<form method="{method}" action="{action}">')
        if tag in {"button", "input"} and values.get("formaction"):
            method = (values.get("formmethod") or "POST").upper()
            self._add(method, values["formaction"], f'<{tag} formaction="{values["formaction"]}">')
        for attribute, method in HTMX_ATTRIBUTES.items():
            if values.get(attribute):
                self._add(method, values[attribute], f'<{tag} {attribute}="{values[attribute]}">')

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form_methods:
            self._form_methods.pop()

    def _add(self, method: str, target: str, described: str) -> None:
        if target.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            return
        self.found.append(Control(method, urljoin(self.base, target).split("#")[0], described))


def controls_in(html: str, url: str) -> list[Control]:
    """The controls of the page at ``url`` (absolute addresses, fragments dropped)."""
    parser = _Controls(url)
    parser.feed(html)
    return parser.found


@dataclass(frozen=True)
class RouteRule:
    """One route of the app: its method, address pattern and the permissions it checks."""

    method: str
    path: str
    pattern: re.Pattern[str]
    needs: frozenset[Permission]


def route_rules(app: FastAPI) -> list[RouteRule]:
    """Every HTTP route of ``app`` with what its dependencies require."""
    return [
        RouteRule(method, route.path, route.path_regex, frozenset(required_permissions(route)))
        for route in http_routes(app)
        for method in route.methods
    ]


@dataclass
class Refusal:
    """A control shown to a person whose role may not use it."""

    page: str
    control: Control
    answer: str
    route: str = ""

    def __str__(self) -> str:
        return f"{self.page}: {self.control.described} ({self.control.method}) {self.answer}"


@dataclass
class Walk:
    """What a walk found: the pages it visited and the controls that would answer 403."""

    pages: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


def checked_controls(
    html: str, url: str, *, origin: str, rules: list[RouteRule], may: frozenset[Permission]
) -> tuple[list[Refusal], list[tuple[str, RouteRule]]]:
    """The controls of a page that need more than ``may`` (refusals), and the addresses of
    the GET ones it may follow, each with its route."""
    refusals: list[Refusal] = []
    follow: list[tuple[str, RouteRule]] = []
    for control in controls_in(html, url):
        target = urlsplit(control.url)
        if f"{target.scheme}://{target.netloc}" != origin or NOT_WALKED.match(target.path):
            continue
        rule = _match(rules, control.method, target.path)
        if rule is None:
            continue
        if not rule.needs <= may:
            missing = ", ".join(sorted(rule.needs - may))
            refusals.append(Refusal(url, control, f"needs {missing}: 403", rule.path))
        elif control.method == "GET":
            follow.append((control.url, rule))
    return refusals, follow


def walk(
    *,
    origin: str,
    starts: Iterable[str],
    rules: list[RouteRule],
    may: frozenset[Permission],
    get: Callable[[str], tuple[int, str, str]],
) -> Walk:
    """Visit every page reachable from ``starts`` (paths) for a person whose role grants
    ``may``; ``get(url)`` answers (status, content type, body) with that person's session."""
    found = Walk()
    seen: set[tuple[str, frozenset[str]]] = set()
    queue: deque[tuple[str, str]] = deque((origin + path, "(start)") for path in starts)
    while queue and len(found.pages) < MAX_VISITS:
        url, linked_from = queue.popleft()
        status, content_type, body = get(url)
        if status == 403:
            control = Control("GET", url, "a link")
            found.refusals.append(Refusal(linked_from, control, "answers 403", urlsplit(url).path))
            continue
        if status >= 400 or "html" not in content_type:
            continue
        found.pages.append(url)
        refusals, follow = checked_controls(body, url, origin=origin, rules=rules, may=may)
        found.refusals += refusals
        for target, rule in follow:
            query = urlsplit(target).query
            keys = frozenset(k for k, _ in parse_qsl(query) if k not in QUERY_BLIND)
            if (rule.path, keys) not in seen:
                seen.add((rule.path, keys))
                queue.append((target, url))
    return found


def _match(rules: list[RouteRule], method: str, path: str) -> RouteRule | None:
    for rule in rules:
        if rule.method == method and rule.pattern.match(path):
            return rule
    return None
