"""The topic query language: parsing, errors that point at the column, and matching."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.listening.topics.queries import (
    And,
    Field,
    MentionFacts,
    Near,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    compile_queries,
    matches,
    parse_query,
)


def facts(text: str, **others: object) -> MentionFacts:
    """A mention with ``text`` (and platform, language, author names if given)."""
    return MentionFacts(text=text, **others)  # type: ignore[arg-type]


# --- Parsing ---------------------------------------------------------------------------


def test_precedence_not_binds_tightest_then_and_then_or() -> None:
    root = parse_query("a OR b AND NOT c").root
    assert isinstance(root, Or)
    first, second = root.children
    assert first == Term("a", "a")
    assert isinstance(second, And)
    assert second.children[1] == Not(Term("c", "c"))


def test_juxtaposed_terms_mean_and_and_parentheses_group() -> None:
    root = parse_query("星巴克 (拿铁 OR 美式)").root
    assert isinstance(root, And)
    assert isinstance(root.children[1], Or)


def test_phrases_fields_near_and_prefix() -> None:
    root = parse_query(
        '"food safety" author:"人民日报" platform:Weibo lang:zh tea NEAR/3 price'
    ).root
    assert isinstance(root, And)
    phrase, author, platform, lang, near = root.children
    assert phrase == Term("food safety", "food safety")
    assert author == Field("author", "人民日报")
    assert platform == Field("platform", "weibo")
    assert lang == Field("lang", "zh")
    assert near == Near(Term("tea", "tea"), Term("price", "price"), 3)
    assert parse_query("star*").root == Term("star*", "star", prefix=True)


def test_full_width_brackets_and_chinese_quotes_are_accepted() -> None:
    root = parse_query("（瑞幸 OR 星巴克） “食品 安全”").root
    assert isinstance(root, And)
    assert root.children[1] == Term("食品 安全", "食品 安全")


def test_lower_case_and_is_a_word() -> None:
    assert parse_query("salt and pepper").root == And(
        (Term("salt", "salt"), Term("and", "and"), Term("pepper", "pepper"))
    )


@pytest.mark.parametrize(
    ("query", "column", "words"),
    [
        ("", 1, "empty"),
        ("咖啡 AND", 7, "ends where a word"),
        ("(咖啡 OR 茶", 1, "never closed"),
        ("咖啡)", 3, "closes nothing"),
        ('咖啡 "食品安全', 4, "quotation mark"),
        ("咖啡 OR OR 茶", 7, "word or phrase is expected"),
        ("foo:bar", 1, "not a field"),
        ("a NEAR b", 3, "NEAR/5"),
        ("a NEAR/0 b", 3, "NEAR/5"),
        ("a NEAR/3 (b OR c)", 10, "two words or phrases"),
        ("a NEAR/3 b NEAR/3 c", 12, "only two words"),
        ("platform:", 1, "needs a value"),
        ("()", 1, "parentheses are empty"),
        ('a ""', 3, "quotation marks are empty"),
    ],
)
def test_errors_point_at_the_column(query: str, column: int, words: str) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query(query)
    assert raised.value.column == column
    assert words in str(raised.value)


def test_the_caret_sits_under_the_column_even_after_chinese_characters() -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query("食品安全 AND )")
    # Four Chinese characters are eight columns wide in a terminal, then " AND ".
    assert raised.value.pointer == "食品安全 AND )\n" + " " * 13 + "^"


def test_error_message_translates_with_its_column() -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query("(a")
    translated = raised.value.translated(lambda message: message.replace("Column", "第"))
    assert translated.startswith("第 1:")


# --- Matching --------------------------------------------------------------------------


def test_chinese_matches_inside_words_and_across_scripts() -> None:
    assert matches("食品安全", facts("关注食品安全问题"))
    assert matches("食品安全", facts("關注食品安全問題"))  # Traditional text
    assert matches("質量", facts("质量很好"))  # Traditional query, Simplified text


def test_latin_is_case_insensitive_and_whole_word() -> None:
    assert matches("starbucks", facts("I love STARBUCKS!"))
    assert not matches("tea", facts("steam engine"))
    assert not matches("tea", facts("teapot"))
    assert matches("tea*", facts("teapot"))
    assert matches("tea", facts("喝tea了"))  # Chinese around a Latin word is a boundary


def test_not_and_or() -> None:
    query = "星巴克 AND NOT 广告"
    assert matches(query, facts("星巴克很好喝"))
    assert not matches(query, facts("星巴克广告"))
    assert matches("NOT 广告", facts("随便说说"))
    assert matches("咖啡 OR 茶", facts("喝茶"))


def test_near_counts_chinese_characters_and_latin_words() -> None:
    assert matches("价格 NEAR/2 太贵", facts("价格真的太贵"))
    assert not matches("价格 NEAR/1 太贵", facts("价格真的太贵"))
    assert matches("太贵 NEAR/2 价格", facts("价格真的太贵"))  # either order
    assert matches("tea NEAR/2 price", facts("the tea has a price"))
    assert not matches("tea NEAR/1 price", facts("the tea has a price"))


def test_fields_look_at_the_mention_not_the_text() -> None:
    mention = facts(
        "新品", platform="weibo", language="zh", author_names=("人民日报", "2803301701")
    )
    assert matches("platform:weibo 新品", mention)
    assert not matches("platform:douyin", mention)
    assert matches("lang:zh", mention)
    assert matches('author:"人民日报"', mention)
    assert matches("author:2803301701", mention)
    assert not matches("author:新华社", mention)


def test_one_matcher_for_many_queries_reports_terms_and_spans() -> None:
    matcher = compile_queries(
        [
            (1, "星巴克 OR starbucks"),
            (2, "瑞幸"),
            (3, "NOT 咖啡"),
            (4, '"food safety" 星巴克'),
        ]
    )
    found = matcher.match(facts("Starbucks 和星巴克: food safety"))
    assert [m.query_id for m in found] == [1, 3, 4]
    assert found[0].terms == ("星巴克", "starbucks")
    assert found[0].spans == ((0, 9), (11, 14))
    assert found[1].spans == ()  # a negation highlights nothing
    assert found[2].spans == ((11, 14), (16, 27))


def test_many_queries_share_one_automaton() -> None:
    queries = [(index, f"品牌{index} AND NOT 广告") for index in range(1000)]
    matcher = compile_queries(queries)
    assert len(matcher) == 1000
    assert [m.query_id for m in matcher.match(facts("品牌7 很好"))] == [7]


# --- Properties ------------------------------------------------------------------------

WORDS = st.sampled_from(["咖啡", "茶", "价格", "coffee", "tea", "安全", "好"])


@st.composite
def queries(draw: st.DrawFn, depth: int = 0) -> str:
    """Random valid queries built from the grammar."""
    if depth > 2 or draw(st.booleans()):
        return draw(WORDS)
    kind = draw(st.sampled_from(["AND", "OR", "NOT", "()", "NEAR"]))
    if kind == "NOT":
        return f"NOT {draw(queries(depth + 1))}"
    if kind == "()":
        return f"({draw(queries(depth + 1))})"
    if kind == "NEAR":
        return f"{draw(WORDS)} NEAR/{draw(st.integers(1, 5))} {draw(WORDS)}"
    return f"{draw(queries(depth + 1))} {kind} {draw(queries(depth + 1))}"


@settings(max_examples=150, deadline=None)
@given(queries(), st.text(alphabet="咖啡茶价格安全好 coffeta", max_size=30))
def test_valid_queries_parse_and_not_is_the_complement(query: str, text: str) -> None:
    assert matches(query, facts(text)) != matches(f"NOT ({query})", facts(text))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_any_input_parses_or_fails_with_a_column_inside_it(query: str) -> None:
    column = 1
    try:
        parse_query(query)
    except QuerySyntaxError as error:
        column = error.column
    assert 1 <= column <= len(query) + 1
