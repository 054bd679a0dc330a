"""The template filters that put times and platform codes into words people read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guanxi.core import i18n
from guanxi.web.rendering import make_templates

MOMENT = datetime(2026, 12, 6, 12, 15, tzinfo=UTC)


def render(source: str, **context: object) -> str:
    """``source`` rendered by the app's template environment."""
    return make_templates().env.from_string(source).render(**context)


def test_a_time_is_shown_in_the_viewers_zone_with_its_offset() -> None:
    assert render("{{ t|datetime }}", t=MOMENT, viewer_zone="Asia/Shanghai") == (
        "2026-12-06 20:15 UTC+8"
    )
    assert render("{{ t|datetime }}", t=MOMENT, viewer_zone="Europe/Paris") == (
        "2026-12-06 13:15 UTC+1"
    )
    assert render("{{ t|datetime('UTC') }}", t=MOMENT, viewer_zone="Asia/Shanghai") == (
        "2026-12-06 12:15 UTC"
    )


@pytest.mark.parametrize(
    ("code", "english", "chinese"),
    [
        (-1, "not verified", "未认证"),
        (0, "verified person (orange V)", "个人认证（橙 V）"),
        (3, "verified organisation (blue V)", "机构认证（蓝 V）"),
        (None, "", ""),
    ],
)
def test_a_verification_code_reads_as_words(code: int | None, english: str, chinese: str) -> None:
    assert render("{{ v|verified }}", v=code) == english
    i18n.set_language("zh_Hans")
    try:
        assert render("{{ v|verified }}", v=code) == chinese
    finally:
        i18n.set_language("en")


def test_a_menu_of_options_escapes_its_values_and_labels_and_marks_the_chosen_one() -> None:
    """Given (value, label) pairs, the menu lists them in order, the value equal (as text)
    to the chosen one selected, and a name with markup shown as text."""
    members = [(7, "小王"), (12, 'Ann <b>"A&B"</b>')]
    assert render("{{ options(members, '12') }}", members=members) == (
        '<option value="7">小王</option>'
        '<option value="12" selected>Ann &lt;b&gt;&#34;A&amp;B&#34;&lt;/b&gt;</option>'
    )
    assert render("{{ options(members, 7) }}", members=members).startswith(
        '<option value="7" selected>'
    )
    assert " selected" not in render("{{ options(members) }}", members=members)
    assert " selected" not in render("{{ options(members, '') }}", members=members)


def test_labels_are_translated_once_for_a_whole_list() -> None:
    """``translated`` gives each label as ``_()`` would, in the page's language."""
    labels = {"positive": "Positive", "negative": "Negative"}
    i18n.set_language("zh_Hans")
    try:
        assert render("{{ (labels|translated)['negative'] }}", labels=labels) == "负面"
    finally:
        i18n.set_language("en")
    assert render("{{ (labels|translated)['negative'] }}", labels=labels) == "Negative"
