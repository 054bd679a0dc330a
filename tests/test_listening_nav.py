"""Every listening page shows the same sub-navigation; form controls stay off borders."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import UserFactory, WorkspaceFactory, sign_in

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "guanxi" / "web" / "templates"
PAGES = ("", "/mentions", "/dashboard", "/topics", "/alerts", "/accounts", "/import")
NAV = re.compile(r'<nav class="listen-nav".*?</nav>', re.DOTALL)


def test_every_listening_page_has_the_same_sub_navigation(
    client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> None:
    """Given the owner, each listening page shows one listening navigation with the same
    links in the same order; only the marked current page differs."""
    make_workspace("acme", owner=make_user("owner@acme.example"))
    sign_in(client, "owner@acme.example")
    navs = {}
    for page in PAGES:
        response = client.get(f"/w/acme/listen{page}")
        assert response.status_code == 200, page
        found = NAV.findall(response.text)
        assert len(found) == 1, page
        assert 'aria-current="page"' in found[0], page
        navs[page] = re.sub(r' aria-current="page"', "", found[0])
    assert len(set(navs.values())) == 1
    assert "/w/acme/listen/import" in navs[""]


def test_no_select_sits_inside_a_legend() -> None:
    """A select inside a fieldset's legend is drawn across the fieldset's border."""
    inside = re.compile(r"<legend>(?:(?!</legend>).)*<select", re.DOTALL)
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if inside.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
