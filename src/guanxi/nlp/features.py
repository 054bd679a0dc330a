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

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

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
            found.update(map(str.__add__, word, word[1:]))
    if not NEGATORS.isdisjoint(found):
        negators = NEGATORS
        found.update(
            "!" + tokens[index + 1] for index in range(len(tokens) - 1) if tokens[index] in negators
        )
    if emoticons:
        found.update("[" + emoticon + "]" for emoticon in emoticons)
    return found
