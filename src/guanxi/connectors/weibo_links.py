"""Where people open a Weibo post: on weibo.com, or on the stand-in that serves the API.

The connector talks to ``GUANXI_WEIBO_API_BASE``. When that is Weibo's own API
(``api.weibo.com``), a post's page is ``https://weibo.com/{uid}/{mid}`` (its mobile page
``https://m.weibo.cn/status/{mid}`` when the author is not known). Any other base is a
stand-in (the platform sandbox, which serves each post's page at ``{base}/status/{mid}``),
so an "open on the platform" link shows the post where it was really published.
"""

from __future__ import annotations

from urllib.parse import urlsplit

WEIBO_API_HOST = "api.weibo.com"


def is_weibo(api_base: str) -> bool:
    """Whether ``api_base`` is Weibo's own API rather than a stand-in."""
    return (urlsplit(api_base).hostname or "").lower() == WEIBO_API_HOST


def status_url(api_base: str, post_id: str, uid: str = "") -> str:
    """The page of the post ``post_id`` (written by ``uid``, when known); "" without an id."""
    if not post_id:
        return ""
    if not is_weibo(api_base):
        return f"{api_base.rstrip('/')}/status/{post_id}"
    if uid:
        return f"https://weibo.com/{uid}/{post_id}"
    return f"https://m.weibo.cn/status/{post_id}"
