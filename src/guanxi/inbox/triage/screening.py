"""Moderation conditions over plain data: no database, no network, fast in batches.

``Screen`` holds the compiled automata (the workspace's sensitive words, the abuse and
advertising phrase lists, each ONE Aho-Corasick automaton over Simplified and Traditional
alike, see ``guanxi.checks.words``) and answers, for one text, which conditions it meets and
why. Rules combine conditions (``guanxi.inbox.triage.moderation``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

import ahocorasick

from guanxi.checks.words import CompiledWordList, Hit, WordEntry, WordSeverity, normalize
from guanxi.core import i18n
from guanxi.core.errors import N_
from guanxi.inbox.people.models import PERSON_KIND_LABELS


class ConditionKind(StrEnum):
    """What a moderation rule can look for."""

    SENSITIVE_WORD = "sensitive_word"  # value: a category, or "" for any listed term
    LINK = "link"
    REPEATED_TEXT = "repeated_text"
    ADVERTISING = "advertising"
    ABUSE = "abuse"
    NEGATIVE = "negative"
    AUTHOR_KIND = "author_kind"  # value: a PersonKind


CONDITION_LABELS: dict[ConditionKind, str] = {
    ConditionKind.SENSITIVE_WORD: N_("Sensitive word (category, or any)"),
    ConditionKind.LINK: N_("Contains a link"),
    ConditionKind.REPEATED_TEXT: N_("Repeated text (spam)"),
    ConditionKind.ADVERTISING: N_("Advertising phrase"),
    ConditionKind.ABUSE: N_("Abuse"),
    ConditionKind.NEGATIVE: N_("Negative sentiment"),
    ConditionKind.AUTHOR_KIND: N_("Author kind"),
}

# Phrases of the "add me on WeChat, cheap agency buying" kind that spam comment sections.
ADVERTISING_PHRASES = (
    "加微信",
    "加我微信",
    "加v",
    "加vx",
    "加薇",
    "威信",
    "薇信",
    "vx号",
    "私聊我",
    "私信我领",
    "代购",
    "兼职",
    "刷单",
    "日赚",
    "日入",
    "免费领取",
    "点击链接",
    "低价出售",
    "优惠券",
    "扫码领",
    "加群",
    "q群",
    "淘宝店",
    "进群",
    "返利",
    "代理招募",
    "招代理",
    "无抵押贷款",
    "看我主页",
    "关注我领",
    "互粉",
    "互关",
)
# Insults; a workspace adds its own through the sensitive-word list with category "abuse".
ABUSE_PHRASES = (
    "傻逼",
    "傻b",
    "sb",
    "煞笔",
    "脑残",
    "弱智",
    "去死",
    "滚蛋",
    "垃圾东西",
    "贱人",
    "废物",
    "白痴",
    "智障",
    "狗东西",
    "王八蛋",
    "混蛋",
    "他妈的",
    "妈的",
    "操你",
    "草泥马",
    "cnm",
    "nmsl",
    "fuck",
    "shit",
    "idiot",
    "骗子公司",
    "黑心商家",
)
ABUSE_CATEGORY = "abuse"
_LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|cn|net|top|xyz|cc|vip)\b|t\.cn/")
# A phrase written four or more times in a row (its shortest repeating unit is checked
# after the match: "hahahaha" matches as "haha" but repeats "ha").
_REPEATED_PHRASE = re.compile(r"(.{2,30}?)\1{3,}", re.DOTALL)
# Weibo and Douyin emoticon codes ("[赞][赞][赞]") are how people cheer, not spam; spaces
# and punctuation between the copies of a phrase do not hide it.
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_SEPARATORS = re.compile(r"[\s,.;:!?，。；：！？、~～…·]+")
# What laughter is written with: 哈哈哈, 呵呵, 嘻嘻, 233333, hhhh, hiahia, xdd, lol, www.
LAUGHTER_CHARACTERS = frozenset("哈呵嘻嘿嘎咯噗嗤哼啊呀哇笑死hahehiolxdw23")
# A repeated phrase is spam from this many characters on: shorter units (哈哈, 笑死, 加油,
# 好看) repeated are how people laugh, cheer and insist.
SPAM_PHRASE_MIN_LENGTH = 3
NEGATIVE_FALLBACK_WORDS = (
    "差评",
    "垃圾",
    "失望",
    "太差",
    "难用",
    "退货",
    "退款",
    "投诉",
    "骗",
    "坑",
    "恶心",
    "生气",
    "不满",
    "糟糕",
    "烂",
    "后悔",
    "破",
    "坏了",
    "没用",
    "差劲",
    "bad",
    "terrible",
    "awful",
    "worst",
    "disappointed",
    "refund",
)


@cache
def phrase_list(phrases: tuple[str, ...], category: str) -> CompiledWordList:
    """A phrase list compiled once into one automaton (both scripts, as the word lists)."""
    return CompiledWordList(
        WordEntry(term=phrase, category=category, severity=WordSeverity.WARN) for phrase in phrases
    )


# The same text is normalised for several lists and the search tokens: once is enough (it
# is the costly part); a batch of new items fits in the cache.
normalized = lru_cache(maxsize=4096)(normalize)


@lru_cache(maxsize=4096)
def _word_hits(words: CompiledWordList, text: str) -> tuple[Hit, ...]:
    """The hits of ``words`` in ``text``. Several conditions read the workspace list, and
    ingest screens a page before it is stored (who assigns) and again after: each text is
    matched once (a compiled list is cached, so the same object comes back)."""
    return tuple(words.hits(text))


class PhraseList:
    """A fixed built-in phrase list matched against already normalised text."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for phrase in phrases:
            key = normalize(phrase)
            self._automaton.add_word(key, phrase)
        self._automaton.make_automaton()

    def found(self, text: str) -> list[str]:
        """The listed phrases in ``text``, in order of where they end."""
        return [phrase for _end, phrase in self._automaton.iter(normalized(text))]


@cache
def builtin(name: str) -> PhraseList:
    """One of the built-in lists: "advertising", "abuse" or "negative"."""
    phrases = {
        "advertising": ADVERTISING_PHRASES,
        "abuse": ABUSE_PHRASES,
        "negative": NEGATIVE_FALLBACK_WORDS,
    }[name]
    return PhraseList(phrases)


SAME_TEXT_AGAIN = "repeat:same text again"


def _shortest_unit(text: str) -> str:
    """The shortest string that ``text`` repeats ("haha" -> "ha", "好评" -> "好评")."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def repeated_phrase(text: str) -> str:
    """The phrase ``text`` repeats like spam, or "" when it does not.

    Spam floods a comment section with the same phrase ("加微信领红包" four times over).
    People repeat too, but in runs of one or two characters (哈哈哈哈, 233333, hhhh, 笑死笑死,
    加油加油, 。。。。), with laughter letters (hiahiahiahia), or with emoticons and emoji:
    none of these count, whatever their length.
    """
    plain = _SEPARATORS.sub("", _EMOTICON.sub("", text))
    for match in _REPEATED_PHRASE.finditer(plain):
        core = "".join(ch for ch in match.group(1) if ch.isalnum()).lower()
        unit = _shortest_unit(core)
        if len(unit) < SPAM_PHRASE_MIN_LENGTH or set(unit) <= LAUGHTER_CHARACTERS:
            continue
        return match.group(1).strip()[:30]
    return ""


@dataclass(frozen=True)
class Facts:
    """What the conditions look at for one item."""

    text: str
    author_key: str = ""  # platform and author id
    sentiment: str | None = None
    author_kind: str = ""


@dataclass
class Screen:
    """The compiled lists of one workspace, and the texts seen in this batch (repeats)."""

    words: CompiledWordList
    sentiment_of: Callable[[str], str] | None = None

    def __post_init__(self) -> None:
        self._ads = builtin("advertising")
        self._abuse = builtin(ABUSE_CATEGORY)
        self._seen: dict[tuple[str, str], int] = {}

    def _word_hits(self, text: str) -> tuple[Hit, ...]:
        return _word_hits(self.words, text)

    def remember(self, facts: Facts) -> None:
        """Count ``facts``' text for its author, so the same text again is a repeat."""
        key = (facts.author_key, facts.text.strip())
        self._seen[key] = self._seen.get(key, 0) + 1

    def reasons(self, kind: ConditionKind, value: str, facts: Facts) -> list[str]:
        """Why ``facts`` meets condition ``kind`` (with ``value``); empty when it does not."""
        check = _CHECKS[kind]
        return check(self, value, facts)

    def _sensitive(self, value: str, facts: Facts) -> list[str]:
        wanted = value.strip()
        return [
            f"word:{hit.entry.term}"
            for hit in self._word_hits(facts.text)
            if not wanted or hit.entry.category == wanted
        ]

    def _link(self, _value: str, facts: Facts) -> list[str]:
        match = _LINK.search(facts.text.lower())
        return [f"link:{match.group(0)}"] if match else []

    def _repeated(self, _value: str, facts: Facts) -> list[str]:
        if self._seen.get((facts.author_key, facts.text.strip()), 0) > 1 and facts.text.strip():
            return [SAME_TEXT_AGAIN]
        phrase = repeated_phrase(facts.text)
        return [f"repeat:{phrase}"] if phrase else []

    def _advertising(self, _value: str, facts: Facts) -> list[str]:
        return [f"ad:{phrase}" for phrase in self._ads.found(facts.text)]

    def _abuse_hits(self, _value: str, facts: Facts) -> list[str]:
        own = [
            hit.entry.term
            for hit in self._word_hits(facts.text)
            if hit.entry.category == ABUSE_CATEGORY
        ]
        return [f"abuse:{term}" for term in own] + [
            f"abuse:{phrase}" for phrase in self._abuse.found(facts.text)
        ]

    def _negative(self, _value: str, facts: Facts) -> list[str]:
        sentiment = facts.sentiment
        if sentiment is None and self.sentiment_of is not None:
            sentiment = self.sentiment_of(facts.text)
        return ["sentiment:negative"] if sentiment == "negative" else []

    def _author_kind(self, value: str, facts: Facts) -> list[str]:
        return [f"author:{facts.author_kind}"] if value and facts.author_kind == value else []


_CHECKS: dict[ConditionKind, Callable[[Screen, str, Facts], list[str]]] = {
    ConditionKind.SENSITIVE_WORD: Screen._sensitive,
    ConditionKind.LINK: Screen._link,
    ConditionKind.REPEATED_TEXT: Screen._repeated,
    ConditionKind.ADVERTISING: Screen._advertising,
    ConditionKind.ABUSE: Screen._abuse_hits,
    ConditionKind.NEGATIVE: Screen._negative,
    ConditionKind.AUTHOR_KIND: Screen._author_kind,
}


def fallback_sentiment(text: str) -> str:
    """A lexicon guess used when the NLP pipeline is not installed: negative when the text
    holds a common complaint word, else neutral."""
    return "negative" if builtin("negative").found(text) else "neutral"


Condition = tuple[ConditionKind, str]


def parse_conditions(conditions: Iterable[dict[str, str]]) -> tuple[Condition, ...]:
    """A rule's stored conditions as (kind, value) pairs, parsed once per batch rather than
    once per item. A condition of a kind this version does not know (a newer version's) is
    left out rather than fatal."""
    parsed = []
    for condition in conditions:
        try:
            kind = ConditionKind(str(condition.get("kind", "")))
        except ValueError:
            continue
        parsed.append((kind, str(condition.get("value", ""))))
    return tuple(parsed)


def conditions_met(
    screen: Screen, *, conditions: Iterable[Condition], match_all: bool, facts: Facts
) -> list[str]:
    """The reasons parsed ``conditions`` give for ``facts`` (empty when the rule does not
    fire: no condition met, or with ``match_all`` one not met)."""
    reasons: list[str] = []
    for kind, value in conditions:
        found = _CHECKS[kind](screen, value, facts)
        if found:
            reasons.extend(found)
        elif match_all:
            return []
    return reasons


def rule_matches(
    screen: Screen,
    *,
    conditions: Iterable[dict[str, str]],
    match_all: bool,
    facts: Facts,
) -> list[str]:
    """The reasons a rule fires for ``facts`` (empty when it does not)."""
    return conditions_met(
        screen, conditions=parse_conditions(conditions), match_all=match_all, facts=facts
    )


# What each kind of stored reason ("repeat:加微信领红包") says in words.
REASON_MESSAGES: dict[str, str] = {
    "word": N_("Sensitive word “{value}”"),
    "link": N_("Link “{value}”"),
    "repeat": N_("“{value}” repeated again and again"),
    "ad": N_("Advertising phrase “{value}”"),
    "abuse": N_("Insult “{value}”"),
    "sentiment": N_("Negative sentiment"),
    "author": N_("The author is marked as {value}"),
}


AUTHOR_KIND_NAMES: dict[str, str] = {str(kind): label for kind, label in PERSON_KIND_LABELS.items()}


def describe_reason(reason: str, translate: Callable[[str], str]) -> str:
    """A stored reason in words in the reader's language (an unknown kind shows as stored)."""
    if reason == SAME_TEXT_AGAIN:
        return translate(N_("The same text again from the same author"))
    kind, _, value = reason.partition(":")
    message = REASON_MESSAGES.get(kind)
    if message is None:
        return reason
    if kind == "author":
        value = translate(AUTHOR_KIND_NAMES.get(value, value))
    return translate(message).format(value=value)


def describe_reasons(reasons: Iterable[str], translate: Callable[[str], str]) -> str:
    """Several stored reasons in words, separated as the reader's language separates them."""
    return translate(N_("; ")).join(describe_reason(reason, translate) for reason in reasons)


def reasons_in_words(reasons: Iterable[str]) -> str:
    """``describe_reasons`` in the language of the page being drawn (templates call it)."""
    return describe_reasons(reasons, i18n.gettext)
