"""The crawler list's verdict through its automata is ``crawlerdetect``'s own, on agents made
from every pattern of its list and on browsers' agents."""

from __future__ import annotations

import re

import pytest
from crawlerdetect import CrawlerDetect
from crawlerdetect.providers.crawlers import data as crawler_patterns
from crawlerdetect.providers.exclusions import data as exclusion_patterns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.convert.crawlers import CrawlerList, _Alternatives, crawler_list, required_texts

LIBRARY = CrawlerDetect()
# Browsers people click from, in the shapes their agents take (versions vary below).
BROWSERS = (
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 MicroMessenger/8.0.{n} NetType/WIFI Language/zh_CN"
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S9180 Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/116.0.{n}.0 Mobile Safari/537.36 XWEB/1160065 "
        "MMWEBSDK/20231202 MMWEBID/{n} MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 "
        "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
    ),
    (
        "Mozilla/5.0 (Linux; Android 12; V2183A Build/SP1A.210812.003; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/97.0.4692.98 Mobile Safari/537.36 Weibo "
        "(vivo-V2183A__weibo__13.{n}.1__android__android12)"
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_{n} like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 aweme_26.{n}.0 JsSdk/2.0 NetType/WIFI Channel/App Store "
        "ByteLocale/zh Region/CN AppTheme/light"
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 discover/8.{n}.1 XiaoHongShu NetType/WIFI"
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.{n}.0 Safari/537.36 Edg/120.0.{n}.0"
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_{n}) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.{n} Safari/605.1.15"
    ),
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.{n}",
    (
        "Mozilla/5.0 (iPad; CPU OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/120.0.{n}.0 Mobile/15E148 Safari/604.1"
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 10; zh-cn; MI 9 Build/QKQ1.190825.002) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/89.0.4389.116 Mobile Safari/537.36 "
        "XiaoMi/MiuiBrowser/16.{n}.2"
    ),
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko Core/1.{n}",
)


def _same_verdict(agent: str) -> None:
    assert crawler_list().is_crawler(agent) is LIBRARY.is_crawler(agent), agent


@pytest.mark.parametrize("template", BROWSERS)
def test_browsers_are_people_as_the_library_says(template: str) -> None:
    for n in range(12):
        agent = template.format(n=n)
        _same_verdict(agent)
        assert not crawler_list().is_crawler(agent)


def test_every_pattern_of_the_list_is_found_in_a_browsers_agent_as_the_library_finds_it() -> None:
    """Given each crawler pattern's required text, alone, inside a browser's agent, with a
    letter changed, and in capitals, then the verdict is the library's (mostly crawlers)."""
    crawlers = 0
    for index, pattern in enumerate(crawler_patterns):
        texts = required_texts(pattern)
        assert texts, f"{pattern} has no required text: it would be tried on every agent"
        text = min(texts)
        browser = BROWSERS[index % len(BROWSERS)].format(n=index % 10)
        changed = text[:-1] + ("x" if text[-1] != "x" else "y")
        for agent in (text, f"{browser} {text}/1.0", f"{browser} {changed}", text.upper()):
            verdict = crawler_list().is_crawler(agent)
            assert verdict is LIBRARY.is_crawler(agent), agent
            crawlers += verdict
    assert crawlers > len(crawler_patterns) * 2  # the sample is mostly crawlers


_PATTERNS = st.sampled_from([*crawler_patterns, *exclusion_patterns])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pattern=_PATTERNS,
    data=st.data(),
    browser=st.sampled_from(BROWSERS),
    where=st.sampled_from(["alone", "before", "after", "inside"]),
)
def test_agents_drawn_from_the_lists_patterns_get_the_librarys_verdict(
    pattern: str, data: st.DataObject, browser: str, where: str
) -> None:
    """Any string a pattern of either list matches (with text around it, any characters),
    placed in a browser's agent, gets the same verdict."""
    drawn = data.draw(st.from_regex(re.compile(pattern, re.IGNORECASE)))
    agent = browser.format(n=3)
    agent = {
        "alone": drawn,
        "before": f"{drawn} {agent}",
        "after": f"{agent}{drawn}",
        "inside": agent.replace("(KHTML", f"{drawn}(KHTML"),
    }[where]
    _same_verdict(agent)


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "   ",
        "Mozilla/5.0",
        "Safari",
        "Googlebot/2.1",
        "GOOGLEBOT",
        "Ｇooglebot 百度 spider",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        (
            "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 "
            "Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)"
        ),
        "python-requests/2.31",
        "curl/8.5.0",
        "Wget/1.21",
        "WeChat 微信 MicroMessenger/8.0",
        "Mozilla/5.0 (iPhone) ſpider",
        "K bot",
    ],
)
def test_edge_agents_get_the_librarys_verdict(agent: str) -> None:
    _same_verdict(agent)


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        ("Googlebot", {"googlebot"}),
        (r"^Ruby|Ruby\/[0-9]", {"ruby", "ruby/"}),  # one of the two branches' texts
        (r"(like )?Gecko(.[\d\.]*)?", {"gecko"}),
        (r"[ ]Intel", {" intel"}),  # a class of one character is that character
        (r"(bing|yandex)bot", {"bing", "yandex"}),
        (r"x86_..", {"x86_"}),
        (r"[0-9]+", None),
        (r"a?b", {"b"}),
        (r"a?b?", None),
    ],
)
def test_the_text_a_pattern_needs(pattern: str, texts: set[str] | None) -> None:
    assert required_texts(pattern) == (frozenset(texts) if texts is not None else None)


def test_a_pattern_without_a_required_text_is_always_tried() -> None:
    alternatives = _Alternatives(["Googlebot", r"[0-9]{3}x?"])

    assert alternatives.possible("mozilla") == {1}
    assert alternatives.possible("googlebot/2.1") == {0, 1}


def test_one_list_per_process() -> None:
    assert crawler_list() is crawler_list()
    assert isinstance(crawler_list(), CrawlerList)
