"""The Chinese-first checks as pure functions: language, script, links, hashtags, the
pipeline; real Weibo texts show the checks do not cry wolf."""

from __future__ import annotations

from pathlib import Path

import pytest

from guanxi.channels.models import ChannelAudience
from guanxi.checks.findings import CheckedField, Finding, Span, highlight
from guanxi.checks.hashtags import find_tags
from guanxi.checks.language import language_mix
from guanxi.checks.links import unreachable_domain
from guanxi.checks.script import Conversion, convert, foreign_script_positions
from guanxi.checks.service import run_checks
from guanxi.checks.words import EMPTY_WORD_LIST, CompiledWordList, default_entries
from guanxi.connectors.base import HashtagStyle, Severity

WEIBO_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "weibo_topics"
# A few real Weibo posts (from ../shared/data/weibo_topics), kept here so the
# no-false-alarm tests also run where that folder is absent.
WEIBO_SAMPLES = [
    "洗完澡吹着风 听着周杰伦的‘七里香’感觉太好了 \u200b",
    "high爆！！在ktv唱歌唱到现在！！我和杜杜唱到周杰伦的歌就疯狂跳舞！ ！ \u200b",
    "“你好，我叫杨扬”近日爱笑 很温柔“有没有想我？我想你了”#不能说的秘密-周杰伦[音乐]# \u200b",
    "就到这吧 谢谢你  {%#晴天-周杰伦[音乐]#%} \u200b",
    "周杰伦/杨瑞代《我要夏天》 {%我要夏天%} @QQ音乐 \u200b",
]
# The corpus posts that really are written in Traditional characters (checked by hand:
# 我們的畢業展, 身體健康沒煩惱, 慶祝…111週年, 我的認真敗給, the brand 時装笔记, 反覆无常).
TRADITIONAL_IDS = {
    "4243361726369472",
    "4243212522675462",
    "4241904596110500",
    "4243346517999936",
    "4243327391825241",
    "4243509555252321",
}
# The corpus posts with a single-hash tag, which Weibo does not link as a topic.
SINGLE_HASH_IDS = {"4243363047435641", "4243359357005041"}


def weibo_posts() -> list[tuple[str, str]]:
    """(id, text) of every post in the Weibo corpus."""
    if not WEIBO_DIR.is_dir():
        pytest.skip(f"the Weibo corpus is not at {WEIBO_DIR}")
    posts = []
    for path in sorted(WEIBO_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            post_id, _, text = line.split(",", 2)
            posts.append((post_id, text))
    return posts


def check(text: str, **kwargs: object) -> list[Finding]:
    """``run_checks`` for a Weibo account of a mainland audience, with no word list."""
    options: dict[str, object] = {
        "audience": ChannelAudience.MAINLAND,
        "hashtag_style": HashtagStyle.DOUBLE_HASH,
        "words": EMPTY_WORD_LIST,
    }
    options.update(kwargs)
    return run_checks(text=text, **options)  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


# --- Language ------------------------------------------------------------------------------


def test_mostly_english_text_for_the_mainland_is_a_warning_with_the_english_highlighted() -> None:
    text = "Our new collection is here! Visit the store this weekend 周末见"
    [finding] = check(text)
    assert finding.code == "language.mostly_english"
    assert finding.severity is Severity.WARNING
    assert "mostly English" in finding.translated(str)
    highlighted = "".join(text[span.start : span.end] for span in finding.spans)
    assert "Our new collection is here" in highlighted
    assert "周末见" not in highlighted


@pytest.mark.parametrize("audience", [ChannelAudience.HONG_KONG, ChannelAudience.TAIWAN])
def test_hong_kong_and_taiwan_readers_are_also_warned(audience: ChannelAudience) -> None:
    findings = check("Our new collection is here! Visit the store this weekend.", audience=audience)
    assert "language.mostly_english" in codes(findings)


def test_english_for_an_overseas_audience_is_fine() -> None:
    text = "Our new collection is here! Visit the store this weekend."
    assert check(text, audience=ChannelAudience.OVERSEAS) == []


def test_urls_mentions_hashtags_and_numbers_do_not_count_as_english() -> None:
    """Given a Chinese post full of links, mentions, tags and numbers in Latin letters,
    it is still Chinese."""
    text = (
        "新品上市，快来看看 https://www.example.cn/products/spring-collection-2024 "
        "@BrandOfficialAccount #SpringCollectionLaunch# 限量 1000 件，2.5折起"
    )
    mix = language_mix(text)
    assert mix.latin == 0
    assert mix.han == 13
    assert check(text) == []


def test_chinese_with_a_few_english_words_is_not_flagged() -> None:
    assert check("今天的OOTD来自我们的新系列，style满分，周末来店里试穿吧！") == []


def test_real_weibo_posts_are_not_mostly_english() -> None:
    """No Weibo post of the corpus that is mostly Chinese is flagged; those flagged really
    are mostly Latin letters."""
    for post_id, text in weibo_posts():
        findings = [f for f in check(text) if f.code == "language.mostly_english"]
        mix = language_mix(text)
        if findings:
            assert mix.latin > 2.5 * mix.han, (post_id, text)
        else:
            assert not mix.mostly_english


# --- Script ------------------------------------------------------------------------------


def test_traditional_characters_on_a_mainland_account_are_flagged_with_their_spans() -> None:
    text = "新品上市，歡迎光臨！"
    [finding] = check(text)
    assert finding.code == "script.traditional"
    assert finding.params["conversion"] == "t2s"
    assert [text[s.start : s.end] for s in finding.spans] == ["歡", "臨"]


def test_simplified_characters_on_a_hong_kong_account_are_flagged() -> None:
    text = "新品上市，欢迎光临！"
    [finding] = check(text, audience=ChannelAudience.HONG_KONG)
    assert finding.code == "script.simplified"
    assert finding.params["conversion"] == "s2hk"
    assert [text[s.start : s.end] for s in finding.spans] == ["欢", "临"]


def test_taiwan_accounts_are_offered_the_taiwan_conversion() -> None:
    [finding] = check("软件更新了", audience=ChannelAudience.TAIWAN)
    assert finding.params["conversion"] == "s2tw"


def test_traditional_text_on_a_taiwan_account_passes() -> None:
    assert check("我們住在這裡，裡面很溫暖。", audience=ChannelAudience.TAIWAN) == []


def test_context_decides_ambiguous_characters() -> None:
    """皇后 (empress) is the same in both scripts; 以后 is Simplified for 以後."""
    assert foreign_script_positions("皇后", traditional=False) == []
    assert foreign_script_positions("以后", traditional=False) == [1]


def test_names_in_mentions_and_topics_are_not_flagged() -> None:
    assert check("{%#第一會客室#%} 今天的访谈 @乾什么与") == []


def test_real_simplified_weibo_posts_pass_the_script_check() -> None:
    """Every corpus post passes for a mainland account except the six written in
    Traditional characters."""
    flagged = {
        post_id
        for post_id, text in weibo_posts()
        if "script.traditional" in codes(check(text, hashtag_style=HashtagStyle.SINGLE_HASH))
    }
    assert flagged == TRADITIONAL_IDS


def test_weibo_samples_pass_every_check() -> None:
    for text in WEIBO_SAMPLES:
        assert check(text) == [], text


@pytest.mark.parametrize(
    ("conversion", "source", "expected"),
    [
        (Conversion.T2S, "頭髮乾了，歡迎光臨", "头发干了，欢迎光临"),
        (Conversion.S2T, "欢迎光临，以后再说", "歡迎光臨，以後再說"),
        (Conversion.S2TWP, "软件开发", "軟體開發"),
        (Conversion.S2TW, "软件开发", "軟件開發"),
        (Conversion.S2HK, "软件开发", "軟件開發"),
    ],
)
def test_opencc_converts_offline(conversion: Conversion, source: str, expected: str) -> None:
    assert convert(source, conversion) == expected


# --- Links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("youtube.com", "youtube.com"),
        ("m.youtube.com", "youtube.com"),
        ("www.google.com.hk", "google.com.hk"),
        ("google.de", "google.de"),
        ("maps.google.co.jp", "google.co.jp"),
        ("t.co", "t.co"),
        ("zh.wikipedia.org", "wikipedia.org"),
        ("x.com", "x.com"),
    ],
)
def test_listed_domains_match_their_subdomains(host: str, domain: str) -> None:
    assert unreachable_domain(host) == domain


@pytest.mark.parametrize(
    "host", ["baidu.com", "weibo.com", "mp.weixin.qq.com", "box.com", "googlechina.cn.example"]
)
def test_other_domains_do_not_match(host: str) -> None:
    assert unreachable_domain(host) is None


def test_links_to_blocked_sites_are_flagged_for_the_mainland_only() -> None:
    text = (
        "新品视频看这里：https://www.youtube.com/watch?v=abc123，详情见 t.co/xyz 和 weibo.com/123"
    )
    findings = check(text)
    assert sorted(codes(findings)) == ["links.unreachable:t.co", "links.unreachable:youtube.com"]
    youtube = next(f for f in findings if f.code == "links.unreachable:youtube.com")
    [span] = youtube.spans
    assert text[span.start : span.end] == "https://www.youtube.com/watch?v=abc123"
    assert "cannot be opened from mainland China" in youtube.translated(str)
    hong_kong = check(text, audience=ChannelAudience.HONG_KONG)
    assert not [code for code in codes(hong_kong) if code.startswith("links.")]


def test_the_link_field_is_checked_too() -> None:
    [finding] = check("新品上市", link="https://instagram.com/brand")
    assert finding.code == "links.unreachable:instagram.com"
    assert finding.spans == (Span(CheckedField.LINK, 0, len("https://instagram.com/brand")),)
    assert codes(check("新品上市", link="facebook.com")) == ["links.unreachable:facebook.com"]


# --- Hashtags ----------------------------------------------------------------------------


def test_weibo_topics_are_double_hash() -> None:
    assert check("今天 #周杰伦# 好听") == []
    text = "#新品上市 快来看看"
    [finding] = check(text)
    assert finding.code == "hashtags.unclosed"
    assert "#新品上市#" in finding.translated(str)
    assert [text[s.start : s.end] for s in finding.spans] == ["#新品上市"]


def test_single_hash_platforms_flag_a_weibo_style_pair() -> None:
    style = HashtagStyle.SINGLE_HASH
    assert check("今天好开心 #周末 #美食", hashtag_style=style) == []
    [finding] = check("今天好开心 #周末# 出去玩", hashtag_style=style)
    assert finding.code == "hashtags.double_hash"
    assert "#周末 " in finding.translated(str)


def test_wechat_articles_flag_every_hashtag() -> None:
    [finding] = check("今天 #周末# 和 #美食", hashtag_style=HashtagStyle.NONE)
    assert finding.code == "hashtags.not_supported"
    assert finding.params["count"] == 2


def test_hashes_that_open_no_tag_are_ignored() -> None:
    assert find_tags("学 C# 语言 https://example.cn/a#b &#123; # 单独一个") == []


def test_real_weibo_posts_have_no_hashtag_false_alarms() -> None:
    """Only the two corpus posts with a real single-hash tag are flagged."""
    flagged = {
        post_id for post_id, text in weibo_posts() if "hashtags.unclosed" in codes(check(text))
    }
    assert flagged == SINGLE_HASH_IDS


# --- The pipeline --------------------------------------------------------------------------


def test_errors_come_first_and_highlighting_prefers_errors() -> None:
    words = CompiledWordList(default_entries())
    text = "最佳選擇 https://youtube.com/x"
    findings = run_checks(
        text=text,
        title="",
        link="",
        audience=ChannelAudience.MAINLAND,
        hashtag_style=HashtagStyle.DOUBLE_HASH,
        words=words,
    )
    assert findings[0].severity is Severity.ERROR
    assert findings[0].code == "words.hit:最佳"
    assert {"script.traditional", "links.unreachable:youtube.com"} <= set(codes(findings))
    assert "words.hit:最" not in codes(findings)  # inside 最佳: the longest match is kept
    segments = highlight(text, findings, CheckedField.TEXT)
    assert segments[0].text == "最佳"
    assert segments[0].severity == "error"
    assert segments[1].text == "選擇"
    assert segments[1].severity == "warning"


def test_findings_round_trip_through_json() -> None:
    [finding] = check("新品上市，歡迎光臨！")
    assert Finding.from_dict(finding.to_dict()) == finding
