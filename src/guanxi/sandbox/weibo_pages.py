"""The sandbox Weibo's post pages: what ``weibo.com/{uid}/{mid}`` shows, for people to open.

``GET /weibo/status/{mid}`` shows a post of a sandbox account (its text, its picture
uploaded with ``statuses/share``, its time and the audience's comments with the account's
replies) or a fan's post that mentions an account. guanxi's Weibo connector links here
when its API base is the sandbox (``guanxi.connectors.weibo_links``), so "open on the
platform" shows the post where it was published.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from guanxi.sandbox.app import MEDIA_PATH, sandbox_of
from guanxi.sandbox.audience import FanComment, engagement_of
from guanxi.sandbox.state import SandboxPost, SandboxState
from guanxi.sandbox.weibo_calls import PLATFORM, _find_post

BEIJING = timedelta(hours=8)
STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:640px;margin:2rem auto;"
    "padding:0 1rem}.card{border:1px solid #ddd;border-radius:8px;padding:.8rem 1rem}"
    ".meta{color:#666;font-size:.85rem}.pics img{max-width:100%;border-radius:6px;margin:.4rem 0}"
    ".comment{border-top:1px solid #eee;padding:.4rem 0}.reply{padding-left:1.5rem;color:#345}"
)


def _when(moment: datetime) -> str:
    """A time as Weibo shows it to people in China (Beijing time)."""
    return (moment.astimezone(UTC) + BEIJING).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · sandbox Weibo</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>",
        status_code=status,
    )


def _pictures(state: SandboxState, post: SandboxPost) -> str:
    """The post's pictures, served by the sandbox."""
    with state.lock:
        shown = [m for m in post.extra.get("media_ids", []) if m in state.media]
    return "".join(
        f'<img src="{MEDIA_PATH}/{html.escape(media_id)}" alt="{html.escape(post.text[:40])}">'
        for media_id in shown
    )


def _comments(comments: list[FanComment]) -> str:
    """The comments on a post, oldest first, the account's replies marked."""
    rows = "".join(
        f'<div class="comment{" reply" if c.by_account else ""}" '
        f'data-comment-id="{html.escape(c.comment_id)}"><b>{html.escape(c.author.name)}</b>'
        f'：{html.escape(c.text)} <span class="meta">{_when(c.created_at)}</span></div>'
        for c in comments
    )
    empty = "<p>还没有评论 · No comments yet.</p>"
    return f"<h2>评论 · Comments ({len(comments)})</h2>{rows or empty}"


def _post_page(state: SandboxState, post: SandboxPost) -> HTMLResponse:
    account = state.accounts.get((PLATFORM, post.account_id))
    name = account.name if account else post.account_id
    engagement = engagement_of(state)
    with state.lock:
        comments = [
            c
            for c in engagement.comments_on(PLATFORM, post.account_id)
            if c.post_id == post.post_id
        ]
    body = (
        f'<p><a href="/accounts/{PLATFORM}/{html.escape(post.account_id)}">'
        f"{html.escape(name)}</a></p>"
        f'<article class="card" data-post-id="{html.escape(post.post_id)}">'
        f'<p class="meta">{html.escape(name)} · {_when(post.created_at)}'
        f"{' · 已删除 deleted' if post.deleted else ''}</p>"
        f"<p>{html.escape(post.text)}</p>"
        f'<div class="pics">{_pictures(state, post)}</div></article>'
        f"{_comments(comments)}"
    )
    return _page(post.text[:30] or post.post_id, body)


def register(router: APIRouter) -> None:
    """Add the post pages to the Weibo surface's ``router``."""

    @router.get("/status/{post_id}", response_class=HTMLResponse)
    def status_page(request: Request, post_id: str) -> HTMLResponse:
        state = sandbox_of(request).state
        post = _find_post(state, post_id)
        if post is not None:
            return _post_page(state, post)
        engagement = engagement_of(state)
        with state.lock:
            mention = next((m for m in engagement.mentions if m.mention_id == post_id), None)
        if mention is None:
            return _page("404", "<h1>这条微博不存在 · No such post</h1>", status=404)
        body = (
            f'<article class="card" data-post-id="{html.escape(post_id)}">'
            f'<p class="meta">{html.escape(mention.author.name)} · '
            f"{_when(mention.created_at)}</p><p>{html.escape(mention.text)}</p></article>"
        )
        return _page(mention.text[:30], body)
