"""The check endpoints: the composer's inline preview and conversion (HTMX), and the
sensitive-word pages (list, add, remove, import, export) with their roles."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import AuditEvent, Role, User, Workspace
from guanxi.checks.models import SensitiveWord
from guanxi.checks.words import default_entries
from guanxi.core import i18n
from tests.conftest import CSRF_RE, UserFactory, WorkspaceFactory, sign_in

WORDS = "/w/acme/checks/words"


def page_token(client: TestClient, path: str = WORDS) -> str:
    """The CSRF token embedded in the page at ``path``."""
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"{path} carries a CSRF token"
    return match.group(1)


@pytest.fixture
def team(
    client: TestClient, make_user: UserFactory, make_workspace: WorkspaceFactory
) -> dict[str, User | Workspace]:
    """Workspace acme with an owner, an editor and an analyst; nobody signed in yet."""
    owner = make_user("owner@acme.example", name="Owner")
    editor = make_user("cm@acme.example", name="Li Na")
    analyst = make_user("analyst@acme.example", name="Zhang Wei")
    workspace = make_workspace(
        "acme", owner=owner, members={editor: Role.EDITOR, analyst: Role.ANALYST}
    )
    return {"owner": owner, "editor": editor, "analyst": analyst, "workspace": workspace}


def preview(client: TestClient, **form: str) -> str:
    token = page_token(client)
    response = client.post(
        "/w/acme/checks/preview", data=form, headers={"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert response.status_code == 200, response.text
    return response.text


def switch_to_chinese(client: TestClient) -> None:
    client.post(
        "/language",
        data={"language": "zh_Hans", "next": WORDS, "csrf_token": page_token(client)},
        follow_redirects=False,
    )


# --- Preview and conversion ------------------------------------------------------------------


def test_preview_highlights_findings_in_the_text(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    """Given the default list, a Weibo draft with an absolute term, a Traditional character
    and a YouTube link shows an error and warnings, with the offending parts marked."""
    sign_in(client, "cm@acme.example")
    text = "最佳新品，歡迎 https://youtu.be/abc #新品"
    page = preview(client, text=text, audience="mainland", hashtag_style="double_hash")
    assert "“最佳” is on the workspace&#39;s list of words not to publish" in page
    assert '<mark class="mark-error">最佳</mark>' in page
    assert '<mark class="mark-warning">歡</mark>' in page
    assert "youtu.be cannot be opened from mainland China" in page
    assert "write “#新品#” instead of “#新品”" in page
    assert 'hx-post="/w/acme/checks/convert" hx-include="#composer-text"' in page
    assert 'hx-vals=\'{"conversion": "t2s", "field": "text"}\'' in page


def test_a_clean_text_passes(client: TestClient, team: dict[str, User | Workspace]) -> None:
    sign_in(client, "analyst@acme.example")
    page = preview(client, text="周末来店里试穿新款吧 #春季新品#", audience="mainland")
    assert "All checks passed" in page


def test_preview_messages_are_in_the_readers_language(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    switch_to_chinese(client)
    page = preview(client, text="新品，歡迎", audience="mainland", hashtag_style="double_hash")
    i18n.set_language("zh_Hans")
    expected = i18n.gettext(
        "{count} Traditional characters ({sample}) on an account for mainland "
        "readers, who read Simplified. Convert the text to Simplified."
    ).format(count=1, sample="歡")
    i18n.set_language("en")
    assert html.escape(expected, quote=True) in page
    assert i18n.get_translations("zh_Hans").gettext("Warning") in page


def test_preview_rejects_an_unknown_audience_with_a_clear_message(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    response = client.post(
        "/w/acme/checks/preview",
        data={"text": "你好", "audience": "moon"},
        headers={"X-CSRF-Token": page_token(client)},
    )
    assert response.status_code == 400
    assert "Unknown audience “moon”. Choose one of: mainland, hong_kong" in response.text


def test_preview_needs_a_csrf_token_and_membership(
    client: TestClient, team: dict[str, User | Workspace], make_user: UserFactory
) -> None:
    sign_in(client, "cm@acme.example")
    assert client.post("/w/acme/checks/preview", data={"text": "你好"}).status_code == 403
    client.cookies.clear()
    make_user("stranger@else.example")
    sign_in(client, "stranger@else.example")
    response = client.post(
        "/w/acme/checks/preview",
        data={"text": "你好"},
        headers={"X-CSRF-Token": page_token(client, "/login")},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("conversion", "expected"),
    [("t2s", "欢迎光临，软件"), ("s2twp", "歡迎光臨，軟體"), ("s2hk", "歡迎光臨，軟件")],
)
def test_convert_returns_the_textarea_with_the_converted_text(
    client: TestClient, team: dict[str, User | Workspace], conversion: str, expected: str
) -> None:
    sign_in(client, "cm@acme.example")
    source = "歡迎光臨，软件" if conversion == "t2s" else "欢迎光临，软件"
    response = client.post(
        "/w/acme/checks/convert",
        data={"text": source, "conversion": conversion, "field": "text"},
        headers={"X-CSRF-Token": page_token(client)},
    )
    assert response.status_code == 200
    assert f'<textarea name="text" id="composer-text" rows="8" lang="zh">{expected}</textarea>' in (
        response.text
    )


def test_convert_rejects_unknown_conversions_and_fields(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    token = page_token(client)
    bad = client.post(
        "/w/acme/checks/convert",
        data={"text": "你好", "conversion": "x2y"},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 400
    assert "Unknown conversion “x2y”. Choose one of: s2t, t2s" in bad.text
    field = client.post(
        "/w/acme/checks/convert",
        data={"text": "你好", "conversion": "t2s", "field": "password"},
        headers={"X-CSRF-Token": token},
    )
    assert field.status_code == 400
    assert "not “password”" in field.text


# --- The word list pages -------------------------------------------------------------------


def test_the_list_page_shows_the_default_list(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "analyst@acme.example")
    page = client.get(WORDS)
    assert page.status_code == 200
    assert f"The list ({len(default_entries())} terms)" in page.text
    assert '<td lang="zh">国家级</td>' in page.text
    # An analyst reads it but gets no forms to change it.
    assert "Your role can read the list but not change it" in page.text
    assert "/checks/words/import" not in page.text


def test_an_editor_adds_and_removes_a_term(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    token = page_token(client)
    response = client.post(
        WORDS,
        data={"term": "秒杀价", "category": "promotion", "severity": "block", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = db.scalars(select(SensitiveWord).where(SensitiveWord.term == "秒杀价")).one()
    assert "秒杀价" in client.get(WORDS, params={"q": "秒杀"}).text
    response = client.post(
        f"{WORDS}/{row.id}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    db.expunge_all()
    assert db.scalars(select(SensitiveWord).where(SensitiveWord.term == "秒杀价")).first() is None
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"sensitive_word.add", "sensitive_word.remove"} <= actions


def test_a_bad_term_is_explained_and_nothing_changes(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    token = page_token(client)
    before = len(db.scalars(select(SensitiveWord.id)).all())
    response = client.post(WORDS, data={"term": "  ", "severity": "block", "csrf_token": token})
    assert response.status_code == 400
    assert "Enter the term to screen for." in response.text
    response = client.post(WORDS, data={"term": "好", "severity": "never", "csrf_token": token})
    assert "Unknown severity “never”" in response.text
    assert len(db.scalars(select(SensitiveWord.id)).all()) == before


def test_an_analyst_cannot_change_the_list(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "analyst@acme.example")
    token = page_token(client)
    response = client.post(WORDS, data={"term": "秒杀价", "csrf_token": token})
    assert response.status_code == 403
    response = client.post(
        f"{WORDS}/import",
        data={"csrf_token": token},
        files={"file": ("words.txt", "秒杀价\n".encode(), "text/plain")},
    )
    assert response.status_code == 403
    assert db.scalars(select(SensitiveWord).where(SensitiveWord.term == "秒杀价")).first() is None


def test_import_reports_bad_rows_and_keeps_good_ones(
    client: TestClient, db: Session, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    token = page_token(client)
    content = "限时抢购,promotion,warn\n稳赚不赔,finance,sometimes\n限時搶購\n"
    response = client.post(
        f"{WORDS}/import",
        data={"csrf_token": token},
        files={"file": ("words.csv", content.encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert "Import finished" in response.text
    assert "1 added, 0 changed, 0 already listed, 1 duplicates merged, 1 rows skipped." in (
        response.text
    )
    assert "Unknown severity “sometimes”: use “block” or “warn”." in response.text
    terms = set(db.scalars(select(SensitiveWord.term)))
    assert "限时抢购" in terms
    assert "稳赚不赔" not in terms
    assert "限時搶購" not in terms


def test_import_of_an_empty_file_says_what_to_do(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "cm@acme.example")
    response = client.post(
        f"{WORDS}/import",
        data={"csrf_token": page_token(client)},
        files={"file": ("words.txt", b"", "text/plain")},
    )
    assert response.status_code == 400
    assert "The file is empty. Choose a file with one term per line." in response.text


def test_export_downloads_the_list_as_csv(
    client: TestClient, team: dict[str, User | Workspace]
) -> None:
    sign_in(client, "analyst@acme.example")
    response = client.get(f"{WORDS}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.startswith("term,category,severity\n")
    assert "国家级,absolute_terms,block" in response.text
