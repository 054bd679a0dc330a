"""Custom metrics: a formula over the base metrics, read by a small parser of our own.

A formula is arithmetic and nothing else: numbers, the metric names (``views``, ``likes``,
``engagements``...), ``+ - * /`` (also ``− × ÷`` and their full-width forms, as a Chinese
keyboard types them), parentheses and a leading minus. It is tokenised and parsed by
recursive descent into a tree of four node types, which only this module evaluates: no
``eval``, no names but the metrics, no calls, no attributes. A formula that cannot be read
raises ``FormulaError`` with the 1-based column of the problem and what to change.

A figure the platform did not report makes the result unknown (None), as does a division
by zero: a ratio over no views is not zero, it is not there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from enum import StrEnum

from guanxi.core.errors import N_, UserError
from guanxi.measure.definitions import FORMULA_NAMES

MAX_LENGTH = 200  # characters, as stored
MAX_DEPTH = 12  # nested parentheses and minus signs
MAX_TOKENS = 80

_OPERATORS = {
    "+": "+",
    "＋": "+",
    "-": "-",
    "−": "-",
    "－": "-",
    "*": "*",
    "×": "*",
    "＊": "*",
    "·": "*",
    "/": "/",
    "÷": "/",
    "／": "/",
}
_OPENING = {"(", "（"}
_CLOSING = {")", "）"}
_SPACE = re.compile(r"[\s\u3000]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_NAME = re.compile(r"[^\W\d]\w*")
# A number glued to more digits or dots ("1.2.3"), read as one bad number.
_NUMBER_RUN = re.compile(r"[\d.]+")


class FormulaError(UserError):
    """A formula that cannot be read; ``column`` is where (1-based), as in the message."""

    def __init__(self, message: str, *, column: int, **params: object) -> None:
        super().__init__(message, column=column, **params)
        self.column = column


class TokenKind(StrEnum):
    """What a piece of a formula is."""

    NUMBER = "number"
    NAME = "name"
    OPERATOR = "operator"
    OPEN = "open"
    CLOSE = "close"
    END = "end"


@dataclass(frozen=True)
class Token:
    """A piece of a formula and its 1-based column."""

    kind: TokenKind
    text: str
    column: int


def tokenise(source: str) -> Iterator[Token]:
    """The formula's tokens, ending with an END token; FormulaError on a character that
    has no place in a formula (when the reading gets there: the parser reports the first
    problem from the left, whichever kind it is)."""
    position = 0
    while position < len(source):
        char = source[position]
        column = position + 1
        if space := _SPACE.match(source, position):
            position = space.end()
            continue
        if number := _NUMBER_RUN.match(source, position):
            text = number.group()
            if not _NUMBER.fullmatch(text):
                raise FormulaError(
                    N_("“{number}” at column {column} is not a number: write it like 12 or 0.5."),
                    column=column,
                    number=text,
                )
            yield Token(TokenKind.NUMBER, text, column)
            position = number.end()
            continue
        if name := _NAME.match(source, position):
            yield Token(TokenKind.NAME, name.group(), column)
            position = name.end()
            continue
        if char in _OPERATORS:
            yield Token(TokenKind.OPERATOR, _OPERATORS[char], column)
        elif char in _OPENING:
            yield Token(TokenKind.OPEN, char, column)
        elif char in _CLOSING:
            yield Token(TokenKind.CLOSE, char, column)
        else:
            raise FormulaError(
                N_(
                    "“{char}” at column {column} has no place in a formula: use numbers, "
                    "metric names, + − × ÷ and parentheses."
                ),
                column=column,
                char=char,
            )
        position += 1
    yield Token(TokenKind.END, "", len(source) + 1)


# --- The tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A constant."""

    value: float


@dataclass(frozen=True)
class Name:
    """A metric's value."""

    name: str


@dataclass(frozen=True)
class Negate:
    """A leading minus."""

    operand: Node


@dataclass(frozen=True)
class Binary:
    """``left operator right``, operator one of + - * /."""

    operator: str
    left: Node
    right: Node


Node = Number | Name | Negate | Binary

Figures = Mapping[str, float | int | None]


def evaluate(node: Node, figures: Figures) -> float | None:
    """The value of ``node`` with these figures; None when one it needs is missing, on a
    division by zero, or when the result is too large to be a figure."""
    value = _evaluate(node, figures)
    return value if value is not None and math.isfinite(value) else None


def _evaluate(node: Node, figures: Figures) -> float | None:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        found = figures.get(node.name)
        return None if found is None else float(found)
    if isinstance(node, Negate):
        operand = _evaluate(node.operand, figures)
        return None if operand is None else -operand
    left, right = _evaluate(node.left, figures), _evaluate(node.right, figures)
    if left is None or right is None:
        return None
    if node.operator == "+":
        return left + right
    if node.operator == "-":
        return left - right
    if node.operator == "*":
        return left * right
    return None if right == 0 else left / right


# --- The parser --------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the grammar:

    formula := sum END
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | NAME | "(" sum ")"
    """

    def __init__(self, tokens: Iterator[Token], names: frozenset[str]) -> None:
        self.tokens = tokens
        self.names = names
        self.read = 1
        self.depth = 0
        self.current = next(tokens)

    def advance(self) -> Token:
        """The current token; the next one becomes current."""
        token = self.current
        if token.kind is not TokenKind.END:
            self.current = next(self.tokens)
            self.read += 1
            if self.read > MAX_TOKENS and self.current.kind is not TokenKind.END:
                raise FormulaError(
                    N_(
                        "The formula has more than {limit} numbers, names and signs (from "
                        "column {column}): shorten it."
                    ),
                    column=self.current.column,
                    limit=MAX_TOKENS,
                )
        return token

    def formula(self) -> Node:
        node = self.sum()
        token = self.current
        if token.kind is TokenKind.CLOSE:
            raise FormulaError(
                N_("The “)” at column {column} closes nothing: remove it or add a “(” before."),
                column=token.column,
            )
        if token.kind is not TokenKind.END:
            raise FormulaError(
                N_(
                    "An operator is missing before “{token}” at column {column}: "
                    "add + − × or ÷ between the two."
                ),
                column=token.column,
                token=token.text,
            )
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.current.kind is TokenKind.OPERATOR and self.current.text in "+-":
            operator = self.advance().text
            node = Binary(operator, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.current.kind is TokenKind.OPERATOR and self.current.text in "*/":
            operator = self.advance().text
            node = Binary(operator, node, self.unary())
        return node

    def unary(self) -> Node:
        token = self.current
        if token.kind is TokenKind.OPERATOR and token.text == "-":
            self.advance()
            with_depth = self.deeper(token)
            node = Negate(self.unary())
            self.depth = with_depth
            return node
        return self.atom()

    def deeper(self, token: Token) -> int:
        """Enter one level of nesting; the depth to restore when leaving it."""
        if self.depth >= MAX_DEPTH:
            raise FormulaError(
                N_(
                    "The formula nests more than {limit} levels deep at column {column}: "
                    "remove some parentheses or minus signs."
                ),
                column=token.column,
                limit=MAX_DEPTH,
            )
        self.depth += 1
        return self.depth - 1

    def atom(self) -> Node:
        # The token is checked before the next one is read: its problem is further left.
        token = self.current
        if token.kind is TokenKind.NUMBER:
            self.advance()
            return Number(float(token.text))
        if token.kind is TokenKind.NAME:
            name = self.name(token)
            self.advance()
            return name
        if token.kind is TokenKind.OPEN:
            with_depth = self.deeper(token)
            self.advance()
            node = self.sum()
            if self.current.kind is not TokenKind.CLOSE:
                raise FormulaError(
                    N_(
                        "The “(” at column {column} is never closed: add a “)” where the part "
                        "it groups ends."
                    ),
                    column=token.column,
                )
            self.advance()
            self.depth = with_depth
            return node
        if token.kind is TokenKind.END:
            raise FormulaError(
                N_(
                    "The formula ends too early at column {column}: add a number or a metric "
                    "name after the last operator."
                ),
                column=token.column,
            )
        raise FormulaError(
            N_(
                "A number or a metric name is missing before “{token}” at column {column}: "
                "add one, or remove the “{token}”."
            ),
            column=token.column,
            token=token.text,
        )

    def name(self, token: Token) -> Name:
        if token.text in self.names:
            return Name(token.text)
        close = get_close_matches(token.text.lower(), self.names, n=1)
        if close:
            raise FormulaError(
                N_("“{name}” at column {column} is not a metric: did you mean “{suggestion}”?"),
                column=token.column,
                name=token.text,
                suggestion=close[0],
            )
        raise FormulaError(
            N_("“{name}” at column {column} is not a metric: use one of {names}."),
            column=token.column,
            name=token.text,
            names=", ".join(sorted(self.names)),
        )


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, its tree and the metrics it reads."""

    source: str
    tree: Node
    names: frozenset[str]

    def evaluate(self, figures: Figures) -> float | None:
        """The formula's value with these figures (see ``evaluate``)."""
        return evaluate(self.tree, figures)


def _names_in(node: Node) -> frozenset[str]:
    if isinstance(node, Name):
        return frozenset({node.name})
    if isinstance(node, Negate):
        return _names_in(node.operand)
    if isinstance(node, Binary):
        return _names_in(node.left) | _names_in(node.right)
    return frozenset()


def parse(source: str, *, names: frozenset[str] = FORMULA_NAMES) -> Formula:
    """The formula ``source`` parsed; FormulaError saying where and what to fix otherwise."""
    if not source.strip():
        raise FormulaError(
            N_("The formula is empty: write one, for example (likes + comments) / views."),
            column=1,
        )
    if len(source) > MAX_LENGTH:
        raise FormulaError(
            N_("The formula is longer than {limit} characters (from column {column}): shorten it."),
            column=MAX_LENGTH + 1,
            limit=MAX_LENGTH,
        )
    tree = _Parser(tokenise(source), names).formula()
    return Formula(source=source, tree=tree, names=_names_in(tree))
