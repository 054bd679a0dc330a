"""The WeChat article sanitizer: only allowlisted markup survives hostile HTML."""

from __future__ import annotations

import pytest

from guanxi.connectors.wechat_html import sanitize_html, url_scheme

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="  JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)><circle/></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<p style="width: expression(alert(1))">x</p>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example"><input name=q><button>go</button></form>',
    "<body onload=alert(1)>x</body>",
    '<div onmouseover="alert(1)">hover</div>',
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    '<img """><script>alert(1)</script>">',
    "<!--<script>alert(1)</script>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<textarea><script>alert(1)</script></textarea>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<p title="&quot; onclick=&quot;alert(1)">x</p>',
    "<template><script>alert(1)</script></template>",
]


@pytest.mark.parametrize("html", HOSTILE)
def test_nothing_that_runs_survives(html: str) -> None:
    clean = sanitize_html(html).html.lower()

    assert "<script" not in clean
    assert "javascript:" not in clean
    assert "vbscript:" not in clean
    assert "data:" not in clean
    assert "expression(" not in clean
    assert "url(" not in clean
    for tag in (
        "<iframe",
        "<svg",
        "<math",
        "<style",
        "<object",
        "<embed",
        "<form",
        "<input",
        "<meta",
        "<base",
        "<textarea",
        "<noscript",
        "<template",
        "<body",
    ):
        assert tag not in clean
    assert " on" not in clean.replace("&quot; onclick", "")  # no event handler attribute


@pytest.mark.parametrize("html", HOSTILE)
def test_the_output_is_stable(html: str) -> None:
    """Sanitising the output again (as HTML) changes nothing: it is well-formed and
    allowlisted."""
    once = f"<section>{sanitize_html(html).html}</section>"

    assert sanitize_html(once).html == once


def test_allowed_markup_is_kept_and_escaped() -> None:
    html = (
        '<h2>新品</h2><p style="color: #c0392b; text-align: center">'
        '<strong>桃红</strong> &amp; <em>白</em> <a href="https://wine.example/a?x=1&amp;y=2" '
        'title="看看">链接</a></p><ul><li>一</li><li>二</li></ul>'
        '<img src="https://mmbiz.qpic.cn/a.jpg" alt="瓶" width="300">'
    )

    clean = sanitize_html(html)

    assert clean.html == html
    assert clean.removed == []
    assert clean.images == ["https://mmbiz.qpic.cn/a.jpg"]


def test_what_was_removed_is_reported() -> None:
    clean = sanitize_html('<p onclick="x()">a</p><script>b</script><font>c</font><!-- d -->')

    assert clean.html == "<p>a</p>c"
    assert clean.removed == ["on* event handler", "<script>", "<font>", "<!-- comment -->"]


def test_unclosed_and_misnested_tags_are_balanced() -> None:
    assert sanitize_html("<p><strong>a<em>b</p>c").html == "<p><strong>a<em>b</em></strong></p>c"
    assert sanitize_html("</p>text</strong>").html == "text"


def test_plain_text_becomes_paragraphs_escaped() -> None:
    assert sanitize_html("第一段\n\n第二段 1 < 2 & 3").html == (
        "<p>第一段</p><p>第二段 1 &lt; 2 &amp; 3</p>"
    )


def test_image_sources_are_rewritten() -> None:
    clean = sanitize_html(
        '<p><img src="bottle.jpg"></p>', rewrite_src={"bottle.jpg": "https://mmbiz.qpic.cn/b"}
    )

    assert clean.html == '<p><img src="https://mmbiz.qpic.cn/b"></p>'
    assert clean.images == ["bottle.jpg"]


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("https://a.example", "https"),
        ("photo.jpg", ""),
        ("java\tscript:x", "javascript"),
        (" \x00JAVASCRIPT:x", "javascript"),
        ("//evil.example/x", ""),
    ],
)
def test_url_scheme_reads_urls_as_browsers_do(url: str, scheme: str) -> None:
    assert url_scheme(url) == scheme
