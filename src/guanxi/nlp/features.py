"""The sentiment model's features, shared by training and scoring so they cannot drift.

Robust over domains rather than tuned to one corpus, and cheap (this runs once per post at
10,000+ posts/s, so it is kept to set operations and one short loop):

- the words the model knows (seen in at least two training texts), lowercase;
- a word it does not know (a new brand, slang, a segmentation slip) backs off to its
  character bigrams, so 超好吃 still reads through 超好 and 好吃;
- a negation mark on the word after a negator (不 好 → ``!好``);
- Weibo emoticons ``[哈哈]`` as their own features.

Features are binary (present or not), so a long review does not outweigh a short post.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from itertools import accumulate

# Words that turn the meaning of the next word around.
NEGATORS = frozenset(
    {
        "不",
        "没",
        "没有",
        "别",
        "不是",
        "无",
        "未",
        "并不",
        "不太",
        "不会",
        "不能",
        "毫无",
        "从不",
        "从来不",
        "不够",
        "不怎么",
        "一点也不",
        "一点都不",
        "never",
        "not",
        "no",
        "don't",
    }
)


def bigrams(word: str) -> map[str]:
    """The character bigrams of ``word``, in order."""
    return map(str.__add__, word, word[1:])


def sentiment_features(
    tokens: Sequence[str], emoticons: Sequence[str], known_words: AbstractSet[str]
) -> set[str]:
    """The features of one text (see the module docstring); ``tokens`` are lowercase."""
    found = set(tokens)
    # Set operations run in C; only the few unknown long words take the Python loop.
    long_unknown = [word for word in found.difference(known_words) if len(word) >= 3]
    if long_unknown:
        found.difference_update(long_unknown)
        for word in long_unknown:
            found.update(bigrams(word))
    if not NEGATORS.isdisjoint(found):
        negators = NEGATORS
        found.update(
            "!" + tokens[index + 1] for index in range(len(tokens) - 1) if tokens[index] in negators
        )
    if emoticons:
        found.update("[" + emoticon + "]" for emoticon in emoticons)
    return found


# --- Source kind and journey stage (guanxi.nlp.linear models) -------------------------------

# Only the start of a long text is read: what a post is and who speaks show early, and a
# 10,000-character review must not cost a hundred posts' time.
TEXT_WINDOW = 160
PROFILE_WINDOW = 120
# Words of an account's name, verification or description that say what the account is.
ACCOUNT_CUES = (
    "官方",
    "官微",
    "旗舰店",
    "专卖店",
    "店",
    "公司",
    "集团",
    "品牌",
    "日报",
    "晚报",
    "新闻",
    "电视台",
    "频道",
    "记者",
    "编辑",
    "主持人",
    "媒体",
    "政务",
    "公安",
    "发布",
    "协会",
    "研究",
    "博主",
    "达人",
    "测评",
    "作者",
    "医生",
    "律师",
    "教授",
    "工作室",
    "客服",
)


def _bigrams(text: str) -> list[str]:
    return list(map(str.__add__, text, text[1:]))


PRICE_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:元|块|rmb)|[¥￥]\s*\d")
PHONE_RE = re.compile(r"\d{7,}")
# The longest character n-gram read from the text. Every other feature's name has 4 or more
# characters (a prefix and a colon first), so a name of 1 to 3 characters is an n-gram:
# scoring finds n-grams in numpy and the other features in a dictionary.
MAX_GRAM = 3


def text_window(normalized_text: str) -> str:
    """The part of the text the models read: its start, lowercase."""
    return normalized_text[:TEXT_WINDOW].lower()


def text_grams(window: str) -> list[str]:
    """The character 1-, 2- and 3-grams of ``window``, each as often as it occurs (for
    training and for the readable reasons; scoring computes the same in numpy,
    ``gram_codes``)."""
    return [
        *window,
        *map(str.__add__, window, window[1:]),
        *map("".join, zip(window, window[1:], window[2:], strict=False)),
    ]


def gram_code(gram: str) -> int:
    """An n-gram of 1 to 3 characters as one int64: (code point + 1) per character, 21 bits
    each, so grams of different lengths never share a code."""
    code = 0
    for char in gram:
        code = (code << 21) | (ord(char) + 1)
    return code


def named_text_features(
    window: str, emoticons: Sequence[str], *, mentions: int, urls: int, hashtags: int
) -> list[str]:
    """The text's features that are not n-grams: its Weibo emoticons, whether it mentions,
    links, tags, quotes a headline (【】), a price or a long number."""
    return marked_features(
        window,
        emoticons,
        mentions=mentions,
        urls=urls,
        hashtags=hashtags,
        price=PRICE_RE.search(window) is not None,
        number=PHONE_RE.search(window) is not None,
    )


def marked_features(
    window: str,
    emoticons: Sequence[str],
    *,
    mentions: int,
    urls: int,
    hashtags: int,
    price: bool,
    number: bool,
) -> list[str]:
    """``named_text_features`` with whether the window has a price and a long number given
    (found for a whole batch by ``texts_matching``)."""
    features = ["emo:" + emoticon for emoticon in set(emoticons)]
    if mentions:
        features.append("has:mention")
    if urls:
        features.append("has:url")
    if hashtags:
        features.append("has:topic")
    if "【" in window:
        features.append("has:headline")
    if price:
        features.append("has:price")
    if number:
        features.append("has:number")
    return features


def texts_matching(pattern: re.Pattern[str], texts: Sequence[str]) -> list[bool]:
    """Whether ``pattern`` (which matches no NUL) finds a match in each of ``texts``, in one
    scan of the texts joined by NULs (a match cannot cross one): one call for a batch
    instead of one a text."""
    found = [False] * len(texts)
    if not texts:
        return found
    ends = list(accumulate(len(text) + 1 for text in texts))  # each text's NUL, exclusive
    text = 0
    for match in pattern.finditer("\x00".join(texts)):
        start = match.start()
        if start >= ends[text]:
            text = bisect_right(ends, start, lo=text)
        found[text] = True
    return found


def text_features(
    normalized_text: str,
    emoticons: Sequence[str],
    *,
    mentions: int,
    urls: int,
    hashtags: int,
) -> list[str]:
    """What the text says, for the source-kind and stage models, as strings: the character
    1- to 3-grams of its start (counted: a repeated gram is listed again; whole-text features
    need no segmentation, so unknown words and phrases count too) and
    ``named_text_features``."""
    window = text_window(normalized_text)
    return text_grams(window) + named_text_features(
        window, emoticons, mentions=mentions, urls=urls, hashtags=hashtags
    )


def author_features(
    verified_type: int | None,
    verified_reason: str,
    author_name: str,
    description: str,
    followers: int | None,
) -> list[str]:
    """Who the author is, when known: the Weibo verified_type (``vt:``), the character
    bigrams of the verification reason (``r:``), account name (``n:``) and description
    (``d:``), the account cue words in them (``cue:``), and the followers in powers of ten
    (``fol:``); nothing when nothing is known (whether a profile is known says where a post
    was collected, not who wrote it)."""
    nothing = verified_type is None and followers is None
    if nothing and not (verified_reason or author_name or description):
        return []  # most posts: nothing known of the author
    features: list[str] = []
    if verified_type is not None:
        features.append(f"vt:{verified_type}")
    for prefix, text in (("r:", verified_reason), ("n:", author_name), ("d:", description)):
        window = text[:PROFILE_WINDOW].lower()
        if not window.strip():
            continue
        # Each bigram once, in the order of the text (a set's order changes from one process
        # to the next, and so would the reason shown when two features weigh the same).
        features.extend(dict.fromkeys(prefix + bigram for bigram in _bigrams(window)))
        features.extend(prefix + "cue:" + cue for cue in ACCOUNT_CUES if cue in window)
    if followers is not None:
        features.append(f"fol:{len(str(max(0, followers)))}")
    return features
