"""Keywords: the words of a text ranked by TF-IDF against a shipped document-frequency table.

The IDF table (``data/keyword-idf.tsv.gz``, word TAB idf) is built by ``guanxi nlp train``
from the same corpora as the sentiment model. A word missing from the table is rare, so it
gets the table's highest IDF: new brand and product names rank high, which is what a
listening dashboard wants. Stop words, numbers, single characters and punctuation never
become keywords.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from guanxi.nlp.pipeline import Work

IDF_FILE = "keyword-idf.tsv.gz"
KEYWORDS_PER_TEXT = 5
# Frequent function words that the IDF alone does not push down far enough.
_STOP_WORDS_TEXT = (
    "的 了 是 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 就 都 也 还 "
    "在 有 和 与 及 或 但 但是 而 而且 因为 所以 如果 就是 还是 不是 没有 "
    "什么 怎么 一个 一下 一些 自己 现在 今天 已经 可以 真的 非常 这么 那么 "
    "然后 觉得 感觉 东西 时候 知道 还有 这样 那样 啊 吧 呢 吗 哦 嗯 哈 哈哈 "
    "哈哈哈 呀 啦 嘛 的话 之后 以后 一样 只是 只有 一直 其实 比较 特别 "
    "what the and for with this that have you "
    "are was not but just http https www com cn"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class IdfTable:
    """Inverse document frequencies, and the one for words not in the table."""

    idf: dict[str, float]
    unknown: float
    memo: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


def idf_path() -> Path:
    """Where the shipped IDF table lives."""
    return Path(str(resources.files("guanxi.nlp") / "data" / IDF_FILE))


@cache
def load_idf(path: Path | None = None) -> IdfTable:
    """The IDF table at ``path`` (the shipped one by default); empty when there is none yet,
    so every word counts alike until ``guanxi nlp train`` has built it."""
    path = path or idf_path()
    idf: dict[str, float] = {}
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as file:
            for line in file:
                word, _, value = line.rstrip("\n").partition("\t")
                if value:
                    idf[word] = float(value)
    # Every word of the table weighed in advance: the first posts enriched (the bench's, a
    # pull's) do not pay for the table's words one by one.
    memo = {word: value if _candidate(word) else 0.0 for word, value in idf.items()}
    return IdfTable(idf=idf, unknown=max(idf.values(), default=1.0), memo=memo)


def _candidate(token: str) -> bool:
    if token in STOP_WORDS or token.isdigit():
        return False
    if token.isascii():
        return len(token) >= 3 and token.isalnum()
    return len(token) >= 2 and any(char.isalpha() for char in token)


# A token's weight (its IDF, 0 when it cannot be a keyword), memoised: the vocabulary of real
# posts is small next to their number. Bounded so odd input cannot grow it without end.
_MAX_MEMO = 500_000


def keywords(
    tokens: Sequence[str], table: IdfTable, *, limit: int = KEYWORDS_PER_TEXT
) -> list[str]:
    """The ``limit`` words of ``tokens`` (lowercase) with the highest TF-IDF (ties: first
    seen first)."""
    memo = table.memo
    get = memo.get
    scores: dict[str, float] = {}
    for token in tokens:
        weight = get(token)
        if weight is None:
            weight = table.idf.get(token, table.unknown) if _candidate(token) else 0.0
            if len(memo) < _MAX_MEMO:
                memo[token] = weight
        if weight:
            scores[token] = scores.get(token, 0.0) + weight
    # sorted() is stable: equal scores keep their first-seen order.
    return sorted(scores, key=scores.__getitem__, reverse=True)[:limit]


class KeywordStep:
    """The text's top words by TF-IDF."""

    name = "keywords"

    def __init__(self, *, idf_file: Path | None = None) -> None:
        self._path = idf_file
        self._table: IdfTable | None = None

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every text gets its keywords (none for an empty one)."""
        return True

    def setup(self) -> None:
        """Load the IDF table (once)."""
        if self._table is None:
            self._table = load_idf(self._path)

    def version(self) -> str:
        """Built with the sentiment model, versioned with it."""
        return ""

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``keywords``."""
        self.setup()
        assert self._table is not None
        for work in batch:
            work.keywords = keywords(work.tokens, self._table)
