"""Boolean topic queries: the language, its parser, and one matcher for all of a workspace's.

The language (documented for users in docs/listening-insights.md)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          # two terms side by side mean AND
    unary   := "NOT" unary | near
    near    := atom ["NEAR/n" atom]            # both sides a word or a "phrase"
    atom    := "(" or ")" | word | "phrase" | field:value
    field   := author | platform | lang

Operators are written in capitals (``and`` in lower case is an ordinary word); full-width
parentheses and Chinese quotes (（ ） “ ”) are accepted. ``word*`` matches any word that
starts with ``word``. Words and phrases match case-insensitively on the text normalised to
Simplified characters (``guanxi.checks.words.normalize``, which keeps every character in
place, so a match's position is its position in the original text). A Latin word matches
whole words only (``tea`` is not found in ``steam``); Chinese has no spaces, so a Chinese
word matches anywhere.

``a NEAR/n b`` holds when an occurrence of ``a`` and one of ``b`` (either order) are at most
``n`` words apart, counting each Chinese character and each Latin word as one.

Matching: every word and phrase of every query goes into ONE Aho-Corasick automaton, so a
text is scanned once whatever the number of queries, and only the queries that contain a
word found in the text (plus those that can hold without any, such as ``NOT x``) are
evaluated. 1,000 queries cost about as much as 10 (``guanxi bench dashboard`` measures it).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import ahocorasick

from guanxi.checks.words import normalize
from guanxi.core.errors import N_, UserError

FIELDS = ("author", "platform", "lang")
MAX_QUERY_LENGTH = 2000
MAX_NEAR = 100
MAX_NESTING = 32  # groups and NOTs inside each other: every step that walks the query recurses
# Full-width punctuation that Chinese keyboards produce, read as its ASCII twin.
_EQUIVALENTS = {"（": "(", "）": ")", "“": '"', "”": '"', "＂": '"'}
_NEAR = re.compile(r"NEAR(?:/(\d+))?$")


class QuerySyntaxError(UserError):
    """A query that cannot be read; ``column`` (1-based) says where, ``pointer`` shows it."""

    def __init__(self, message: str, *, query: str, column: int, **params: object) -> None:
        super().__init__(message, column=column, **params)
        self.query = query
        self.column = column

    @property
    def pointer(self) -> str:
        """The query on one line and a caret under the offending character."""
        line = self.query.replace("\n", " ")
        before = line[: self.column - 1]
        # Chinese characters take two columns in a monospaced font.
        width = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in before)
        return f"{line}\n{' ' * width}^"


# --- The syntax tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word or phrase to find; ``key`` is its normalised form, the automaton's key."""

    text: str
    key: str
    prefix: bool = False  # "word*": the end of the match needs no word boundary


@dataclass(frozen=True)
class Near:
    """Two terms at most ``distance`` words apart."""

    left: Term
    right: Term
    distance: int


@dataclass(frozen=True)
class Field:
    """A condition on the mention rather than its text: ``author:``, ``platform:``, ``lang:``."""

    name: str
    value: str


@dataclass(frozen=True)
class Not:
    """The child does not hold."""

    child: Node


@dataclass(frozen=True)
class And:
    """Every child holds."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child holds."""

    children: tuple[Node, ...]


Node = Term | Near | Field | Not | And | Or


@dataclass(frozen=True)
class Query:
    """A parsed query: its tree and the terms it looks for."""

    source: str
    root: Node

    @property
    def terms(self) -> tuple[Term, ...]:
        """Every term of the query, in order of appearance, without repeats."""
        found: dict[tuple[str, bool], Term] = {}
        _collect_terms(self.root, found)
        return tuple(found.values())

    @property
    def needs_a_term(self) -> bool:
        """True when the query cannot hold unless one of its positive terms is in the text."""
        return _needs_a_term(self.root)


def _collect_terms(node: Node, found: dict[tuple[str, bool], Term]) -> None:
    if isinstance(node, Term):
        found.setdefault((node.key, node.prefix), node)
    elif isinstance(node, Near):
        _collect_terms(node.left, found)
        _collect_terms(node.right, found)
    elif isinstance(node, Not):
        _collect_terms(node.child, found)
    elif isinstance(node, And | Or):
        for child in node.children:
            _collect_terms(child, found)


def _needs_a_term(node: Node) -> bool:
    if isinstance(node, Term | Near):
        return True
    if isinstance(node, Field | Not):
        return False
    if isinstance(node, And):
        return any(_needs_a_term(child) for child in node.children)
    return all(_needs_a_term(child) for child in node.children)


# --- Reading a query -------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "NEAR", "WORD", "PHRASE", "FIELD", "END"
    value: str
    column: int
    number: int = 0
    field_name: str = ""


def _tokenize(source: str) -> list[_Token]:
    text = "".join(_EQUIVALENTS.get(char, char) for char in source)
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        column = index + 1
        if char.isspace():
            index += 1
        elif char in "()":
            tokens.append(_Token(char, char, column))
            index += 1
        elif char == '"':
            value, index = _read_phrase(text, index, source)
            tokens.append(_Token("PHRASE", value, column))
        else:
            start = index
            while index < len(text) and not text[index].isspace() and text[index] not in '()"':
                index += 1
            word = text[start:index]
            name, colon, rest = word.partition(":")
            if colon and name.lower() in FIELDS:
                if not rest and index < len(text) and text[index] == '"':
                    rest, index = _read_phrase(text, index, source)
                if not rest.strip():
                    raise QuerySyntaxError(
                        N_("Column {column}: “{field}:” needs a value, such as {field}:weibo."),
                        query=source,
                        column=column,
                        field=name.lower(),
                    )
                tokens.append(_Token("FIELD", rest.strip(), column, field_name=name.lower()))
            elif colon and name.isascii() and name.isalpha() and not rest.startswith("//"):
                raise QuerySyntaxError(
                    N_(
                        "Column {column}: “{field}:” is not a field guanxi knows. Use author:, "
                        "platform: or lang:, or put the text in quotes."
                    ),
                    query=source,
                    column=column,
                    field=name,
                )
            else:
                tokens.append(_word_token(word, column, source))
    tokens.append(_Token("END", "", len(text) + 1))
    return tokens


def _read_phrase(text: str, index: int, source: str) -> tuple[str, int]:
    """The quoted text starting at ``text[index] == '"'`` and the index after its end."""
    end = text.find('"', index + 1)
    if end < 0:
        raise QuerySyntaxError(
            N_('Column {column}: this quotation mark is never closed. Add the closing “"”.'),
            query=source,
            column=index + 1,
        )
    value = text[index + 1 : end]
    if not value.strip():
        raise QuerySyntaxError(
            N_("Column {column}: the quotation marks are empty. Put a phrase between them."),
            query=source,
            column=index + 1,
        )
    return value, end + 1


def _word_token(word: str, column: int, source: str) -> _Token:
    if word in ("AND", "OR", "NOT"):
        return _Token(word, word, column)
    if word.startswith("NEAR"):
        near = _NEAR.match(word)
        if near is None or near.group(1) is None or not 0 < int(near.group(1)) <= MAX_NEAR:
            raise QuerySyntaxError(
                N_(
                    "Column {column}: write NEAR with a distance from 1 to {maximum}, "
                    "such as NEAR/5."
                ),
                query=source,
                column=column,
                maximum=MAX_NEAR,
            )
        return _Token("NEAR", word, column, number=int(near.group(1)))
    return _Token("WORD", word, column)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.position = 0
        self.depth = 0  # groups and NOTs open around the current token

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def error(self, message: str, token: _Token, **params: object) -> QuerySyntaxError:
        return QuerySyntaxError(message, query=self.source, column=token.column, **params)

    def parse(self) -> Node:
        if self.current.kind == "END":
            raise self.error(N_("The query is empty. Type the words to look for."), self.current)
        node = self.parse_or()
        if self.current.kind == ")":
            raise self.error(
                N_("Column {column}: this “)” closes nothing. Remove it or add a “(” before."),
                self.current,
            )
        if self.current.kind != "END":
            raise self.error(
                N_("Column {column}: unexpected “{text}”."), self.current, text=self.current.value
            )
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.current.kind == "OR":
            self.advance()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while self.current.kind not in ("OR", ")", "END"):
            if self.current.kind == "AND":
                self.advance()
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        if self.current.kind == "NOT":
            self.enter(self.advance())
            node = Not(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_near()

    def enter(self, token: _Token) -> None:
        """Go one level deeper (a group or a NOT), refusing more than ``MAX_NESTING``."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(
                N_(
                    "Column {column}: groups and NOTs nest at most {maximum} deep here. "
                    "Write the query with fewer levels."
                ),
                token,
                maximum=MAX_NESTING,
            )

    def parse_near(self) -> Node:
        left_token = self.current
        left = self.parse_atom()
        if self.current.kind != "NEAR":
            return left
        near = self.advance()
        right_token = self.current
        right = self.parse_atom()
        for node, token in ((left, left_token), (right, right_token)):
            if not isinstance(node, Term):
                raise self.error(
                    N_("Column {column}: NEAR joins two words or phrases, not a group or a field."),
                    token,
                )
        if self.current.kind == "NEAR":
            raise self.error(
                N_("Column {column}: NEAR joins only two words; combine pairs with AND."),
                self.current,
            )
        assert isinstance(left, Term)
        assert isinstance(right, Term)
        return Near(left, right, near.number)

    def parse_atom(self) -> Node:
        token = self.current
        if token.kind == "(":
            self.enter(self.advance())
            if self.current.kind == ")":
                raise self.error(
                    N_("Column {column}: the parentheses are empty. Put words between them."),
                    token,
                )
            node = self.parse_or()
            if self.current.kind != ")":
                raise self.error(
                    N_("Column {column}: this “(” is never closed. Add the closing “)”."), token
                )
            self.advance()
            self.depth -= 1
            return node
        if token.kind in ("WORD", "PHRASE"):
            self.advance()
            return _term(token)
        if token.kind == "FIELD":
            self.advance()
            return Field(token.field_name, normalize(token.value))
        if token.kind == "END":
            raise self.error(
                N_("Column {column}: the query ends where a word was expected. Add one."), token
            )
        raise self.error(
            N_("Column {column}: a word or phrase is expected before “{text}”."),
            token,
            text=token.value,
        )


def _term(token: _Token) -> Term:
    text = token.value
    prefix = token.kind == "WORD" and text.endswith("*") and len(text) > 1
    key = normalize(text.rstrip("*") if prefix else text)
    return Term(text=text, key=key, prefix=prefix)


def parse_query(source: str) -> Query:
    """Parse ``source``; a mistake raises QuerySyntaxError saying where (column and caret)."""
    if len(source) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(
            N_("Column {column}: a query holds at most {maximum} characters. Split it in two."),
            query=source[:MAX_QUERY_LENGTH],
            column=MAX_QUERY_LENGTH,
            maximum=MAX_QUERY_LENGTH,
        )
    return Query(source=source, root=_Parser(source).parse())


# --- Matching --------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionFacts:
    """What a query looks at in one mention."""

    text: str
    platform: str = ""
    language: str = ""
    author_names: tuple[str, ...] = ()  # name and platform id of the author


@dataclass(frozen=True)
class QueryMatch:
    """A query that holds for a mention, with what to highlight in the original text."""

    query_id: int
    terms: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]


@dataclass
class _Context:
    facts: MentionFacts
    hits: Mapping[tuple[str, bool], list[tuple[int, int]]]
    units: list[int] = field(default_factory=list)  # units[i]: words that start before i


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _word_units(text: str) -> list[int]:
    """units[i] = the number of words (Chinese characters, Latin words) starting before i."""
    units = [0]
    previous = ""
    for char in text:
        starts = (_is_word_char(char) and not _is_word_char(previous)) or (
            not char.isascii() and char.isalnum()
        )
        units.append(units[-1] + (1 if starts else 0))
        previous = char
    return units


def _evaluate(node: Node, context: _Context) -> bool:
    if isinstance(node, Term):
        return bool(context.hits.get((node.key, node.prefix)))
    if isinstance(node, Near):
        return _near(node, context)
    if isinstance(node, Field):
        facts = context.facts
        if node.name == "platform":
            return normalize(facts.platform) == node.value
        if node.name == "lang":
            return normalize(facts.language) == node.value
        return any(normalize(name) == node.value for name in facts.author_names)
    if isinstance(node, Not):
        return not _evaluate(node.child, context)
    if isinstance(node, And):
        return all(_evaluate(child, context) for child in node.children)
    return any(_evaluate(child, context) for child in node.children)


def _near(node: Near, context: _Context) -> bool:
    lefts = context.hits.get((node.left.key, node.left.prefix), [])
    rights = context.hits.get((node.right.key, node.right.prefix), [])
    if not lefts or not rights:
        return False
    if not context.units:
        context.units = _word_units(context.facts.text)
    units = context.units
    for left_start, left_end in lefts:
        for right_start, right_end in rights:
            if left_end <= right_start:
                gap = units[right_start] - units[left_end]
            elif right_end <= left_start:
                gap = units[left_start] - units[right_end]
            else:
                gap = 0  # overlapping occurrences are as near as can be
            if gap <= node.distance:
                return True
    return False


def _positive_terms(node: Node, found: dict[tuple[str, bool], Term]) -> None:
    """The terms whose presence counts for a match (those under NOT do not)."""
    if isinstance(node, Term):
        found.setdefault((node.key, node.prefix), node)
    elif isinstance(node, Near):
        _positive_terms(node.left, found)
        _positive_terms(node.right, found)
    elif isinstance(node, And | Or):
        for child in node.children:
            _positive_terms(child, found)


class QueryMatcher:
    """All of a workspace's queries in one automaton: build once, match many mentions."""

    def __init__(self, queries: Mapping[int, Query]) -> None:
        self._queries = dict(queries)
        self._highlight: dict[int, tuple[Term, ...]] = {}
        self._by_key: dict[tuple[str, bool], set[int]] = defaultdict(set)
        self._always: list[int] = []  # queries that can hold with none of their terms found
        patterns: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        for query_id, query in self._queries.items():
            found: dict[tuple[str, bool], Term] = {}
            _positive_terms(query.root, found)
            self._highlight[query_id] = tuple(found.values())
            for term in query.terms:
                self._by_key[(term.key, term.prefix)].add(query_id)
                if (term.key, term.prefix) not in patterns[term.key]:
                    patterns[term.key].append((term.key, term.prefix))
            if not query.needs_a_term:
                self._always.append(query_id)
        self._automaton = ahocorasick.Automaton()
        for key, variants in patterns.items():
            self._automaton.add_word(key, (len(key), tuple(variants)))
        self._empty = not patterns
        if not self._empty:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._queries)

    def _hits(self, text: str) -> dict[tuple[str, bool], list[tuple[int, int]]]:
        hits: dict[tuple[str, bool], list[tuple[int, int]]] = defaultdict(list)
        if self._empty or not text:
            return hits
        normalized = normalize(text)
        for last, (length, variants) in self._automaton.iter(normalized):
            start, end = last - length + 1, last + 1
            # Latin words match whole words only: no letter or digit glued on either side.
            if (
                _is_word_char(normalized[start])
                and start > 0
                and _is_word_char(normalized[start - 1])
            ):
                continue
            glued_after = (
                _is_word_char(normalized[end - 1])
                and end < len(normalized)
                and _is_word_char(normalized[end])
            )
            for key, prefix in variants:
                if prefix or not glued_after:
                    hits[(key, prefix)].append((start, end))
        return hits

    def match(self, facts: MentionFacts) -> list[QueryMatch]:
        """The queries that hold for this mention, in id order, with their highlights."""
        hits = self._hits(facts.text)
        candidates = set(self._always)
        for key in hits:
            candidates.update(self._by_key.get(key, ()))
        context = _Context(facts=facts, hits=hits)
        matches = []
        for query_id in sorted(candidates):
            if not _evaluate(self._queries[query_id].root, context):
                continue
            terms, spans = [], []
            for term in self._highlight[query_id]:
                found = hits.get((term.key, term.prefix))
                if found:
                    terms.append(term.text)
                    spans.extend(found)
            matches.append(QueryMatch(query_id, tuple(terms), tuple(sorted(set(spans)))))
        return matches


def matches(query: str | Query, facts: MentionFacts) -> bool:
    """Whether one query holds for one mention (for tests and one-off checks)."""
    parsed = parse_query(query) if isinstance(query, str) else query
    return bool(QueryMatcher({0: parsed}).match(facts))


def compile_queries(sources: Iterable[tuple[int, str]]) -> QueryMatcher:
    """A matcher for ``(id, query text)`` pairs; raises on the first invalid query."""
    return QueryMatcher({query_id: parse_query(text) for query_id, text in sources})
