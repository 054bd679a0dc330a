"""The state of the sandbox's WeChat Official Account platform: accounts' server
configuration, tokens and quotas, drafts, publish jobs and the event pushes they end with.

The HTTP surface that serves it is ``guanxi.sandbox.wechat``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import httpx
from fastapi import Request

from guanxi.core.db import utcnow
from guanxi.sandbox.app import sandbox_of
from guanxi.sandbox.ratelimit import RateLimiter
from guanxi.sandbox.state import IssuedToken, SandboxAccount, SandboxPost
from guanxi.sandbox.state import SandboxState as State

PLATFORM = "wechat"
PREFIX = "/wechat"
BEIJING = ZoneInfo("Asia/Shanghai")
MINUTE_QUOTA_MESSAGE = "api minute-quota reach limit mustslower retry next minute"


@dataclass
class WechatLimits:
    """The sandbox's limits: small by default so tests and the demo can reach them.

    WeChat counts calls per API per app: a daily quota (reset at midnight Beijing time, or
    by ``clear_quota``; error 45009) and a per-minute limit (error 45011).
    """

    daily_quota: int = 1000
    minute_quota: int = 120
    token_lifetime_s: int = 7200
    publish_delay_s: float = 2.0  # how long a publish job stays "publishing"
    permanent_qr_max: int = 100_000  # QR_LIMIT_STR_SCENE codes an account may ever make
    wxacode_per_minute: int = 5000  # getwxacodeunlimit calls a minute (error 44990)


@dataclass
class OfficialAccount:
    """What the sandbox knows of an Official Account beyond the shared SandboxAccount."""

    app_id: str
    server_url: str = ""  # where events are pushed (服务器配置 URL); empty: no push
    server_token: str = ""  # the Token of the server configuration: signs the pushes
    publish_outcome: int = 0  # the publish_status jobs end with (0, 2, 3 or 4)
    denied_apis: set[str] = field(default_factory=set)  # answered with 48001
    token: str = ""  # the current cgi-bin/token token
    stable_token: str = ""  # the current cgi-bin/stable_token token


@dataclass
class PublishJob:
    """One freepublish/submit."""

    publish_id: str
    msg_data_id: str
    app_id: str
    articles: list[dict[str, Any]]
    finish_at: float  # time.monotonic() when the job ends
    outcome: int
    status: int = 1
    article_id: str = ""
    urls: list[str] = field(default_factory=list)
    post: SandboxPost | None = None


@dataclass
class Push:
    """One event push to an account's server, as it went."""

    url: str
    body: str
    status_code: int = 0
    answer: str = ""
    error: str = ""


@dataclass
class QrTicket:
    """A QR code ``qrcode/create`` made: what it encodes and until when."""

    app_id: str
    scene: str
    url: str
    expires_at: float | None  # time.time(); None for a permanent code


@dataclass
class Follower:
    """A follower of an account as ``user/info`` tells it."""

    subscribe_time: int
    subscribe_scene: str = "ADD_SCENE_OTHERS"
    qr_scene_str: str = ""


class RefusedError(Exception):
    """A call WeChat refuses, with its errcode and errmsg."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


def sign(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's signature of a server push: SHA-1 of the sorted, joined three values."""
    joined = "".join(sorted([token, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324 - WeChat's scheme


def beijing_today() -> date:
    """The day in Beijing, which is what WeChat's daily quotas count."""
    return datetime.now(BEIJING).date()


@dataclass
class WechatSandbox:
    """The WeChat surface's own state: accounts' server configuration, drafts, jobs."""

    limits: WechatLimits = field(default_factory=WechatLimits)
    accounts: dict[str, OfficialAccount] = field(default_factory=dict)
    drafts: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    draft_times: dict[str, int] = field(default_factory=dict)  # media_id → update_time (unix s)
    jobs: dict[str, PublishJob] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)  # uploadimg / material bytes
    pushes: list[Push] = field(default_factory=list)
    tickets: dict[str, QrTicket] = field(default_factory=dict)
    followers: dict[tuple[str, str], Follower] = field(default_factory=dict)  # (app, openid)
    daily_calls: dict[tuple[str, str, date], int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(2247483647))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def add_account(
        self, state: State, *, app_id: str, secret: str, name: str, server_token: str = ""
    ) -> OfficialAccount:
        """Register an Official Account with its AppSecret and server Token."""
        state.add_account(SandboxAccount(PLATFORM, app_id, name, secret=secret))
        account = OfficialAccount(app_id=app_id, server_token=server_token)
        with self.lock:
            self.accounts[app_id] = account
        return account

    def configure_server(self, app_id: str, *, url: str, token: str) -> None:
        """Set where the account's events are pushed, and the Token that signs them."""
        with self.lock:
            self.accounts[app_id].server_url = url
            self.accounts[app_id].server_token = token

    def next_id(self) -> str:
        """A fresh numeric id (publish_id, msg_data_id, media ids' stem)."""
        with self.lock:
            return str(next(self._ids))

    # --- tokens and quotas -------------------------------------------------------------

    def issue(self, state: State, app_id: str, *, stable: bool) -> IssuedToken:
        """A new token for the app; the previous one of the same kind stops working."""
        lifetime = timedelta(seconds=self.limits.token_lifetime_s)
        token = state.issue_token(
            platform=PLATFORM, account_id=app_id, client_id=app_id, lifetime=lifetime
        )
        with self.lock, state.lock:
            account = self.accounts[app_id]
            previous = account.stable_token if stable else account.token
            if previous in state.tokens:
                state.tokens[previous].revoked = True
            if stable:
                account.stable_token = token.token
            else:
                account.token = token.token
        return token

    def count_call(self, app_id: str, api: str, limiter: RateLimiter) -> None:
        """Count one call of ``api`` by the app; raise when a quota is spent."""
        key = (app_id, api, beijing_today())
        with self.lock:
            self.daily_calls[key] = self.daily_calls.get(key, 0) + 1
            over = self.daily_calls[key] > self.limits.daily_quota
        if over:
            raise RefusedError(45009, "reach max api daily quota limit")
        if not limiter.hit(f"wechat:{app_id}:{api}", limit=self.limits.minute_quota, window_s=60):
            raise RefusedError(45011, MINUTE_QUOTA_MESSAGE)

    def clear_quota(self, app_id: str) -> None:
        """Reset the app's daily counts (what ``cgi-bin/clear_quota`` does)."""
        with self.lock:
            for key in [k for k in self.daily_calls if k[0] == app_id]:
                del self.daily_calls[key]

    def authorize(self, request: Request, api: str) -> str:
        """The AppID behind the call's access_token, after permission and quota checks."""
        sandbox = sandbox_of(request)
        value = request.query_params.get("access_token", "")
        if not value:
            raise RefusedError(41001, "access_token missing")
        token = sandbox.state.token(PLATFORM, value)
        if token is None:
            raise RefusedError(40014, "invalid access_token")
        if token.revoked:
            raise RefusedError(40001, "invalid credential, access_token is invalid or not latest")
        if not token.valid(utcnow()):
            raise RefusedError(42001, "access_token expired")
        with self.lock:
            denied = api in self.accounts[token.account_id].denied_apis
        if denied:
            raise RefusedError(48001, "api unauthorized")
        self.count_call(token.account_id, api, sandbox.limiter)
        return token.account_id

    # --- publish jobs --------------------------------------------------------------------

    def settle(self, state: State, job: PublishJob, base_url: str) -> None:
        """End the job if its time has come (idempotent)."""
        with self.lock:
            if job.status != 1 or time.monotonic() < job.finish_at:
                return
            job.status = job.outcome
            if job.status == 0:
                job.article_id = secrets.token_urlsafe(24)
                job.urls = [
                    f"{base_url}{PREFIX}/s/{job.article_id}?idx={i}"
                    for i in range(1, len(job.articles) + 1)
                ]
        if job.post is not None:
            with state.lock:
                job.post.status = "published" if job.status == 0 else f"failed ({job.status})"
                if job.status == 0:
                    job.post.post_id = job.article_id
                    job.post.extra["url"] = job.urls[0]

    def job_json(self, job: PublishJob) -> dict[str, Any]:
        """freepublish/get's answer for the job."""
        body: dict[str, Any] = {"publish_id": job.publish_id, "publish_status": job.status}
        if job.status in {0, 5, 6}:
            body["article_id"] = job.article_id
            body["article_detail"] = {
                "count": len(job.urls),
                "item": [{"idx": i, "article_url": u} for i, u in enumerate(job.urls, 1)],
            }
        if job.status in {2, 3, 4}:
            body["fail_idx"] = list(range(1, len(job.articles) + 1))
        return body

    def event_xml(self, job: PublishJob) -> str:
        """The PUBLISHJOBFINISH event of the job, as WeChat pushes it."""
        items = "".join(
            f"<item><idx>{i}</idx><article_url><![CDATA[{u}]]></article_url></item>"
            for i, u in enumerate(job.urls, 1)
        )
        fails = "".join(f"<fail_idx>{i}</fail_idx>" for i in self.job_json(job).get("fail_idx", []))
        return (
            f"<xml><ToUserName><![CDATA[gh_{job.app_id[2:14]}]]></ToUserName>"
            f"<FromUserName><![CDATA[{escape(job.app_id)}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event>"
            f"<PublishEventInfo><publish_id>{job.publish_id}</publish_id>"
            f"<publish_status>{job.status}</publish_status>"
            f"<article_id><![CDATA[{job.article_id}]]></article_id>"
            f"<article_detail><count>{len(job.urls)}</count>{items}</article_detail>"
            f"{fails}</PublishEventInfo></xml>"
        )

    def start(self, state: State, job: PublishJob, base_url: str) -> None:
        """Follow a submitted job: it ends after the delay, then its event is pushed.

        Called from a request handler: the job runs on the sandbox server's event loop.
        """
        task = asyncio.get_running_loop().create_task(self.finish_later(state, job, base_url))
        with self.lock:
            self.jobs[job.publish_id] = job
            self._tasks.add(task)  # a reference, so the task is not collected while it waits
        task.add_done_callback(self._tasks.discard)

    def end_after_success(self, publish_id: str, status: int) -> None:
        """Make a published job end as deleted (5) or banned (6), as moderation would."""
        with self.lock:
            self.jobs[publish_id].status = status
            post = self.jobs[publish_id].post
        if post is not None:
            post.deleted = True

    async def finish_later(self, state: State, job: PublishJob, base_url: str) -> None:
        """Wait for the job to end, then push its event to the account's server.

        ``finish_at`` is read again as the job waits, so a test (or the demo) that moves it
        ends the job then, not at the time set when it was submitted.
        """
        # Polled, not an asyncio.Event: the time is moved from other threads (tests, demo).
        while (left := job.finish_at - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(left, 0.05))
        self.settle(state, job, base_url)
        with self.lock:
            account = self.accounts[job.app_id]
            url, token = account.server_url, account.server_token
        if url:
            await self.push(url, token, self.event_xml(job))

    async def push(self, url: str, token: str, body: str) -> Push:
        """POST ``body`` signed with ``token``; retried three times as WeChat does."""
        record = Push(url=url, body=body)
        with self.lock:
            self.pushes.append(record)
        async with httpx.AsyncClient(timeout=5.0) as client:
            for attempt in range(3):
                timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
                params = {
                    "signature": sign(token, timestamp, nonce),
                    "timestamp": timestamp,
                    "nonce": nonce,
                    "openid": "o" + secrets.token_urlsafe(20),
                }
                try:
                    answer = await client.post(
                        url,
                        params=params,
                        content=body.encode("utf-8"),
                        headers={"content-type": "text/xml"},
                    )
                except httpx.HTTPError as exc:
                    record.error = repr(exc)
                else:
                    record.status_code, record.answer = answer.status_code, answer.text
                    if answer.status_code == 200:
                        return record
                await asyncio.sleep(0.2 * (attempt + 1))
        return record
