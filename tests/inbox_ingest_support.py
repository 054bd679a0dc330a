"""Helpers for the inbox ingest and reply tests: an in-process sandbox, real connectors on it,
and the sandbox's demo accounts connected as channels of a test workspace."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel
from guanxi.channels.service import channel_context, create_channel
from guanxi.connectors.base import ChannelContext, Connector, ConnectorConfig, Token
from guanxi.connectors.douyin import DouyinConnector
from guanxi.connectors.wechat_oa import WechatOaConnector
from guanxi.connectors.weibo import WeiboConnector
from guanxi.core.db import utcnow
from guanxi.core.security import SecretBox
from guanxi.sandbox import douyin, wechat, weibo
from guanxi.sandbox.app import Sandbox, create_sandbox_app
from guanxi.sandbox.state import SandboxPost
from guanxi.sandbox.wechat import surface_of
from guanxi.sandbox.wechat_state import PublishJob, WechatSandbox

BASE = "http://sandbox.test"


@dataclass
class Stack:
    """The sandbox app, a client into it (in-process), and connectors using that client."""

    app: FastAPI
    http: TestClient
    wechat: WechatSandbox

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox's state, faults and limiter."""
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    def connector(self, name: str) -> Connector:
        """The real connector ``name`` pointed at the in-process sandbox."""
        if name == "weibo":
            config = ConnectorConfig(
                base_url=f"{BASE}/weibo",
                http=self.http,
                app_id=weibo.DEMO_APP_KEY,
                app_secret=weibo.DEMO_APP_SECRET,
            )
            return WeiboConnector(config, safe_domain=weibo.DEMO_SAFE_DOMAIN)
        if name == "wechat_oa":
            return WechatOaConnector(ConnectorConfig(base_url=f"{BASE}/wechat", http=self.http))
        config = ConnectorConfig(
            base_url=f"{BASE}/douyin",
            http=self.http,
            app_id=douyin.DEMO_DOUYIN_CLIENT_KEY,
            app_secret=douyin.DEMO_DOUYIN_CLIENT_SECRET,
        )
        return DouyinConnector(config)

    def publish(self, platform: str, account_id: str, text: str, **extra: object) -> SandboxPost:
        """A post of the account, as if published (the audience reacts to it)."""
        state = self.sandbox.state
        post = SandboxPost(
            platform=platform,
            account_id=account_id,
            post_id=state.next_id(),
            text=text,
            created_at=utcnow(),
            extra=dict(extra),
        )
        return state.add_post(post)

    def publish_article(self, title: str, text: str) -> PublishJob:
        """A published article of the demo Official Account (its job already ended well)."""
        state, article_id = self.sandbox.state, f"ARTICLE_{self.wechat.next_id()}"
        post = SandboxPost(
            platform="wechat",
            account_id=wechat.DEMO_WECHAT_APPID,
            post_id=article_id,
            text=text,
            title=title,
            created_at=utcnow(),
        )
        job = PublishJob(
            publish_id=self.wechat.next_id(),
            msg_data_id=self.wechat.next_id(),
            app_id=wechat.DEMO_WECHAT_APPID,
            articles=[{"title": title, "content": text}],
            finish_at=0.0,
            outcome=0,
            status=0,
            article_id=article_id,
            urls=[f"{BASE}/wechat/s/{article_id}?idx=1"],
            post=post,
        )
        with self.wechat.lock:
            self.wechat.jobs[job.publish_id] = job
        state.add_post(post)
        return job

    def tick(self, comments: int = 3) -> dict[str, int]:
        """One round of the sandbox audience."""
        answer = self.http.post("/_sandbox/audience/tick", params={"comments": comments})
        assert answer.status_code == 200, answer.text
        result: dict[str, int] = answer.json()
        return result


def make_stack(seed: int = 7) -> Stack:
    """A fresh sandbox with its demo accounts, and a client into it."""
    wechat_sandbox = WechatSandbox()
    served = [douyin.douyin_surface(), surface_of(wechat_sandbox), weibo.weibo_surface()]
    app = create_sandbox_app(seed=seed, platform_surfaces=served)
    return Stack(app=app, http=TestClient(app, base_url=BASE), wechat=wechat_sandbox)


def connect_demo(db: Session, *, workspace: Workspace, box: SecretBox, name: str) -> Channel:
    """Connect the sandbox's demo account of connector ``name`` to ``workspace``."""
    if name == "weibo":
        channel = create_channel(
            db,
            workspace=workspace,
            connector="weibo",
            platform="weibo",
            external_id=weibo.DEMO_WEIBO_UID,
            name=weibo.DEMO_WEIBO_NAME,
            credentials={},
            box=box,
            actor=None,
            token=Token(weibo.DEMO_WEIBO_TOKEN, None),
        )
    elif name == "wechat_oa":
        channel = create_channel(
            db,
            workspace=workspace,
            connector="wechat_oa",
            platform="wechat",
            external_id=wechat.DEMO_WECHAT_APPID,
            name=wechat.DEMO_WECHAT_NAME,
            credentials={
                "app_id": wechat.DEMO_WECHAT_APPID,
                "app_secret": wechat.DEMO_WECHAT_SECRET,
                "server_token": wechat.DEMO_WECHAT_SERVER_TOKEN,
            },
            box=box,
            actor=None,
        )
    else:
        channel = create_channel(
            db,
            workspace=workspace,
            connector="douyin",
            platform="douyin",
            external_id=douyin.DEMO_DOUYIN_OPEN_ID,
            name=douyin.DEMO_DOUYIN_NAME,
            credentials={"refresh_token": douyin.DEMO_DOUYIN_REFRESH_TOKEN},
            box=box,
            actor=None,
            token=Token(douyin.DEMO_DOUYIN_TOKEN, None),
        )
    db.commit()
    return channel


def context_of(channel: Channel, sessions: sessionmaker[Session], box: SecretBox) -> ChannelContext:
    """The channel's context with its token in the test database."""
    return channel_context(channel, sessions=sessions, box=box, owner="test")
