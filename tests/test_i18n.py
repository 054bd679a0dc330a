"""Every UI string exists in English and Simplified Chinese, and the pages use them.

The catalog test extracts the messages from the code and templates as they are now (not
from a possibly stale ``messages.pot``); the template scanner finds text a template shows
without passing it through gettext.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.catalog import Catalog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.core import i18n
from guanxi.core.errors import UserError
from guanxi.web.rendering import TEMPLATES_DIR, make_templates
from tests.conftest import UserFactory, WorkspaceFactory, csrf_token, sign_in

ZH_NAV = ("平台目录", "渠道规划", "发布", "互动收件箱", "舆情监测", "市场洞察", "设置", "退出")
EN_NAV = ("Catalog", "Plan", "Publish", "Inbox", "Listen", "Market", "Settings", "Sign out")


# --- The catalog --------------------------------------------------------------------------


def test_every_message_in_code_and_templates_has_a_chinese_translation() -> None:
    """Given the messages extracted from src/guanxi right now,
    then the zh_Hans catalog translates each one (not empty, not fuzzy, same placeholders).

    To fix a failure: ``make i18n``, translate what it lists in
    src/guanxi/locales/zh_Hans/LC_MESSAGES/messages.po, run it again.
    """
    template = i18n.extract_messages()
    catalog = i18n.read_catalog(i18n.po_path("zh_Hans"), "zh_Hans")

    problems = i18n.catalog_problems(template, catalog)

    assert len(template) > 50, "extraction finds the messages of the code and templates"
    assert problems == [], "\n".join(problems)


# ASCII punctuation touching a Chinese character: a comma, semicolon or colon, or a bracket.
ASCII_BESIDE_HANZI = re.compile(
    r"[\u4e00-\u9fff][,;(]|[,;)][\u4e00-\u9fff]|[\u4e00-\u9fff]:(?!//)|\([\u4e00-\u9fff]"
)


def test_chinese_translations_use_full_width_punctuation() -> None:
    """Given the zh_Hans catalog, then no comma, semicolon, colon or bracket beside a
    Chinese character is the ASCII one (“谁点击了,来自哪个应用” reads as a typo in Chinese).
    What follows 例如 is an example of what to type, and is left as typed.
    """
    catalog = i18n.read_catalog(i18n.po_path("zh_Hans"), "zh_Hans")
    found = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            prose = (text or "").split("例如")[0]
            if ASCII_BESIDE_HANZI.search(prose):
                found.append(text)
    assert found == []


def test_extraction_finds_python_template_and_plural_messages() -> None:
    """Messages marked with N_, gettext and in templates (plain and plural) are all found."""
    template = i18n.extract_messages()

    assert "No such workspace, or you are not a member of it." in template  # N_ in a service
    assert "The request is not valid. Correct the fields listed and retry." in template  # gettext
    assert "Sign out" in template  # a template
    plural = template.get("%(num)d saved plan")
    assert plural is not None
    assert plural.id == ("%(num)d saved plan", "%(num)d saved plans")


def test_the_catalog_check_reports_untranslated_fuzzy_and_broken_placeholders() -> None:
    """The check behind this suite and `make i18n` flags each kind of problem."""
    template = Catalog()
    for message in ("Plan", "Hello %(name)s", "Wait {minutes} minutes", "Sign in", "Missing"):
        template.add(message)
    catalog = Catalog(locale="zh_Hans")
    catalog.add("Plan", "")
    catalog.add("Hello %(name)s", "你好 %(nom)s")
    catalog.add("Wait {minutes} minutes", "请等待 {minutes} 分钟")
    catalog.add("Sign in", "登录", flags=["fuzzy"])

    problems = i18n.catalog_problems(template, catalog)

    assert [problem.split(":")[0] for problem in problems] == [
        "untranslated",
        "placeholders differ",
        "fuzzy",
        "missing",
    ]


def test_a_fuzzy_translation_is_not_used() -> None:
    """An unreviewed (fuzzy) guess is worse than the English original: it is left out."""
    catalog = Catalog(locale="zh_Hans")
    catalog.add("Sign in", "登录")
    catalog.add("Channel planner", "密码", flags=["fuzzy"])  # a wrong guess by fuzzy matching

    translations = i18n.compile_catalog(catalog)

    assert translations.gettext("Sign in") == "登录"
    assert translations.gettext("Channel planner") == "Channel planner"


def test_the_shipped_catalog_is_the_one_the_app_uses() -> None:
    """The app reads the zh_Hans .po directly (no build step), and English is the source."""
    assert i18n.get_translations("zh_Hans").gettext("Sign out") == "退出"
    assert i18n.get_translations("en").gettext("Sign out") == "Sign out"


# --- The template scanner -----------------------------------------------------------------

# Stands in for each {{ }} / {% %} / {# #} piece: not a letter, so it is never reported.
PLACEHOLDER = "\ue000"
# Text that is the same in both languages: the product's name in Latin letters and in Chinese.
ALLOWED_WORDS = ("guanxi", "关系")
# Code samples read the same in every language.
CODE_ELEMENTS = frozenset({"pre", "code", "kbd", "samp"})
HIDDEN_ELEMENTS = frozenset({"script", "style"})
# Attributes a user reads or hears; their values must be translated too.
VISIBLE_ATTRIBUTES = frozenset(
    {"placeholder", "title", "aria-label", "aria-description", "alt", "label", "hx-confirm"}
)
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})
_ALLOWED_RE = re.compile("|".join(re.escape(word) for word in ALLOWED_WORDS))


def _has_letters(text: str) -> bool:
    return any(char.isalpha() for char in _ALLOWED_RE.sub("", text))


class _LiteralTextFinder(HTMLParser):
    """Collects user-visible literal text: text nodes and visible attribute values."""

    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=False)  # entities are dropped, not read as letters
        self.name = name
        self.problems: list[str] = []
        self.hidden = 0
        self.code = 0

    def _report(self, line: int, text: str) -> None:
        shown = " ".join(text.replace(PLACEHOLDER, "{{…}}").split())
        self.problems.append(f"{self.name}:{line}: {shown!r} is not translated")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in HIDDEN_ELEMENTS
        self.code += tag in CODE_ELEMENTS
        values = dict(attrs)
        for attribute, value in attrs:
            visible = attribute in VISIBLE_ATTRIBUTES or (
                attribute == "value"
                and tag == "input"
                and (values.get("type") or "").lower() in BUTTON_INPUT_TYPES
            )
            if visible and value and _has_letters(value):
                self._report(self.getpos()[0], f"{attribute}={value}")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_ELEMENTS and self.hidden:
            self.hidden -= 1
        if tag in CODE_ELEMENTS and self.code:
            self.code -= 1

    def handle_data(self, data: str) -> None:
        if self.hidden or self.code or not _has_letters(data):
            return
        first = next(i for i, char in enumerate(data) if char.isalpha())
        self._report(self.getpos()[0] + data.count("\n", 0, first), data)


def untranslated_template_text(source: str, name: str) -> list[str]:
    """Literal text in template ``source`` that a user would see untranslated.

    The Jinja2 lexer splits the template into literal ``data`` and the rest; the rest is
    replaced by a placeholder (text inside ``{% trans %}`` too: it is translated), keeping
    line numbers, and the result is read as HTML.
    """
    env = make_templates().env
    html: list[str] = []
    line = 1
    in_trans = False
    previous = ""
    for lineno, kind, value in env.lex(source, name):
        if kind == "name" and previous == "block_begin":
            in_trans = value in {"trans", "pluralize"} or (in_trans and value != "endtrans")
        if kind != "whitespace":
            previous = kind
        html.append("\n" * (lineno - line))
        line = lineno
        if kind == "data" and not in_trans:
            html.append(value)
            line += value.count("\n")
        elif kind.endswith("_begin"):
            html.append(PLACEHOLDER)
    finder = _LiteralTextFinder(name)
    finder.feed("".join(html))
    finder.close()
    return finder.problems


def template_names() -> list[str]:
    """Every template under src/guanxi/web/templates."""
    return sorted(
        path.relative_to(TEMPLATES_DIR).as_posix() for path in TEMPLATES_DIR.rglob("*.html")
    )


def test_no_template_shows_untranslated_text() -> None:
    """Given every template, then no text node or visible attribute holds literal words:
    each goes through {{ _("...") }} or {% trans %}, so it exists in both languages."""
    problems = [
        problem
        for name in template_names()
        for problem in untranslated_template_text((TEMPLATES_DIR / name).read_text("utf-8"), name)
    ]

    assert len(template_names()) >= 6
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Hello</p>", ["t.html:1: 'Hello' is not translated"]),
        ('<p>\n  {{ _("Hi") }}\n  <b>Plans</b></p>', ["t.html:3: 'Plans' is not translated"]),
        ('<input placeholder="Search">', ["t.html:1: 'placeholder=Search' is not translated"]),
        ('<input type="submit" value="Save">', ["t.html:1: 'value=Save' is not translated"]),
        ('<a title="{{ _("Open") }}" href="/x">{{ _("Open") }}</a>', []),
        ('<button name="language" value="en">{{ label }}</button>', []),
        (
            "{% if x %}\n<p>{{ n }} items</p>{% endif %}",
            ["t.html:2: '{{…}} items' is not translated"],
        ),
        ("{% trans n=n %}{{ n }} items{% endtrans %}", []),
        ("<script>const shown = false;</script><style>p { color: red }</style>", []),
        ("<!-- a note --><pre>guanxi serve --port 8000</pre>&nbsp;&middot;", []),
        ("<title>{% block title %}guanxi{% endblock %} · 关系</title>", []),
    ],
)
def test_the_template_scanner_finds_literal_text(source: str, expected: list[str]) -> None:
    """The scanner reports words outside gettext and nothing else."""
    assert untranslated_template_text(source, "t.html") == expected


# --- Pages in Chinese ---------------------------------------------------------------------


def choose_language(client: TestClient, language: str, next_page: str = "/") -> None:
    """Use the language switch in the page header."""
    response = client.post(
        "/language",
        data={"language": language, "next": next_page, "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_signed_in_user_switches_to_chinese(signed_in: tuple[TestClient, Membership]) -> None:
    """Given a signed-in owner reading English,
    when they choose 简体中文 with the language switch,
    then the workspace page is in Chinese: navigation labels and the html lang attribute."""
    client, _membership = signed_in
    english = client.get("/w/acme/")
    assert 'lang="en"' in english.text
    assert all(label in english.text for label in EN_NAV)

    choose_language(client, "zh_Hans", "/w/acme/")
    page = client.get("/w/acme/")

    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text
    for label in ZH_NAV:
        assert f">{label}<" in page.text
    assert "Sign out" not in page.text
    assert "您的角色：所有者" in page.text


def test_the_choice_of_language_is_remembered_for_the_user(
    signed_in: tuple[TestClient, Membership], app: FastAPI
) -> None:
    """Given an owner who chose Chinese, when they sign in again from another browser,
    then the pages are in Chinese without choosing again."""
    client, membership = signed_in
    choose_language(client, "zh_Hans")

    with TestClient(app) as other_browser:
        sign_in(other_browser, membership.user.email)
        page = other_browser.get("/w/acme/")

    assert '<html lang="zh-Hans">' in page.text
    assert ">平台目录<" in page.text


def test_switching_back_to_english(signed_in: tuple[TestClient, Membership]) -> None:
    """Chinese, then English again: the page is back in English."""
    client, _membership = signed_in
    choose_language(client, "zh_Hans")
    choose_language(client, "en")

    page = client.get("/w/acme/")

    assert '<html lang="en">' in page.text
    assert ">Catalog<" in page.text
    assert "平台目录" not in page.text


def test_chinese_browser_gets_the_sign_in_page_in_chinese(client: TestClient) -> None:
    """Given a visitor whose browser asks for zh-CN, the sign-in page is in Chinese."""
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})

    assert '<html lang="zh-Hans">' in page.text
    assert "<h1>登录</h1>" in page.text
    assert "邮箱地址" in page.text
    assert "密码" in page.text


def test_english_browser_gets_english(client: TestClient) -> None:
    """A browser asking for English (or for nothing we have) gets English."""
    for header in ("en-GB,en;q=0.9", "fr-FR,fr;q=0.9"):
        page = client.get("/login", headers={"Accept-Language": header})
        assert '<html lang="en">' in page.text
        assert "<h1>Sign in</h1>" in page.text


def test_language_switch_returns_to_the_page_it_was_used_on(
    signed_in: tuple[TestClient, Membership],
) -> None:
    """The switch brings the reader back to the page they were on (a GET page), and to the
    start page from a page that answered a posted form (its address may not answer GET)."""
    client, _membership = signed_in
    page = client.get("/w/acme/settings?tab=tokens")
    posted = client.post("/language", data={"language": "xx", "csrf_token": csrf_token(client)})

    assert 'name="next" value="/w/acme/settings?tab=tokens"' in page.text
    assert posted.status_code == 400
    assert 'name="next" value="/"' in posted.text


def test_unknown_language_is_refused_and_changes_nothing(
    signed_in: tuple[TestClient, Membership], db: Session
) -> None:
    """Given a signed-in owner, when the language switch sends a language guanxi lacks,
    then a clear message lists the choices, and the UI and the saved choice stay as they were."""
    client, membership = signed_in

    response = client.post(
        "/language",
        data={"language": "fr", "next": "/", "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )

    assert response.status_code == 400
    assert "Unknown language fr. Choose one of: en, zh_Hans." in response.text
    assert '<html lang="en">' in client.get("/w/acme/").text
    db.refresh(membership.user)
    assert membership.user.language is None


# --- Errors in the user's language --------------------------------------------------------


def test_user_error_translates_its_message_and_keeps_its_parameters() -> None:
    """A UserError carries the English message and its parameters; shown in Chinese,
    the parameters are filled into the Chinese sentence."""
    error = UserError(
        "Too many failed sign-ins. Wait {minutes} minutes, then try again.", minutes=15
    )

    assert str(error) == "Too many failed sign-ins. Wait 15 minutes, then try again."
    assert error.translated(i18n.get_translations("zh_Hans").gettext) == (
        "登录失败次数过多。请等待 15 分钟后再试。"
    )


def test_wrong_password_message_is_in_chinese(client: TestClient, make_user: UserFactory) -> None:
    """Given a Chinese browser, when the password is wrong, the message is in Chinese."""
    make_user("li.na@example.com", name="Li Na")
    headers = {"Accept-Language": "zh-CN"}
    token = csrf_token(client)

    response = client.post(
        "/login",
        data={"email": "li.na@example.com", "password": "wrong", "csrf_token": token, "next": "/"},
        headers=headers,
    )

    assert response.status_code == 401
    assert "邮箱地址或密码错误。请检查后重试。" in response.text
    assert "Wrong e-mail address" not in response.text


def test_error_page_for_a_chinese_user_is_in_chinese(
    signed_in: tuple[TestClient, Membership],
    make_user: UserFactory,
    make_workspace: WorkspaceFactory,
) -> None:
    """Given an owner reading Chinese, when they open a workspace that is not theirs,
    then the 404 page says so in Chinese; the unknown-language message is Chinese too."""
    client, _membership = signed_in
    make_workspace("other-brand", owner=make_user("someone@other.example"))
    choose_language(client, "zh_Hans")

    not_found = client.get("/w/other-brand/")
    unknown = client.post(
        "/language", data={"language": "xx", "next": "/", "csrf_token": csrf_token(client)}
    )

    assert not_found.status_code == 404
    assert "该工作区不存在，或您不是其成员。" in not_found.text
    assert "<h1>出错了</h1>" in not_found.text
    assert unknown.status_code == 400
    assert "未知语言：xx。请从以下选项中选择：en, zh_Hans。" in unknown.text


def test_api_errors_follow_accept_language(client: TestClient) -> None:
    """The JSON API answers in the language the client asks for."""
    response = client.get("/api/v1/w/acme/accounts/workspace", headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("请以“Authorization: Bearer <token>”")
