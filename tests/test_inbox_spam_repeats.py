"""The repeated-text (spam) condition: laughter and cheering are not spam, floods are; the
rule log says why in words, in both languages."""

from __future__ import annotations

import pytest

from guanxi.checks.words import CompiledWordList
from guanxi.core import i18n
from guanxi.inbox.triage.screening import (
    SAME_TEXT_AGAIN,
    ConditionKind,
    Facts,
    Screen,
    describe_reasons,
    repeated_phrase,
)

# What people write under a wine brand's post: laughter, cheering, emoticons, emphasis.
BENIGN = [
    "哈哈哈哈",
    "哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈",
    "233333333333",
    "hhhhhhhhhhhhhh 这个广告有点意思",
    "笑死",
    "笑死笑死笑死笑死笑死笑死",
    "hahahahahahahaha so true",
    "hiahiahiahiahiahia",
    "加油加油加油加油加油！",
    "好看好看好看好看",
    "啊啊啊啊啊啊啊啊啊啊啊啊好想喝",
    "！！！！！！！！！！",
    "。。。。。。。。。。。",
    "[赞][赞][赞][赞][赞][赞]",
    "[哈哈][哈哈][哈哈][哈哈]太逗了",
    "👍👍👍👍👍👍👍👍",
    "666666666666",
    "yyds，这瓶桃红真的好喝，下次还买",
    "配牛排绝了，上周买了两瓶，第二瓶送给了爸爸",
    "请问这款酒什么时候到货？双十一有优惠吗？",
]
# Floods of the same phrase, as bots post them.
SPAM = [
    "加微信领红包加微信领红包加微信领红包加微信领红包",
    "关注我领福利 关注我领福利 关注我领福利 关注我领福利",
    "低价代购正品低价代购正品低价代购正品低价代购正品",
    "clickmeclickmeclickmeclickme",
    "好评返现好评返现好评返现好评返现好评返现",
]


@pytest.mark.parametrize("text", BENIGN)
def test_laughter_cheering_and_ordinary_comments_are_not_spam(text: str) -> None:
    """Given a comment people write every day, the repeated-text condition stays quiet."""
    screen = Screen(words=CompiledWordList([]))
    assert screen.reasons(ConditionKind.REPEATED_TEXT, "", Facts(text=text)) == []


@pytest.mark.parametrize("text", SPAM)
def test_a_phrase_flooded_again_and_again_is_spam(text: str) -> None:
    """Given a phrase of three or more characters four times in a row, it is spam."""
    screen = Screen(words=CompiledWordList([]))
    reasons = screen.reasons(ConditionKind.REPEATED_TEXT, "", Facts(text=text))
    assert len(reasons) == 1
    assert reasons[0].startswith("repeat:")
    assert reasons[0].removeprefix("repeat:") in text


def test_the_repeated_phrase_is_the_unit_not_the_whole_run() -> None:
    """The reason names the phrase that repeats, so a person sees what was repeated."""
    assert repeated_phrase("好评返现好评返现好评返现好评返现好评返现") == "好评返现"


def test_reasons_read_as_words_in_english_and_chinese() -> None:
    """The rule log shows "“加微信领红包” repeated again and again", not "repeat:…"."""
    reasons = ["repeat:加微信领红包", SAME_TEXT_AGAIN, "link:t.cn/", "author:kol"]
    english = describe_reasons(reasons, lambda message: message)
    assert "repeat:" not in english
    assert "link:" not in english
    assert "“加微信领红包” repeated again and again" in english
    assert "The same text again from the same author" in english
    assert "KOL" in english
    i18n.set_language("zh_Hans")
    try:
        chinese = describe_reasons(reasons, i18n.gettext)
    finally:
        i18n.set_language("en")
    assert "repeat" not in chinese
    assert "again" not in chinese
    assert "加微信领红包" in chinese
