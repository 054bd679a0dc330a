"""Which platform's app a visitor's browser belongs to, from its user agent.

The platforms' apps open links in their own browsers and say so in the user agent; that is
the only sign a link's click carries of where it was clicked (the apps send no referrer).
The link-preview fetchers are the platforms' own crawlers: they fetch a shared link to draw
its card, and a click counted for them would be a click nobody made.
"""

from __future__ import annotations

# Catalog platform slug → substrings of the in-app browser's user agent (lower case), as the
# apps send them: WeChat "MicroMessenger/8.0…", Weibo "Weibo (iPhone…)" and "__weibo__8.x",
# Douyin "aweme_…" / "BytedanceWebview", Xiaohongshu "xhsdiscover", Bilibili "BiliApp",
# Kuaishou "Kwai", Zhihu "ZhihuHybrid", QQ "QQ/…" (matched last: it appears in other apps'
# user agents too), Alipay "AlipayClient".
IN_APP_BROWSERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wechat", ("micromessenger",)),
    ("weibo", ("__weibo__", "weibo (", "weibo/")),
    ("douyin", ("aweme", "bytedancewebview", "bytelocale")),
    ("xiaohongshu", ("xhsdiscover",)),
    ("bilibili", ("biliapp", "bilibili")),
    ("kuaishou", ("kwai",)),
    ("zhihu", ("zhihuhybrid", "zhihu")),
    ("alipay", ("alipayclient",)),
    ("qq", ("qq/", "mqqbrowser")),
)

# The platforms' own fetchers, which read a page to show it (a link card, a search index):
# WeChat's crawler says "mpcrawler" (WeChat's search optimisation guide).
PREVIEW_FETCHERS: tuple[str, ...] = ("mpcrawler",)


def in_app_platform(user_agent: str) -> str | None:
    """The catalog slug of the app whose browser sent ``user_agent``, if it is one."""
    lowered = user_agent.lower()
    for platform, markers in IN_APP_BROWSERS:
        if any(marker in lowered for marker in markers):
            return platform
    return None


def is_preview_fetcher(user_agent: str) -> bool:
    """Whether ``user_agent`` is a platform's own page fetcher rather than a person."""
    lowered = user_agent.lower()
    return any(marker in lowered for marker in PREVIEW_FETCHERS)
