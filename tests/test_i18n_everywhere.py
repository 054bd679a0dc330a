"""One rule for language: every message a person can see, from services and checks too, is
in the viewer's language. The messages are enumerated from the code (every message the
checks, the platform connectors' rules and the topic queries can say), not from a list."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache

import pytest
from babel.messages.catalog import Message
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanxi.accounts.models import Membership
from guanxi.channels.models import ChannelAudience
from guanxi.checks.labels import CATEGORY_LABELS
from guanxi.checks.service import run_checks
from guanxi.checks.words import CompiledWordList, default_entries
from guanxi.connectors.base import ConnectorError, HashtagStyle, PublishState
from guanxi.core import i18n
from guanxi.inbox.items.views import tag_label
from guanxi.inbox.triage.moderation import FLAG_TAG, SYSTEM_TAG_LABELS
from guanxi.listening.mentions import flows as mention_flows
from guanxi.listening.mentions.views import FEATURE_LABELS
from guanxi.publishing import engine, sweep
from guanxi.publishing.models import ATTEMPT_ACTION_LABELS, ATTEMPT_OUTCOME_LABELS
from tests.test_accounts import post

# Where the messages people read in the composer, the checks page and the topic editor come from.
AREAS = (
    "src/guanxi/checks/",
    "src/guanxi/connectors/",
    "src/guanxi/listening/topics/",
    "src/guanxi/approvals/",
)
# Two or more English words in a row: a sentence left untranslated.
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ -][A-Za-z]{2,})+\b")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[sd]")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Names Chinese readers see in Latin letters too (the platforms' own words for them).
KEPT_IN_LATIN = frozenset({"AppID", "AppSecret", "api unauthorized"})


@cache
def _messages() -> tuple[Message, ...]:
    return tuple(i18n.extract_messages())


def area_messages() -> Iterator[str]:
    """Every message id extracted from the code of ``AREAS``."""
    for message in _messages():
        if message.id and any(place.startswith(AREAS) for place, _line in message.locations):
            yield message.id if isinstance(message.id, str) else message.id[0]


def english_left(text: str) -> list[str]:
    """The runs of English words in ``text`` (placeholders and kept names taken out)."""
    body = PLACEHOLDER.sub("", text)
    for name in KEPT_IN_LATIN:
        body = body.replace(name, "")
    return ENGLISH_RUN.findall(body)


def test_the_areas_have_messages_to_check() -> None:
    """The enumeration finds the checks', the platforms' and the query errors' messages."""
    found = set(area_messages())
    assert len(found) > 150
    assert "Douyin needs a video: add one." in found
    assert any("never closed" in message for message in found)


@pytest.mark.parametrize("message", sorted(set(area_messages())))
def test_every_check_rule_and_query_message_reads_in_chinese(message: str) -> None:
    i18n.set_language("zh_Hans")
    try:
        translated = i18n.gettext(message)
    finally:
        i18n.set_language("en")
    if message in KEPT_IN_LATIN:
        return
    assert CJK.search(translated), f"{message!r} is not translated: {translated!r}"
    assert not english_left(translated), f"English left in {translated!r}"


def test_each_finding_of_the_checks_renders_in_chinese_with_named_categories() -> None:
    """Given a variant that trips the word list, the link, script, language and hashtag
    checks, then every finding reads in Chinese and names its category, not its code."""
    findings = run_checks(
        text=(
            "This is the best wine ever, truly the finest we have made in many long years "
            "#普罗旺斯 今天 國家級 最佳 https://bit.ly/x"
        ),
        audience=ChannelAudience.MAINLAND,
        hashtag_style=HashtagStyle.DOUBLE_HASH,
        words=CompiledWordList(default_entries()),
    )
    assert len({finding.code.split(":")[0].split(".")[0] for finding in findings}) >= 4
    i18n.set_language("zh_Hans")
    try:
        shown = [finding.translated(i18n.gettext) for finding in findings]
    finally:
        i18n.set_language("en")
    for text in shown:
        assert CJK.search(text), text
        assert not english_left(text), text
        assert not any(code in text for code in CATEGORY_LABELS), text
    assert any("绝对化用语" in text for text in shown)


def test_a_topic_query_error_is_in_the_viewers_language(
    db: Session, signed_in: tuple[TestClient, Membership]
) -> None:
    """Given a person whose saved language is Chinese (on another device: this session and
    browser say nothing), when they type a query with an unclosed parenthesis, then the
    error under the field is Chinese."""
    client, membership = signed_in
    membership.user.language = "zh_Hans"
    db.commit()
    answer = post(client, "/w/acme/listen/topics-validate", {"query": "(咖啡 OR 茶"})
    assert answer.status_code == 200
    assert CJK.search(answer.text.split('lang="zh-Hans"')[-1])
    assert "never closed" not in answer.text


# --- Words kept as data (a tag the rules set, markup the enrichment finds, the publishing
# log's actions and outcomes): each is shown through a label, never as stored. --------------

REQUIRED_ERROR_ARGUMENTS: dict[str, object] = {
    "retry_after_s": 1.0,
    "resets_at": datetime(2031, 1, 1, tzinfo=UTC),
}


def _subclasses(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def publish_outcomes() -> set[str]:
    """Every word the engine can log as an attempt's outcome: one per connector error (each
    kind of error the connectors raise), one per platform state, and those of no answer."""
    words = {engine.outcome_of(None, RuntimeError("crash")), engine.outcome_of(None, None)}
    for error in (ConnectorError, *_subclasses(ConnectorError)):
        needed = inspect.signature(error).parameters
        extra = {k: v for k, v in REQUIRED_ERROR_ARGUMENTS.items() if k in needed}
        words.add(engine.outcome_of(None, error("probe", **extra)))  # type: ignore[call-arg]
    words |= {str(state) for state in PublishState}
    words |= set(re.findall(r'outcome="(\w+)"', inspect.getsource(engine)))
    return words


def publish_actions() -> set[str]:
    """Every action the engine and the status sweep log an attempt under (read from them)."""
    found: set[str] = set()
    for module in (engine, sweep):
        source = inspect.getsource(module)
        found |= set(re.findall(r'attempt\("(\w+)"', source))
        found |= {a for a in re.findall(r'action="(\w+)"', source) if "." not in a}
    return found


def enrichment_features() -> set[str]:
    """The markup the enrichment stores per mention (the keys of its ``features``)."""
    source = inspect.getsource(mention_flows)
    block = source[source.index('"features": {') :]
    return set(re.findall(r'"(\w+)": list\(found\.', block[: block.index("}")]))


def stored_words() -> list[tuple[str, str, dict[str, str]]]:
    return [
        *(("outcome", word, ATTEMPT_OUTCOME_LABELS) for word in sorted(publish_outcomes())),
        *(("action", word, ATTEMPT_ACTION_LABELS) for word in sorted(publish_actions())),
        *(("feature", word, FEATURE_LABELS) for word in sorted(enrichment_features())),
        ("tag", FLAG_TAG, SYSTEM_TAG_LABELS),
    ]


def test_the_stored_words_are_found_in_the_code() -> None:
    """The enumeration finds the publishing log's words, the markup and the rules' tag."""
    words = {(kind, word) for kind, word, _labels in stored_words()}
    assert {("outcome", "rate_limited"), ("outcome", "published"), ("outcome", "crash")} <= words
    assert {("action", "publish"), ("action", "status"), ("action", "find")} <= words
    assert {("feature", "emoticons"), ("feature", "urls"), ("tag", "flagged")} <= words


@pytest.mark.parametrize(("kind", "word", "labels"), stored_words())
def test_every_word_kept_as_data_is_shown_in_chinese(
    kind: str, word: str, labels: dict[str, str]
) -> None:
    """Given a word the app stores (not a sentence a person wrote), when it is shown in the
    Chinese UI, then it has a label and the label reads in Chinese."""
    assert word in labels, f"the {kind} {word!r} has no label: it would be shown as stored"
    i18n.set_language("zh_Hans")
    try:
        translated = i18n.gettext(labels[word])
    finally:
        i18n.set_language("en")
    assert CJK.search(translated), f"{labels[word]!r} is not translated: {translated!r}"
    assert not english_left(translated), f"English left in {translated!r}"


def test_the_rules_tag_reads_in_chinese_and_a_teams_tag_as_typed() -> None:
    """The template filter shows the rules' tag in the reader's language, and a team's own
    tag as typed."""
    i18n.set_language("zh_Hans")
    try:
        assert tag_label(FLAG_TAG) == "已标记"
        assert tag_label("VIP客户") == "VIP客户"
    finally:
        i18n.set_language("en")
    assert tag_label(FLAG_TAG) == "flagged"
